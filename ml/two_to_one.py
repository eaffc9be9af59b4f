"""Second-degree AV block held at 2:1 conduction: P waves at twice the QRS rate, every other
one conducted at a fixed PR, the other answered by no QRS.

Found by what defines it, in windows of 30 s (`ml.av_dissociation.WINDOW_S`; a strip is one
window): halfway between a beat's own P wave and the one before its R-R interval, a second P
wave of the same shape and size, standing clear of the previous T wave, with nothing like it a
quarter of the cycle away (where a flutter wave would be), the QRS rhythm regular.
`ml.rhythm._halved_rate` finds 2:1 conduction where the rate halves from a faster rhythm; held
from a recording's start there is
no step, and two minutes of a synthetic 2:1 block (atrial 70-84 /min) read "Sinus bradycardia",
its strips "Other rhythm: slow". A P wave hidden in the T wave (atrial rates over about 100
/min) is not looked for: not found, not guessed. Blocked atrial premature beats in bigeminy
read the same when they come halfway; the finding says so.

The signal is read first (`blocked_p_waves`, per window: a long recording chunk by chunk), the
T-wave end, measured on the median beat, decides after (`two_to_one_spans`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.av_dissociation import atrial_rate_bpm, windows_found
from ml.dsp import median
from ml.strip_rhythm import StripCall, another_rhythm, holds_the_strip
from ml.wenckebach import P_MATCH, P_SIZE, matched_p_waves, p_wave_template

WIDE_S = 0.08  # the template: the conducted P wave's peak +- this, its flat shoulders included
BLOCKED_MATCH = 0.85  # normalised correlation of the blocked P wave with the template, at least
BLOCKED_SIZE = (0.67, 1.5)  # its size against the template's (least-squares gain)
JITTER_S = 0.06  # how far from halfway the blocked P wave may lie (the atrial cycle's drift)
# The blocked P wave's window (its peak - WIDE_S) begins at least this after the previous T
# wave ends: a U wave follows the T wave closely, and at 40-41 bpm one halfway between the P
# waves read as a 2:1 block in 2 of 40 synthetic bradycardias with U waves at 0.02 s.
CLEAR_OF_T_S = 0.06
REGULAR = 0.10  # an R-R between N beats within this share of the window's median
SHARE = 0.8  # of the N-N intervals regular, of the N beats with their own P wave, and of those
# with a blocked P wave, at least this share
MIN_BEATS = 4  # conducted beats with a blocked P wave in a window, at least


@dataclass(frozen=True)
class BlockedPWaves:
    """One window's reading: for each of its conducted beats (its own P wave found), where the
    P wave halfway before it would begin (s after the previous R peak), and whether one is
    there (and nothing a quarter of the cycle away) at a regular R-R."""

    start_s: float
    end_s: float
    onset_after_r_s: np.ndarray
    found: np.ndarray
    ventricular_bpm: float
    # Each reading's R-R interval (previous R, its own R; s in the recording), so a block's
    # span is its blocked intervals, not the whole window; None: the window's bounds.
    interval_s: np.ndarray | None = None


@dataclass(frozen=True)
class TwoToOne:
    """A stretch of 2:1 conduction: its span and the atrial rate (twice the QRS rate)."""

    start_s: float
    end_s: float
    atrial_bpm: float


def blocked_p_waves(
    p_band_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray,
    offset_s: float = 0.0,
    recording_s: float | None = None,
) -> list[BlockedPWaves]:
    """Each window's reading (`BlockedPWaves`). `p_band_mv`: the analysis lead band-passed to
    the P band, starting `offset_s` into a recording `recording_s` long (a chunk of it;
    `beat_s` from the chunk's start); times returned are the recording's."""
    return [
        BlockedPWaves(start_s, end_s, *one[:3], interval_s=start_s + one[3])
        for start_s, end_s, one in windows_found(
            _window, p_band_mv, fs_hz, beat_s, classes, offset_s, recording_s
        )
    ]


def _window(
    x: np.ndarray, fs_hz: float, beat_s: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray] | None:
    """(where each conducted beat's blocked P wave would begin, whether it is there, the QRS
    rate, the R-R interval each was read in) for one window, or None where its rhythm or P
    waves rule a 2:1 block out."""
    r = np.round(beat_s * fs_hz).astype(np.int64)
    normal = classes == "N"
    normal_rr_s = np.diff(beat_s)[normal[1:] & normal[:-1]]
    if normal.sum() < MIN_BEATS or normal_rr_s.size < MIN_BEATS:
        return None
    if np.mean(np.abs(normal_rr_s / median(normal_rr_s) - 1) <= REGULAR) < SHARE:
        return None  # a block whose conduction changes (Mobitz I groups) is no 2:1 block
    snippet = p_wave_template(x, fs_hz, r[normal])
    if snippet is None:
        return None
    at, match, size = matched_p_waves(x, fs_hz, r, snippet)
    own_p = normal & (match >= P_MATCH) & (size >= P_SIZE[0]) & (size <= P_SIZE[1])
    own_p[0] = False  # the first beat has no R-R before it
    wide = round(WIDE_S * fs_hz)
    inside = own_p & (at - wide >= 0) & (at + wide < x.size)
    if inside.sum() < max(MIN_BEATS, SHARE * (normal.sum() - 1)):
        return None
    template = np.mean(x[at[inside, None] + np.arange(-wide, wide + 1)], axis=0)
    template = template - template.mean()
    rr_s = np.diff(beat_s, prepend=np.nan)
    ventricular_s = median(rr_s[inside])
    regular = np.abs(rr_s / ventricular_s - 1) <= REGULAR
    onset_s, found = [], []
    for i in np.flatnonzero(inside):
        halfway = at[i] - round(rr_s[i] / 2 * fs_hz)
        quarter = at[i] - round(rr_s[i] / 4 * fs_hz)
        onset_s.append((halfway - wide) / fs_hz - beat_s[i - 1])
        found.append(
            regular[i]
            and p_wave_at(x, fs_hz, halfway, template)
            and not p_wave_at(x, fs_hz, quarter, template)
        )
    intervals_s = np.column_stack([beat_s[inside.nonzero()[0] - 1], beat_s[inside]])
    return np.array(onset_s), np.array(found, dtype=bool), 60.0 / ventricular_s, intervals_s


def p_wave_at(
    x: np.ndarray,
    fs_hz: float,
    centre: int,
    template: np.ndarray,
    size: tuple[float, float] = BLOCKED_SIZE,
) -> bool:
    """A wave of the template's shape (`BLOCKED_MATCH`) and `size` (least-squares gain against
    the template) within `JITTER_S` of `centre`."""
    half, jitter = template.size // 2, round(JITTER_S * fs_hz)
    lo, hi = centre - jitter - half, centre + jitter + half + 1
    if lo < 0 or hi > x.size:
        return False
    windows = np.lib.stride_tricks.sliding_window_view(x[lo:hi], template.size)
    centred = windows - windows.mean(axis=1, keepdims=True)
    projection = centred @ template
    norm = np.linalg.norm(template)
    score = projection / np.maximum(np.linalg.norm(centred, axis=1) * norm, 1e-9)
    gain = projection / norm**2
    fits = (score >= BLOCKED_MATCH) & (gain >= size[0]) & (gain <= size[1])
    return bool(fits.any())


def two_to_one_spans(readings: list[BlockedPWaves], t_end_ms: float | None) -> list[TwoToOne]:
    """The windows whose conducted beats (at least `MIN_BEATS`, `SHARE` of them) each have a
    blocked P wave halfway that begins `CLEAR_OF_T_S` after the previous T wave's end
    (`t_end_ms`: the median beat's, from its R peak; None: not judged), merged where they
    touch, with the atrial rate over each (twice the QRS rate, weighted by duration). Each
    spans its blocked intervals, from the first to the last (`_blocked_span_s`)."""
    if t_end_ms is None:
        return []
    firing = []
    for w in readings:
        hits = _hits(w, t_end_ms)
        if hits.sum() >= MIN_BEATS and hits.sum() >= SHARE * w.found.size:
            firing.append(w)
    groups: list[list[BlockedPWaves]] = []
    for w in firing:
        if groups and abs(groups[-1][-1].end_s - w.start_s) < 1e-6:
            groups[-1].append(w)
        else:
            groups.append([w])
    return [TwoToOne(*_blocked_span_s(g, t_end_ms), 2 * _mean_rate_bpm(g)) for g in groups]


def _hits(window: BlockedPWaves, t_end_ms: float) -> np.ndarray:
    """Its readings with a blocked P wave clear of the previous T wave."""
    clear = window.onset_after_r_s >= t_end_ms / 1000 + CLEAR_OF_T_S
    return np.asarray(window.found & clear, dtype=bool)


def _blocked_span_s(group: list[BlockedPWaves], t_end_ms: float) -> tuple[float, float]:
    """From the first blocked interval of the group's first window to the last of its last:
    a window is 30 s, and one holding 19 s of 1:1 conduction before 11 s of 2:1 had read
    "2:1 conduction 0.6-29.7 s, 27 beats" beside an idioventricular rhythm over 6.2-19.3 s
    (QT Database sel231 600-630 s, its aberrant 1:1 beats called V)."""
    first, last = group[0], group[-1]
    if first.interval_s is None or last.interval_s is None:
        return first.start_s, last.end_s
    return float(first.interval_s[_hits(first, t_end_ms)][0, 0]), float(
        last.interval_s[_hits(last, t_end_ms)][-1, 1]
    )


def _mean_rate_bpm(windows: list[BlockedPWaves]) -> float:
    weights = [w.end_s - w.start_s for w in windows]
    return float(np.average([w.ventricular_bpm for w in windows], weights=weights))


def strip_call_with_two_to_one(
    call: StripCall, found: list[TwoToOne], duration_s: float
) -> StripCall:
    """A strip held at 2:1 over at least half of it is another rhythm, said as the block (it
    read "Other rhythm: slow", or sinus rhythm): the QRS rate is half the P waves'.
    Unreadable and fibrillation calls stay."""
    if not holds_the_strip(call, [(t.start_s, t.end_s) for t in found], duration_s):
        return call
    return another_rhythm(
        call,
        f"P waves at {atrial_rate_bpm(found):.0f} /min, every other one not conducted: "
        "second-degree AV block with 2:1 conduction",
    )
