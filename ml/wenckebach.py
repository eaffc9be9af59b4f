"""Second-degree AV block, Mobitz I (Wenckebach): the PR lengthens beat by beat until a P
wave is not conducted, and the cycle starts again.

Found by what defines it, beat by beat: around a long RR interval between two conducted beats,
the P waves keep marching (the P-to-P interval across the long cycle is about twice the
atrial cycle: one P wave went unanswered) while the PR before the long cycle is clearly longer
than the PR after it. No other common rhythm does both: sinus arrhythmia and sinoatrial block
keep the PR, a blocked atrial premature beat comes early (its P-to-P across the pause is no
double), and atrial fibrillation has no P wave to march.

Why: 40 synthetic Wenckebach rhythms (3:2 to 5:4, 66-95 /min, 1-12 leads, 10-120 s) were
each read without any AV-block finding, as "sinus rhythm" with dozens of "atrial premature
beats" (the beats after each long cycle look early), and 4 of them as atrial fibrillation
(their PR varies, so the P region before each QRS changes, and their RR is irregular).
Now 34 of those 40 read the block (1 AF); of the 1,633 non-DS2 reads of MIT-BIH DS1, svdb,
the QT Database, nstdb and cinc2017 one fires (cinc2017 A08290, grouped beating labelled AF),
and no DS2 record does (README, "Mobitz I (Wenckebach)").

Each beat's P wave is located by matching the P wave of the beats that follow long cycles
(the first beat of a Wenckebach group; their PR is the shortest and alike) in the 0.5-15 Hz
band, `ml.atrial.P_BAND_HZ`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.dsp import median, percentile
from ml.strip_rhythm import AF, OTHER, StripCall, another_rhythm

LONG_CYCLE_RATIO = 1.3  # an RR at least this times the lower quartile of conducted RRs
MAX_LONG_CYCLE_S = 3.0  # longer is no Wenckebach cycle: two atrial cycles at 40 /min
DOUBLE_ATRIAL_CYCLE = (1.75, 2.25)  # P to P across the long cycle, in atrial cycles
PR_SHORTENING_S = 0.04  # PR before the long cycle minus PR after it, at least
P_SEARCH_S = (-0.50, -0.07)  # where a beat's P-wave peak is looked for, from its R peak
P_HALF_WIDTH_S = 0.05  # the matched part of the P wave: its peak +- this
P_MATCH = 0.8  # normalised correlation of a beat's P wave with the template, at least
P_SIZE = (0.5, 2.0)  # a beat's P wave against the template's size (least-squares gain)
ATRIAL_STEADY = 0.12  # each P-to-P on either side within this share of the atrial cycle
FIRST_PR_SPREAD_S = 0.03  # the PR after each long cycle within this of their median
CYCLE_SHARE = 0.5  # of the long cycles between the first and last found, at least this share
P_MIN_MV = 0.03  # a template P wave smaller than this is not told from noise
MIN_CYCLES = 2  # one such cycle may be chance; two make the pattern
CONDUCTED = ("N", "S")
GROUP_REACH_S = 5.0  # a group's beats lie this close to its long cycles, at most

PR_REASON = "the PR changes from beat to beat (second-degree AV block, Mobitz I)"
STRIP_REASON = (
    "P waves at a steady rate, the PR lengthening until one is not conducted: second-degree "
    "AV block, Mobitz I (Wenckebach)"
)


@dataclass(frozen=True)
class BlockCycles:
    """What a second-degree block's read found (Mobitz I here, Mobitz II in `ml.mobitz_ii`):
    each long cycle with that conduction (R before, R after, in s), and the beats whose P wave
    matched the groups' (conducted sinus beats)."""

    cycles_s: list[tuple[float, float]]
    conducted_s: np.ndarray


NONE = BlockCycles([], np.zeros(0))


@dataclass(frozen=True)
class MarchingCycles:
    """The long cycles between conducted beats across which the P waves march on (P to P
    about two atrial cycles, steady P to P on either side), as indices into the R-R intervals
    (`marching`) among all long cycles (`candidates`); each beat's time (`beat_s`), P-wave
    peak (`p_at`, samples), whether it matched (`found`) and its PR (s); the PR of the beats
    after long cycles (`first_pr_s`, their median); the conducted beats whose P wave matched
    (`matched_s`). What both Mobitz rules read."""

    candidates: np.ndarray
    marching: list[int]
    beat_s: np.ndarray
    p_at: np.ndarray
    found: np.ndarray
    pr_s: np.ndarray
    first_pr_s: float
    matched_s: np.ndarray


def mobitz_i(
    p_band_mv: np.ndarray, fs_hz: float, beat_s: np.ndarray, classes: np.ndarray
) -> BlockCycles:
    """Mobitz I conduction around the long cycles (`NONE` when fewer than `MIN_CYCLES`
    show it, or they are under `CYCLE_SHARE` of the long cycles between the first and last
    that do). `p_band_mv`: the analysis lead band-passed to the P band."""
    return mobitz_i_of(marching_cycles(p_band_mv, fs_hz, beat_s, classes))


def mobitz_i_of(march: MarchingCycles | None) -> BlockCycles:
    """`mobitz_i` from the long cycles already read (`marching_cycles`)."""
    if march is None:
        return NONE
    pr_s = march.pr_s
    chosen = [
        i
        for i in march.marching
        if abs(pr_s[i + 1] - march.first_pr_s) <= FIRST_PR_SPREAD_S
        and pr_s[i] - pr_s[i + 1] >= PR_SHORTENING_S
    ]
    return block_cycles(chosen, march)


def marching_cycles(
    p_band_mv: np.ndarray, fs_hz: float, beat_s: np.ndarray, classes: np.ndarray
) -> MarchingCycles | None:
    """The long cycles (at least `LONG_CYCLE_RATIO` times the lower quartile of the R-R
    intervals between conducted beats, at most `MAX_LONG_CYCLE_S`) across which the P waves
    march on (`MarchingCycles`); None where too few beats, long cycles or matched P waves
    leave nothing to judge. Each beat's P wave is the best match of the P wave averaged over
    the beats that follow long cycles."""
    beat_s = np.asarray(beat_s, dtype=float)
    conducted = np.isin(np.asarray(classes), CONDUCTED)
    if beat_s.size < 6:
        return None
    rr_s = np.diff(beat_s)
    pairs = conducted[:-1] & conducted[1:]
    if pairs.sum() < 4:
        return None
    long = pairs & (rr_s >= LONG_CYCLE_RATIO * percentile(rr_s[pairs], 25))
    long &= rr_s <= MAX_LONG_CYCLE_S
    candidates = np.flatnonzero(long)
    r = np.round(beat_s * fs_hz).astype(np.int64)
    snippet = p_wave_template(p_band_mv, fs_hz, r[candidates + 1])
    if candidates.size < MIN_CYCLES or snippet is None:
        return None
    p_at, match, size = matched_p_waves(p_band_mv, fs_hz, r, snippet)
    found = (match >= P_MATCH) & (size >= P_SIZE[0]) & (size <= P_SIZE[1])
    short = pairs & ~long
    within = short & found[:-1] & found[1:]
    first = candidates[found[candidates + 1]] + 1
    if within.sum() < 2 or first.size < MIN_CYCLES:
        return None
    p_to_p = np.diff(p_at / fs_hz)
    atrial_cycle = median(p_to_p[within])
    steady = within & (np.abs(p_to_p / atrial_cycle - 1) <= ATRIAL_STEADY)
    pr_s = beat_s - p_at / fs_hz
    marching = [
        int(i)
        for i in candidates
        if found[i]
        and found[i + 1]
        and DOUBLE_ATRIAL_CYCLE[0] <= p_to_p[i] / atrial_cycle <= DOUBLE_ATRIAL_CYCLE[1]
        and i >= 1
        and steady[i - 1]
        and i + 1 < steady.size
        and steady[i + 1]
    ]
    return MarchingCycles(
        candidates,
        marching,
        beat_s,
        p_at,
        found,
        pr_s,
        median(pr_s[first]),
        beat_s[found & conducted],
    )


def block_cycles(chosen: list[int], march: MarchingCycles) -> BlockCycles:
    """The `chosen` long cycles as a block's read, or `NONE` when fewer than `MIN_CYCLES`, or
    under `CYCLE_SHARE` of the long cycles between the first and last chosen."""
    if len(chosen) < MIN_CYCLES:
        return NONE
    candidates = march.candidates
    between = candidates[(candidates >= chosen[0]) & (candidates <= chosen[-1])]
    if len(chosen) < CYCLE_SHARE * between.size:
        return NONE
    beat_s = march.beat_s
    return BlockCycles([(float(beat_s[i]), float(beat_s[i + 1])) for i in chosen], march.matched_s)


def p_wave_template(x: np.ndarray, fs_hz: float, peaks: np.ndarray) -> np.ndarray | None:
    """The P wave (its peak +- `P_HALF_WIDTH_S`) averaged over `peaks`' P regions."""
    lo, hi = (round(s * fs_hz) for s in P_SEARCH_S)
    half = round(P_HALF_WIDTH_S * fs_hz)
    peaks = peaks[(peaks + lo - half >= 0) & (peaks + hi + half < x.size)]
    if peaks.size < MIN_CYCLES:
        return None
    region = np.mean(x[peaks[:, None] + np.arange(lo, hi)], axis=0)
    region = region - median(region)
    top = int(np.argmax(np.abs(region[half:-half]))) + half
    if abs(region[top]) < P_MIN_MV:
        return None
    snippet = np.mean(x[peaks[:, None] + lo + top + np.arange(-half, half + 1)], axis=0)
    return snippet - snippet.mean()


def matched_p_waves(
    x: np.ndarray, fs_hz: float, r: np.ndarray, snippet: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per beat: the sample of its P wave's peak (best match of `snippet` before its R peak,
    after the previous beat's QRS), how well it matched (normalised correlation) and its size
    against the snippet's (least-squares gain)."""
    lo, hi = (round(s * fs_hz) for s in P_SEARCH_S)
    half = snippet.size // 2
    norm = np.linalg.norm(snippet)
    at, match, size = np.zeros(r.size, dtype=np.int64), np.zeros(r.size), np.zeros(r.size)
    for j, peak in enumerate(r):
        start = peak + lo
        if j:
            start = max(start, r[j - 1] + round(0.2 * fs_hz))
        stop = peak + hi
        if start - half < 0 or stop + half >= x.size or stop <= start:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(
            x[start - half : stop + half + 1], snippet.size
        )
        centred = windows - windows.mean(axis=1, keepdims=True)
        projection = centred @ snippet
        score = projection / np.maximum(np.linalg.norm(centred, axis=1) * norm, 1e-9)
        gain = projection / norm**2
        # The best-shaped wave of a P wave's size: a small bump on the T wave may match the
        # shape better than the P wave itself.
        score[(gain < P_SIZE[0]) | (gain > P_SIZE[1])] = -1.0
        best = int(np.argmax(score))
        at[j], match[j], size[j] = start + best, score[best], gain[best]
    return at, match, size


def conducted_sinus(beat_s: np.ndarray, classes: np.ndarray, found: BlockCycles) -> np.ndarray:
    """True for S calls that are conducted sinus beats of a block's groups (Mobitz I or II):
    their P wave matched the groups' and they lie within `GROUP_REACH_S` of a long cycle. After
    each dropped beat of a Mobitz I block the intervals shorten as the PR lengthens, and beside
    a Mobitz II block's long cycles the conducted cycles are short against the mean, which the
    classifier reads as prematurity (40 synthetic Wenckebach rhythms, 30 Mobitz II: dozens of
    "atrial premature beats" each)."""
    beat_s = np.asarray(beat_s, dtype=float)
    near = np.zeros(beat_s.size, dtype=bool)
    for start_s, end_s in found.cycles_s:
        near |= (beat_s >= start_s - GROUP_REACH_S) & (beat_s <= end_s + GROUP_REACH_S)
    # Matched to the millisecond: a chunked read shifts each chunk's times by its start.
    matched = np.isin(np.round(beat_s * 1000), np.round(found.conducted_s * 1000))
    return (np.asarray(classes) == "S") & near & matched


def conducted_sinus_note(n_beats: int) -> str:
    """What the read says of the S calls it counted as conducted sinus beats."""
    beats, were = ("1 beat", "was") if n_beats == 1 else (f"{n_beats} beats", "were")
    return (
        f"{beats} called supraventricular {were} counted as conducted sinus beats (N): their "
        "P wave is the sinus P wave, and around the dropped beats of a second-degree AV block "
        "(Mobitz I or II) the conducted beats come sooner than the mean interval without being "
        "premature."
    )


def strip_call_with_block(call: StripCall, found: BlockCycles) -> StripCall:
    """A strip called AF or another rhythm whose P waves march through Mobitz I cycles is
    another rhythm, said as the block: 4 of 40 synthetic Wenckebach rhythms had read AF, and
    others "no consistent P wave" (the P wave moves with the PR)."""
    if not found.cycles_s or call.label not in (AF, OTHER):
        return call
    return another_rhythm(call, STRIP_REASON)
