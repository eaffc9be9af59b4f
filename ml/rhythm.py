"""Rhythm episodes from beat times and classes: what a clinician reads off a rhythm strip.

Rules (thresholds chosen on MIT-BIH DS1 records only):
- atrial fibrillation / flutter: RR intervals irregular without a pattern (`ml.atrial`:
  bigeminy and trigeminy repeat, AF does not) over a sliding window, *and*, when the signal
  is given, no consistent P wave before the beats, for at least 30 s; intervals next to a
  ventricular beat are left out; or 30-s windows the AF window model called AF (AF round 1,
  pre-registered: the union scored best out of fold on cinc2017 and DS1 windows);
- ventricular flutter / fibrillation: given as spans found in the signal
  (`ml.ventricular_fibrillation`); beats inside them are not beats and are left out;
- ventricular tachycardia: >= 3 consecutive V beats above 100 bpm; SVT likewise with S beats,
  not mostly inside AF (`without_svt_in_af`);
  idioventricular rhythm: >= 3 consecutive V beats at 100 bpm or slower (accelerated from 50
  bpm, an escape rhythm below);
- ventricular bigeminy (N V N V ...) and trigeminy (N N V N N V ...): >= 3 cycles;
- pause: an RR interval over 2 s between two readable (not Q) beats; a dropped beat: an
  interval ~2x the local rhythm without ectopy, a hint of second-degree AV block; 2:1
  conduction: such intervals one after another, at least 4 (the rate halved abruptly);
- otherwise sinus rhythm, bradycardia (< 60 bpm) or tachycardia (> 100 bpm) by the local rate
  of NN intervals (between two N beats); with too few of them, sinus rhythm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ml.atrial import PATTERN_LAGS, pattern_irregularity
from ml.dsp import mean_filter, rank_filter
from ml.gaps import duration_text

SINUS, BRADY, TACHY = "Sinus rhythm", "Sinus bradycardia", "Sinus tachycardia"
# Sinus rhythm is bradycardia below and tachycardia above these rates (bpm), as ECG machines and
# the AHA/ACCF/HRS statements name it.
BRADY_BELOW_BPM, TACHY_ABOVE_BPM = 60.0, 100.0
AF = "Atrial fibrillation/flutter"
VT, SVT = "Ventricular tachycardia", "Supraventricular tachycardia"
VF = "Ventricular flutter/fibrillation"
# A run of V beats at RUN_RATE_BPM or slower: no tachycardia, but no sinus rhythm either. MIT-BIH
# 124's three idioventricular runs (19, 5 and 6 beats at 54-61 /min) made no episode and no
# finding: their beats counted only as ventricular ectopic beats, at low risk.
IVR = "Idioventricular rhythm"
BIGEMINY, TRIGEMINY = "Ventricular bigeminy", "Ventricular trigeminy"
PAUSE, DROPPED = "Pause", "Dropped beat (possible second-degree AV block)"
HALVED = "2:1 conduction (possible second-degree AV block)"
TWO_TO_ONE = "Second-degree AV block, 2:1 conduction"  # `ml.two_to_one`: P waves seen
MOBITZ_I = "Second-degree AV block, Mobitz I (Wenckebach)"  # one episode per dropped beat
MOBITZ_II = "Second-degree AV block, Mobitz II"  # `ml.mobitz_ii`: likewise
PACED = "Paced or unclassifiable rhythm"
NO_P_WAVES = "Junctional or ectopic rhythm (no P waves)"  # `_without_p_waves`
# `_without_p_waves` from 130 bpm with a narrow QRS; "narrow-complex tachycardia" names the
# rhythm statement (`ml.vocabulary.RHYTHM_WORDS`)
NARROW_TACHYCARDIA = "Narrow-complex tachycardia (no P waves found)"
# `_with_inverted_p_waves`
INVERTED_P_WAVES = "Ectopic atrial or junctional rhythm (P waves inverted in II)"
# `ml.av_dissociation`; "escape" names the rhythm statement (`ml.vocabulary.RHYTHM_WORDS`)
COMPLETE_BLOCK = "Complete AV block, escape rhythm (AV dissociation)"
LABELS = (
    SINUS, BRADY, TACHY, AF, VF, VT, SVT, IVR, BIGEMINY, TRIGEMINY, PAUSE, HALVED, TWO_TO_ONE,
    DROPPED, MOBITZ_I, MOBITZ_II, PACED, NO_P_WAVES, NARROW_TACHYCARDIA, INVERTED_P_WAVES,
    COMPLETE_BLOCK,
)  # fmt: skip
ONE_EACH = (PAUSE, DROPPED, MOBITZ_I, MOBITZ_II)  # each episode an event of its own, never merged
# Runs of consecutive ectopic beats (`run_bounds`), each its own episode, never merged: two runs
# of one label are apart by a beat of another class, and joined across it they counted the beats
# of both as one run (a Holter's VVVNVVV, two triplets, read one 6-beat VT at high risk).
RUNS = (VT, SVT, IVR)

AF_WINDOW_BEATS = 32
AF_IRREGULARITY = 0.10  # pattern irregularity above this (chosen on DS1)
AF_P_CONSISTENCY = 0.3  # P-wave consistency below this: no organised atrial activity (DS1)
AF_MIN_S = 30.0
# More of an AF episode or a dropped beat than this inside noisy signal: the noise's. Of the
# 1,618 selection reads' AF episodes one lies more than half in noise (svdb 848, 90 s; svdb
# has no rhythm labels); MIT-BIH 203's AF runs through its noisy stretches at under half.
NOISY_SHARE = 0.5
AF_EXCLUDING_MOBITZ_CYCLES = 2  # Mobitz I or II cycles inside an AF episode that rule it out
# A sinus-named stretch this long at a rate outside these bounds (under 60, from 130 bpm)
# whose beats show no consistent P wave (median under AF_P_CONSISTENCY) is no sinus rhythm:
# `_without_p_waves`.
NO_P_WAVE_MIN_S = 30.0
NO_P_WAVE_RATES_BPM = (60.0, 130.0)
# An AF episode mostly inside ventricular bigeminy or trigeminy is not AF (`_mostly_patterned`):
# MIT-BIH 106's and 208's 30 s of "AF" (the window model's) lay 100 % and 53 % inside them.
PATTERNED_AF_SHARE = 0.5
PAUSE_S = 2.0
RUN_RATE_BPM = 100.0
# An SVT run more than this share inside AF/flutter is no SVT run (`without_svt_in_af`).
SVT_IN_AF_SHARE = 0.5
# An SVT run's intervals are shorter than this share of the sinus cycle before it (10 %
# premature, fixed, not tuned; `_premature`), or after it at a recording's start.
PREMATURE_RUN_SHARE = 0.9
# The sinus cycle around a beat (`sinus_cycle_before_s`): the median of the last 8 intervals
# between two N beats, at least 4, the latest ending within 60 s (an older cycle says nothing
# about when this beat was due).
BASE_NN_INTERVALS = 8
MIN_NN_INTERVALS = 4
MAX_BASE_AGE_S = 60.0
# A VT or SVT run lasting this long is the rhythm of its stretch, as AF is: read through it,
# the background rhythm is named by the run's own rate ("sinus tachycardia" through MIT-BIH
# 209's 27-s SVT and 223's 53-s VT). Shorter runs are events inside the rhythm around them,
# whose stretch that short is read sinus rhythm whatever its rate (`MIN_RATE_EPISODE_S`).
RHYTHM_RUN_S = 10.0
BASE_WINDOW_BEATS = 10
# Unclassified (Q) beats between two runs of S beats join them into one when each interval
# across them is within this share of the runs' median cycle (`_bridged_over_unclassified`):
# the run's rate, give or take a fifth (fixed, not tuned).
BRIDGED_CYCLE_SHARE = (0.8, 1.25)
# The sinus rate of the background (`_centred_nn_median`) needs this many NN intervals of the
# window's `BASE_WINDOW_BEATS`: trigeminy leaves 3 in any 10 intervals, bigeminy none (fixed,
# not tuned).
MIN_BASE_NN_INTERVALS = 3
# A dropped beat: an interval 1.8-2.2 times the rhythm around it and over 1 s. When such
# intervals follow one another from one beat to the next (every other beat dropped), the rate
# has halved abruptly: 2:1 AV block, or blocked atrial premature beats; sinus rhythm does not
# halve from one beat to the next. MIT-BIH 231's 2:1 block (RR 0.85 -> 1.7 s) was read as
# "sinus bradycardia" at 35 bpm.
DROPPED_RATIO = (1.8, 2.2)
DROPPED_MIN_S = 1.0
HALVED_MIN_INTERVALS = 4
HALVED_BASE_INTERVALS = 8  # the rhythm before the step: the median of this many intervals
HALVED_STEADY = (0.85, 1.15)  # after the step, each interval against the stretch's median


@dataclass(frozen=True)
class Episode:
    label: str
    start_s: float
    end_s: float
    n_beats: int = 0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def detect_rhythms(
    beat_s: np.ndarray,
    classes: np.ndarray,
    duration_s: float,
    p_wave_consistency: np.ndarray | None = None,
    fibrillation_spans_s: list[tuple[float, float]] | None = None,
    af_windows_s: list[tuple[float, float]] | None = None,
    unreadable: np.ndarray | None = None,
    mobitz_i_cycles_s: Sequence[tuple[float, float]] = (),
    mobitz_ii_cycles_s: Sequence[tuple[float, float]] = (),
    p_waves_may_lack: bool = False,
    wide_qrs: bool = False,
    bound_pauses: np.ndarray | None = None,
    dissociation_spans_s: Sequence[tuple[float, float]] = (),
    silences_s: Sequence[tuple[float, float]] = (),
    two_to_one_spans_s: Sequence[tuple[float, float]] = (),
    noisy_spans_s: Sequence[tuple[float, float]] = (),
    p_waves_inverted: bool = False,
    p_waves_absent: bool = False,
    no_room_for_p_waves: bool = False,
    missing_spans_s: Sequence[tuple[float, float]] = (),
    missed_complexes_s: np.ndarray | Sequence[float] = (),
) -> list[Episode]:
    """Episodes (sorted, possibly overlapping: a VT run inside sinus rhythm) for one recording.
    A run of `RHYTHM_RUN_S` or more is the rhythm of its stretch, as AF is: no sinus rhythm is
    read through it.

    `p_wave_consistency` (per beat, from `ml.atrial.p_wave_consistency`) makes AF detection
    require absent P waves as well as irregular RR; without it RR alone decides.
    `fibrillation_spans_s` become ventricular flutter/fibrillation episodes. `af_windows_s`
    are spans a window model called AF (`ml.strip_rhythm.af_window_spans_s`). `unreadable`
    (per beat) marks the Q beats that say the read could not read them (unusable signal, a
    doubtful call taken back), not that they looked paced: no rhythm is read where they
    dominate. `mobitz_i_cycles_s`: the long cycles of a Mobitz I block (`ml.wenckebach`), one
    MOBITZ_I episode each instead of a dropped-beat hint; `mobitz_ii_cycles_s` likewise for a
    Mobitz II block (`ml.mobitz_ii`), a MOBITZ_II episode each. `p_waves_may_lack`: stretches
    without P waves may be named so (`_without_p_waves`): a long recording (a strip's one
    rhythm call names its rhythm) whose median beat shows no P wave either
    (`Intervals.shows_p_wave`: P waves far ahead of the QRS, a first-degree block, fall
    outside the region the consistency reads: svdb 889's PR is 340 ms; one lead's PR of 320
    ms, withheld as of low confidence, had read "Junctional or ectopic rhythm"); with a
    `wide_qrs` (the median beat's) the median beat alone decides
    (`_without_p_waves`), at any rate when `p_waves_absent` (no lead shows one); from 130 bpm
    with a narrow QRS, `p_waves_absent` or `no_room_for_p_waves` (the median beat's T wave
    ends too near the next QRS to hold one) make it a narrow-complex tachycardia.
    `bound_pauses` (per beat) marks Q beats that are beats of the rhythm all the same (a
    doubtful call that came on time): they end a pause as a readable beat does.
    `dissociation_spans_s`: where P waves march apart from the QRS complexes
    (`ml.av_dissociation`), a COMPLETE_BLOCK episode each: no sinus rhythm or AF is read there.
    `silences_s`: stretches with no QRS complex (`ml.standstill`), a pause each, also where
    one runs from the recording's start or to its end. `two_to_one_spans_s`: where a P wave
    halfway between the beats goes unanswered (`ml.two_to_one`), a TWO_TO_ONE episode each,
    read instead of a halving of the rate there (HALVED) or dropped beats. `noisy_spans_s`:
    where the signal is noisy in every lead (`ml.quality.noisy_spans_s`); an AF episode or a
    dropped beat mostly inside them is the noise's (`_mostly_noisy`). `p_waves_inverted`: the
    median P wave, at a PR of high confidence, is negative in lead II (`ml.lead_ii_p_wave`):
    the sinus-named stretches are INVERTED_P_WAVES (`_with_inverted_p_waves`).
    `missing_spans_s`: signal every lead read misses (`ml.gaps`, lead-off from `ml.lead_off`):
    no episode runs through one (`_apart_at_missing`). `missed_complexes_s`: complexes the
    beat detector missed inside intervals of two cycles (`ml.missed_complexes`): an interval
    holding one is no dropped beat (`_pauses`).
    """
    silent = [Episode(PAUSE, start_s, end_s, 2) for start_s, end_s in silences_s]
    if len(beat_s) < 3:
        return silent
    classes = np.asarray(classes)
    rr_s = np.diff(beat_s)
    # No beats: the detections inside are the oscillation's waves (left unclassified), and an
    # episode table had listed 101 "beats" of a 30-s VF strip.
    vf = [Episode(VF, start_s, end_s, 0) for start_s, end_s in fibrillation_spans_s or []]
    # Flutter waves are not beats: no runs, patterns or AF from them.
    classes = np.where(within(beat_s, fibrillation_spans_s or []), "Q", classes)
    episodes: list[Episode] = list(vf)
    blocked = _spans_episodes(COMPLETE_BLOCK, beat_s, dissociation_spans_s)
    episodes += blocked
    runs = [
        *_runs(beat_s, classes, "V", VT),
        *_runs(beat_s, classes, "S", SVT),
        *_runs(beat_s, classes, "V", IVR, slow=True),
    ]
    episodes += runs
    patterns = _patterns(beat_s, classes)
    episodes += patterns
    two_to_one = _spans_episodes(TWO_TO_ONE, beat_s, two_to_one_spans_s)
    episodes += two_to_one
    held_spans = [(e.start_s, e.end_s) for e in two_to_one]
    halved = [
        e
        for e in _halved_rate(beat_s, rr_s, classes)
        if not any(e.start_s < end_s and start_s < e.end_s for start_s, end_s in held_spans)
    ]
    halved_spans = [(e.start_s, e.end_s) for e in halved] + held_spans
    cycles_s = list(mobitz_i_cycles_s) + list(mobitz_ii_cycles_s)
    episodes += silent + [
        e
        for e in _pauses(beat_s, rr_s, classes, bound_pauses, missed_complexes_s)
        if not (
            e.label == DROPPED
            and (
                _inside(e, halved_spans)
                or _on_a_cycle(e, cycles_s)
                or _mostly_noisy(e, noisy_spans_s)
            )
        )
        and not (e.label == PAUSE and (e.start_s, e.end_s) in silences_s)
    ]
    episodes += halved
    episodes += [Episode(MOBITZ_I, start_s, end_s, 2) for start_s, end_s in mobitz_i_cycles_s]
    episodes += [Episode(MOBITZ_II, start_s, end_s, 2) for start_s, end_s in mobitz_ii_cycles_s]
    af = [
        piece
        for e in _atrial_fibrillation(beat_s, classes, p_wave_consistency, af_windows_s or [])
        if not _mostly_patterned(e, patterns)
        and not _holds_block_cycles(e, cycles_s)
        and not _mostly_noisy(e, noisy_spans_s)
        for piece in _outside(
            e, [*(fibrillation_spans_s or []), *((b.start_s, b.end_s) for b in blocked)], beat_s
        )
    ]
    episodes += af
    long_runs = [e for e in _merge_adjacent(runs) if _is_rhythm(e)]  # as consolidated
    covered = af + vf + halved + two_to_one + long_runs + blocked
    unread = np.zeros(len(beat_s), dtype=bool) if unreadable is None else np.asarray(unreadable)
    background = _background(beat_s, rr_s, classes, unread, covered)
    if p_waves_may_lack:
        background = _without_p_waves(
            background, beat_s, p_wave_consistency, wide_qrs, p_waves_absent, no_room_for_p_waves
        )
    if p_waves_inverted:
        background = _with_inverted_p_waves(background)
    episodes += background
    episodes = _apart_at_missing(episodes, missing_spans_s, beat_s)
    return sorted(episodes, key=lambda e: (e.start_s, e.label))


def _apart_at_missing(
    episodes: list[Episode], missing_spans_s: Sequence[tuple[float, float]], beat_s: np.ndarray
) -> list[Episode]:
    """Each beat-based episode that runs through signal every read lead misses, in its pieces
    either side (`_outside`), however short: the rhythm in the gap is not known, and an
    episode found over 30 s stays one on its readable beats. MIT-BIH 221 (AF throughout) three
    times over with 20 min of lead-off had read one AF episode through the gap, 90.2 min of
    AF in 70 min of readable signal (a Holter audit). A pause through one has no piece of two
    beats, so none is left; ventricular fibrillation is read from the signal itself, not cut."""
    if not missing_spans_s:
        return episodes
    missing = merged_spans(missing_spans_s)
    starts = np.array([a for a, _ in missing])
    ends = np.array([b for _, b in missing])
    cut = []
    for e in episodes:
        first = int(np.searchsorted(ends, e.start_s, side="right"))
        last = int(np.searchsorted(starts, e.end_s, side="left"))  # the spans it overlaps
        if e.label == VF or first >= last:
            cut.append(e)
        else:
            cut += _outside(e, missing[first:last], beat_s, min_s=0.0)
    return cut


def _spans_episodes(
    label: str, beat_s: np.ndarray, spans_s: Sequence[tuple[float, float]]
) -> list[Episode]:
    """One `label` episode per span (merged where they touch), from its first beat to its
    last."""
    episodes = []
    for start_s, end_s in merged_spans(spans_s):
        inside = beat_s[(beat_s >= start_s) & (beat_s <= end_s)]
        if inside.size >= 2:
            episodes.append(Episode(label, float(inside[0]), float(inside[-1]), int(inside.size)))
    return episodes


def merged_spans(spans_s: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The spans, overlapping ones joined, in time order."""
    merged: list[list[float]] = []
    for start_s, end_s in sorted(spans_s):
        if merged and start_s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end_s)
        else:
            merged.append([start_s, end_s])
    return [(a, b) for a, b in merged]


def within(beat_s: np.ndarray, spans_s: list[tuple[float, float]]) -> np.ndarray:
    """True for each beat time inside any of the (start_s, end_s) spans (ends included).
    Spans are merged and looked up by bisection: a 24-h recording has thousands of them."""
    beat_s = np.asarray(beat_s, dtype=np.float64)
    if not spans_s:
        return np.zeros(len(beat_s), dtype=bool)
    merged = merged_spans(spans_s)
    starts = np.array([m[0] for m in merged])
    ends = np.array([m[1] for m in merged])
    index = np.searchsorted(starts, beat_s, side="right") - 1
    return (index >= 0) & (beat_s <= ends[np.clip(index, 0, None)])


def _atrial_fibrillation(
    beat_s: np.ndarray,
    classes: np.ndarray,
    p_consistency: np.ndarray | None,
    af_windows_s: list[tuple[float, float]],
) -> list[Episode]:
    """AF where the beat rule flags the intervals or a window model called the span AF
    (`ml.strip_rhythm.af_window_spans_s`; AF round 1 chose their union), for >= 30 s."""
    flags = af_interval_flags(beat_s, classes, p_consistency)
    if af_windows_s:
        flags |= within((beat_s[:-1] + beat_s[1:]) / 2, af_windows_s)
    return [e for e in _segments(beat_s, flags, AF) if e.duration_s >= AF_MIN_S]


def af_interval_flags(
    beat_s: np.ndarray, classes: np.ndarray, p_consistency: np.ndarray | None
) -> np.ndarray:
    """Per RR interval: irregular without a pattern over the window around it and, when
    P-wave consistency is given, without a consistent P wave (the beat rule for AF)."""
    rr_s = np.diff(beat_s)
    # Intervals next to a ventricular beat say nothing about the atrial rhythm. Intervals next
    # to "S" beats are kept: in AF the classifier may read irregular RR as prematurity, and
    # the pattern measure already tolerates organised atrial ectopy.
    ventricular = np.isin(classes, ["V", "F", "Q"])
    usable = ~(ventricular[:-1] | ventricular[1:]) & (rr_s > 0.2) & (rr_s < 3.0)
    index = np.flatnonzero(usable)
    if len(index) < AF_WINDOW_BEATS + max(PATTERN_LAGS):
        return np.zeros(len(rr_s), dtype=bool)
    score = np.full(len(rr_s), np.nan)
    score[index] = pattern_irregularity(rr_s[index], AF_WINDOW_BEATS)
    flags = _nearest_filled(score) > AF_IRREGULARITY
    if p_consistency is not None:
        flags &= np.minimum(p_consistency[:-1], p_consistency[1:]) < AF_P_CONSISTENCY
    return flags


def _nearest_filled(values: np.ndarray) -> np.ndarray:
    """NaNs replaced by the nearest known value to their right (or the last one)."""
    known = np.flatnonzero(~np.isnan(values))
    nearest = known[np.clip(np.searchsorted(known, np.arange(len(values))), 0, len(known) - 1)]
    return values[nearest]


def _segments(beat_s: np.ndarray, interval_flags: np.ndarray, label: str) -> list[Episode]:
    """Episodes covering consecutive flagged intervals (interval i spans beats i..i+1)."""
    episodes = []
    padded = np.concatenate([[False], interval_flags, [False]]).astype(int)
    starts = np.flatnonzero(np.diff(padded) == 1)
    stops = np.flatnonzero(np.diff(padded) == -1)
    for start, stop in zip(starts, stops, strict=True):
        episodes.append(
            Episode(label, float(beat_s[start]), float(beat_s[stop]), int(stop - start + 1))
        )
    return episodes


def run_bounds(
    beat_s: np.ndarray, classes: np.ndarray, beat_class: str, slow: bool = False
) -> list[tuple[int, int]]:
    """(first, last + 1) beat index of each run of >= 3 `beat_class` beats above RUN_RATE_BPM
    (at or below it when `slow`); a fast run of S beats must also be premature against the
    sinus cycle (`_premature`), and holds the unclassified beats at its rate between its S
    beats (`_bridged_over_unclassified`), counted among its beats."""
    bounds = []
    classes = np.asarray(classes)
    bridged = beat_class == "S" and not slow
    is_class = np.concatenate([[False], classes == beat_class, [False]]).astype(int)
    starts = np.flatnonzero(np.diff(is_class) == 1)
    stops = np.flatnonzero(np.diff(is_class) == -1)  # exclusive
    if bridged:
        starts, stops = _bridged_over_unclassified(beat_s, classes, starts, stops)
    for start, stop in zip(starts, stops, strict=True):
        if np.sum(classes[start:stop] == beat_class) < 3:
            continue
        rate_bpm = 60.0 * (stop - start - 1) / (beat_s[stop - 1] - beat_s[start])
        if (rate_bpm > RUN_RATE_BPM) != slow:
            bounds.append((int(start), int(stop)))
    if beat_class == "S" and bounds and not slow:
        before_s = sinus_cycle_before_s(beat_s, classes)
        after_s = sinus_cycle_after_s(beat_s, classes)
        bounds = [(a, b) for a, b in bounds if _premature(beat_s, a, b, before_s, after_s)]
    return bounds


def _bridged_over_unclassified(
    beat_s: np.ndarray, classes: np.ndarray, starts: np.ndarray, stops: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The runs `starts`..`stops` (exclusive) of S beats joined across the unclassified (Q)
    beats between two of them when every interval from the first run's last S beat to the
    next run's first is within `BRIDGED_CYCLE_SHARE` of the runs' own median cycle: beats at
    the run's rate, which the classifier could not name, do not end it. svdb 801's 28 S beats
    at 125 /min (36.86-49.43 s, good signal) read as SVT runs of 4 and 3 beats, cut by the
    classifier's Q calls (S 0.43, Q 0.20 at 39.25 s, the log-bias a tie) and the S calls after
    them taken back (`ml.after_unclassified`)."""
    if len(starts) < 2:
        return starts, stops
    joined_starts, joined_stops = [int(starts[0])], [int(stops[0])]
    low, high = BRIDGED_CYCLE_SHARE
    for start, stop in zip(starts[1:], stops[1:], strict=True):
        last = joined_stops[-1]
        between = classes[last:start]
        own_rr = np.concatenate(
            [np.diff(beat_s[joined_starts[-1] : last]), np.diff(beat_s[start:stop])]
        )
        gap_rr = np.diff(beat_s[last - 1 : start + 1])
        cycle_s = float(np.median(own_rr)) if len(own_rr) else np.nan
        at_rate = bool(np.all((gap_rr >= low * cycle_s) & (gap_rr <= high * cycle_s)))
        if len(between) and np.all(between == "Q") and at_rate:
            joined_stops[-1] = int(stop)
        else:
            joined_starts.append(int(start))
            joined_stops.append(int(stop))
    return np.array(joined_starts), np.array(joined_stops)


def _premature(
    beat_s: np.ndarray, start: int, stop: int, before_s: np.ndarray, after_s: np.ndarray
) -> bool:
    """Whether the beats start..stop-1 come faster than `PREMATURE_RUN_SHARE` of the sinus
    cycle before the run (`before_s` at its first beat) or, where none precedes it (a
    recording's first beats), after it (`after_s` at its last beat), as the on-time S rule
    reads the cycle; with neither, there is nothing to compare and the run stands. A run of
    atrial ectopic beats is premature: "S" beats at the rate of the sinus rhythm around them
    are that rhythm misread (svdb 803: three beats after a PVC's pause, at the sinus rate
    either side, made a "supraventricular tachycardia", the main finding)."""
    cycle_s = before_s[start] if not np.isnan(before_s[start]) else after_s[stop - 1]
    if np.isnan(cycle_s):
        return True
    return float(np.median(np.diff(beat_s[start:stop]))) < PREMATURE_RUN_SHARE * cycle_s


def sinus_cycle_before_s(
    beat_s: np.ndarray, classes: np.ndarray, halved_s: Sequence[tuple[float, float]] = ()
) -> np.ndarray:
    """Per beat, the sinus cycle (s) before it: the median of the last `BASE_NN_INTERVALS`
    NN intervals that end at or before the previous beat; NaN where fewer than
    `MIN_NN_INTERVALS` exist or the latest ended over `MAX_BASE_AGE_S` before the beat.
    Inside 2:1 conduction (`halved_s`, `ml.rhythm.halved_spans_s`) an NN interval spans two
    sinus cycles, so it counts as half."""
    beat_s = np.asarray(beat_s, dtype=float)
    classes = np.asarray(classes)
    cycle = np.full(len(beat_s), np.nan)
    if len(beat_s) < 3:
        return cycle
    is_nn = (classes[1:] == "N") & (classes[:-1] == "N")
    nn_end = np.flatnonzero(is_nn) + 1  # the beat each NN interval ends on
    if len(nn_end) < MIN_NN_INTERVALS:
        return cycle
    nn_s = beat_s[nn_end] - beat_s[nn_end - 1]
    if halved_s:
        spans = list(halved_s)
        inside = within(beat_s[nn_end - 1], spans) & within(beat_s[nn_end], spans)
        nn_s = np.where(inside, nn_s / 2, nn_s)
    padded = np.concatenate([np.full(BASE_NN_INTERVALS - 1, np.nan), nn_s])
    windows = sliding_window_view(padded, BASE_NN_INTERVALS)  # window k ends on NN interval k
    enough = np.sum(~np.isnan(windows), axis=1) >= MIN_NN_INTERVALS
    medians = np.full(len(nn_s), np.nan)
    medians[enough] = np.nanmedian(windows[enough], axis=1)
    # Beat i reads the NN intervals that end on beat i - 1 or earlier.
    latest = np.searchsorted(nn_end, np.arange(len(beat_s)) - 1, side="right") - 1
    known = latest >= 0
    cycle[known] = medians[latest[known]]
    age_s = np.full(len(beat_s), np.inf)
    age_s[known] = beat_s[known] - beat_s[nn_end[latest[known]]]
    cycle[age_s > MAX_BASE_AGE_S] = np.nan
    return cycle


def sinus_cycle_after_s(
    beat_s: np.ndarray, classes: np.ndarray, halved_s: Sequence[tuple[float, float]] = ()
) -> np.ndarray:
    """Per beat, the sinus cycle after it: `sinus_cycle_before_s` with time running backwards
    (the first NN intervals that start at or after the next beat)."""
    backwards_s = -np.asarray(beat_s, dtype=float)[::-1]
    backwards_halved = [(-end_s, -start_s) for start_s, end_s in halved_s]
    return sinus_cycle_before_s(backwards_s, np.asarray(classes)[::-1], backwards_halved)[::-1]


def _outside(
    af: Episode,
    spans_s: list[tuple[float, float]],
    beat_s: np.ndarray,
    min_s: float = AF_MIN_S,
) -> list[Episode]:
    """The parts of an AF episode outside ventricular flutter/fibrillation (`spans_s`) that
    still last `min_s`, from their first beat to their last: a window over flutter waves is
    irregular, and one rhythm holds at a time (MIT-BIH 207 read AF over 35 s of its flutter).
    Any episode likewise outside missing signal (`_apart_at_missing`)."""
    if not any(start_s < af.end_s and af.start_s < end_s for start_s, end_s in spans_s):
        return [af]
    pieces = [(af.start_s, af.end_s)]
    for start_s, end_s in spans_s:
        pieces = [
            piece
            for a, b in pieces
            for piece in ((a, min(b, start_s)), (max(a, end_s), b))
            if piece[1] > piece[0]
        ]
    kept = []
    for a, b in pieces:
        inside = beat_s[(beat_s >= a) & (beat_s <= b)]
        if inside.size >= 2 and inside[-1] - inside[0] >= min_s:
            kept.append(Episode(af.label, float(inside[0]), float(inside[-1]), int(inside.size)))
    return kept


def without_svt_in_af(episodes: list[Episode]) -> list[Episode]:
    """The episodes without the SVT runs lying more than `SVT_IN_AF_SHARE` inside AF/flutter:
    irregular fast narrow beats there are the AF's fast ventricular response, whose S calls
    the classifier already turns N (`ml.classifier.decide_beats`) and the Holter summary
    leaves out; there is no sinus rhythm for a run to be premature to. svdb 845 read "1
    run(s) of 3 or more supraventricular beats over 100 /min" at 562.8 s, inside its 7 min
    of AF, beside a Holter summary of 0 runs."""
    af = merged_spans([(e.start_s, e.end_s) for e in episodes if e.label == AF])

    def in_af(e: Episode) -> bool:
        return overlap_s(e.start_s, e.end_s, af) > SVT_IN_AF_SHARE * e.duration_s

    return [e for e in episodes if not (e.label == SVT and in_af(e))]


def _mostly_patterned(af: Episode, patterns: list[Episode]) -> bool:
    """An AF episode at least `PATTERNED_AF_SHARE` covered by ventricular bigeminy or trigeminy
    is that pattern's irregularity, not AF: AF is irregular without a repeating pattern."""
    covered_s = overlap_s(af.start_s, af.end_s, [(p.start_s, p.end_s) for p in patterns])
    return covered_s >= PATTERNED_AF_SHARE * af.duration_s


def _mostly_noisy(episode: Episode, noisy_spans_s: Sequence[tuple[float, float]]) -> bool:
    """An AF episode or a dropped beat more than `NOISY_SHARE` inside signal noisy in every
    lead is the noise's: spurious and missed detections make any rhythm irregular and leave
    gaps, and noise hides the P waves. Electrode-motion noise at 6 dB SNR over sinus rhythm
    (nstdb 118e06, 119e06) had read minutes of AF wholly inside its noisy stretches, and
    without them dropped beats there; AF through noise joined to AF in readable signal stays
    (MIT-BIH 203), and so does a pause, which may be real whatever the noise."""
    noisy_s = overlap_s(episode.start_s, episode.end_s, merged_spans(noisy_spans_s))
    return noisy_s > NOISY_SHARE * episode.duration_s


def overlap_s(start_s: float, end_s: float, spans_s: list[tuple[float, float]]) -> float:
    """Seconds of start_s..end_s that the (non-overlapping) `spans_s` cover."""
    return sum(max(0.0, min(end_s, b) - max(start_s, a)) for a, b in spans_s)


def _runs(
    beat_s: np.ndarray, classes: np.ndarray, beat_class: str, label: str, slow: bool = False
) -> list[Episode]:
    return [
        Episode(label, float(beat_s[start]), float(beat_s[stop - 1]), stop - start)
        for start, stop in run_bounds(beat_s, classes, beat_class, slow)
    ]


def _patterns(beat_s: np.ndarray, classes: np.ndarray) -> list[Episode]:
    """Bigeminy (period 2) and trigeminy (period 3): >= 3 cycles of normal beats then one V."""
    episodes = []
    for period, label in ((2, BIGEMINY), (3, TRIGEMINY)):
        is_v = classes == "V"
        fits = np.zeros(len(classes), dtype=bool)
        for i in range(period - 1, len(classes)):
            cycle = classes[i - period + 1 : i + 1]
            fits[i] = is_v[i] and np.all(cycle[:-1] == "N")
        # Chains of V beats exactly `period` apart, each preceded by normal beats.
        v_index = np.flatnonzero(fits)
        if len(v_index) < 3:
            continue
        breaks = np.flatnonzero(np.diff(v_index) != period)
        for chain in np.split(v_index, breaks + 1):
            if len(chain) >= 3:
                first, last = chain[0] - period + 1, chain[-1]
                episodes.append(
                    Episode(label, float(beat_s[first]), float(beat_s[last]), int(last - first + 1))
                )
    return episodes


def _pauses(
    beat_s: np.ndarray,
    rr_s: np.ndarray,
    classes: np.ndarray,
    bound_pauses: np.ndarray | None = None,
    missed_complexes_s: np.ndarray | Sequence[float] = (),
) -> list[Episode]:
    """Pauses and dropped beats. An interval of two cycles holding a complex the detector
    missed (`missed_complexes_s`) is no dropped beat: a wide PVC taken for the T wave before
    it left its compensatory pause, read as a possible second-degree AV block (QT Database
    sel44 at 603.4 s)."""
    episodes = []
    missed_s = np.sort(np.asarray(missed_complexes_s, dtype=float))
    local = _centred_cycle_median(rr_s, BASE_WINDOW_BEATS)
    normal_pair = (classes[:-1] == "N") & (classes[1:] == "N")
    # A pause is bounded by two readable beats; next to an unclassifiable (Q) beat the
    # "interval" may span artefact or missing signal, unless that beat is sure (`bound_pauses`).
    readable = classes != "Q"
    if bound_pauses is not None:
        readable = readable | np.asarray(bound_pauses, dtype=bool)
    readable_pair = readable[:-1] & readable[1:]
    for i, rr in enumerate(rr_s):
        if rr > PAUSE_S and readable_pair[i]:
            episodes.append(Episode(PAUSE, float(beat_s[i]), float(beat_s[i + 1]), 2))
        elif (
            normal_pair[i]
            and _doubled(rr, local[i])
            and not _holds(missed_s, beat_s[i], beat_s[i + 1])
        ):
            episodes.append(Episode(DROPPED, float(beat_s[i]), float(beat_s[i + 1]), 2))
    return episodes


def _holds(sorted_s: np.ndarray, start_s: float, end_s: float) -> bool:
    """Whether any of the times `sorted_s` lies strictly between `start_s` and `end_s`."""
    return bool(np.searchsorted(sorted_s, end_s) > np.searchsorted(sorted_s, start_s, "right"))


def _doubled(rr_s: float, base_s: float) -> bool:
    low, high = DROPPED_RATIO
    return bool(low * base_s <= rr_s <= high * base_s and rr_s > DROPPED_MIN_S)


def _halved_rate(beat_s: np.ndarray, rr_s: np.ndarray, classes: np.ndarray) -> list[Episode]:
    """Stretches of at least `HALVED_MIN_INTERVALS` intervals in a row, between beats neither
    ventricular nor unclassifiable, that begin with a step to about twice the median of the
    `HALVED_BASE_INTERVALS` intervals before, when those were not a tachycardia (the end of a
    run of atrial beats at 120 /min is no block: svdb 808), and then hold: each next interval
    within `HALVED_STEADY` of the stretch's median so far (the slow rate may drift, as sinus
    rhythm does, but not jump)."""
    conducted = (classes != "V") & (classes != "Q")
    usable = conducted[:-1] & conducted[1:]
    low, high = HALVED_STEADY
    episodes, i = [], HALVED_BASE_INTERVALS
    while i < len(rr_s):
        before = rr_s[i - HALVED_BASE_INTERVALS : i][usable[i - HALVED_BASE_INTERVALS : i]]
        base_s = float(np.median(before)) if len(before) >= HALVED_BASE_INTERVALS // 2 else 0.0
        not_fast = base_s >= 60.0 / RUN_RATE_BPM  # a tachycardia's end is no block
        end = i
        if not_fast and usable[i] and _doubled(rr_s[i], base_s):
            end = i + 1
            while (
                end < len(rr_s)
                and usable[end]
                and low <= rr_s[end] / np.median(rr_s[i:end]) <= high
            ):
                end += 1
        if end - i >= HALVED_MIN_INTERVALS:
            episodes.append(Episode(HALVED, float(beat_s[i]), float(beat_s[end]), end - i + 1))
            i = end
        else:
            i += 1
    return episodes


def halved_spans_s(beat_s: np.ndarray, classes: np.ndarray) -> list[tuple[float, float]]:
    """Where the rate has halved (2:1 conduction, `_halved_rate`), as (start_s, end_s)."""
    beat_s = np.asarray(beat_s, dtype=float)
    found = _halved_rate(beat_s, np.diff(beat_s), np.asarray(classes))
    return [(e.start_s, e.end_s) for e in found]


def sinus_label(rate_bpm: float) -> str:
    """Sinus rhythm named by its rate: sinus rhythm, bradycardia or tachycardia."""
    if rate_bpm < BRADY_BELOW_BPM:
        return BRADY
    return TACHY if rate_bpm > TACHY_ABOVE_BPM else SINUS


def _inside(episode: Episode, spans_s: list[tuple[float, float]]) -> bool:
    return any(a <= episode.start_s and episode.end_s <= b for a, b in spans_s)


def _background(
    beat_s: np.ndarray,
    rr_s: np.ndarray,
    classes: np.ndarray,
    unreadable: np.ndarray,
    covered: list[Episode],
) -> list[Episode]:
    """Sinus (brady / tachy by the local NN rate, `_centred_nn_median`) outside AF and VF;
    paced or unclassifiable where Q beats dominate, unless most of them are unreadable: their
    Q says the signal, not the rhythm, could not be read, so no rhythm is read there (a strip's
    first 10 s of artefact read "Paced or unclassifiable rhythm" above "Normal ECG")."""
    local_rate = 60.0 / np.maximum(_centred_nn_median(rr_s, classes, BASE_WINDOW_BEATS), 1e-3)
    with np.errstate(invalid="ignore"):  # NaN: too few NN intervals, no rate name
        labels = np.where(
            local_rate < BRADY_BELOW_BPM,
            BRADY,
            np.where(local_rate > TACHY_ABOVE_BPM, TACHY, SINUS),
        )
    q_share = _centred_mean((classes == "Q").astype(float), BASE_WINDOW_BEATS)[:-1]
    unread_share = _centred_mean(unreadable.astype(float), BASE_WINDOW_BEATS)[:-1]
    labels = np.where(q_share > 0.5, np.where(unread_share > q_share / 2, "", PACED), labels)
    mid_s = (beat_s[:-1] + beat_s[1:]) / 2
    labels[within(mid_s, [(e.start_s, e.end_s) for e in covered])] = ""
    episodes = []
    for label in (SINUS, BRADY, TACHY, PACED):
        for episode in _segments(beat_s, labels == label, label):
            if episode.n_beats >= 3:
                episodes.append(episode)
    return episodes


def _centred_median(values: np.ndarray, window: int) -> np.ndarray:
    return rank_filter(values, size=min(window, max(1, len(values))))


def _centred_cycle_median(rr_s: np.ndarray, window: int) -> np.ndarray:
    """Per interval, the median (the upper one) of the `window` intervals around it less the
    premature beats' couplings (an interval under `PREMATURE_RUN_SHARE` of the one before or
    after it): the cycle a dropped beat doubles. Of every interval, MIT-BIH 201's atrial
    premature beats (called N) set it at about 0.5 s, and the 1.0-s return cycle after two
    (1554.52 s) and a 1.95-s sinus cycle (1546.04 s) read as dropped beats. Where fewer than
    `MIN_BASE_NN_INTERVALS` are left, the median of every interval, as before."""
    coupling = np.zeros(len(rr_s), dtype=bool)
    coupling[:-1] = rr_s[:-1] < PREMATURE_RUN_SHARE * rr_s[1:]
    coupling[1:] |= rr_s[1:] < PREMATURE_RUN_SHARE * rr_s[:-1]
    size = min(window, max(1, len(rr_s)))
    left = size // 2
    cycles_s = np.pad(np.where(coupling, np.nan, rr_s), (left, size - 1 - left), mode="edge")
    windows = np.sort(sliding_window_view(cycles_s, size), axis=1)  # NaNs last
    counts = np.sum(~np.isnan(windows), axis=1)
    median_s = windows[np.arange(len(windows)), counts // 2]
    every = _centred_median(rr_s, window)
    return np.where(counts >= MIN_BASE_NN_INTERVALS, median_s, every)


def _centred_nn_median(rr_s: np.ndarray, classes: np.ndarray, window: int) -> np.ndarray:
    """Per interval, the median (the upper one, as `_centred_median`) of the NN intervals
    (between two beats called N) among the `window` around it: the sinus rate, not the
    coupling of ectopic beats nor an SVT's cycle; NaN where fewer than `MIN_BASE_NN_INTERVALS`
    are NN. Of every interval, ventricular bigeminy at 66 bpm (RR 0.50 / 1.18-1.39 s) read
    "sinus bradycardia" from its long post-ectopic intervals (MIT-BIH 106)."""
    normal_pair = (classes[:-1] == "N") & (classes[1:] == "N")
    size = min(window, max(1, len(rr_s)))
    left = size // 2
    nn_s = np.pad(np.where(normal_pair, rr_s, np.nan), (left, size - 1 - left), mode="edge")
    windows = np.sort(sliding_window_view(nn_s, size), axis=1)  # NaNs last
    counts = np.sum(~np.isnan(windows), axis=1)
    median_s = windows[np.arange(len(windows)), counts // 2]
    return np.where(counts >= MIN_BASE_NN_INTERVALS, median_s, np.nan)


def _centred_mean(values: np.ndarray, window: int) -> np.ndarray:
    return mean_filter(values, size=min(window, max(1, len(values))))


# --- Consolidation: what a cardiologist would write, not every flicker of the local rate ---

MERGE_GAP_S = 2.0  # episodes of one label closer than this are one episode
MIN_RATE_EPISODE_S = 10.0  # sinus brady/tachycardia shorter than this is just sinus rhythm
SUMMARY_EPISODES = 20
BACKGROUND = (
    SINUS, BRADY, TACHY, AF, PACED, NO_P_WAVES, NARROW_TACHYCARDIA, INVERTED_P_WAVES,
    COMPLETE_BLOCK,
)  # fmt: skip
SINUS_RATES = (SINUS, BRADY, TACHY)  # one rhythm, named by its rate
# Read from P waves: sinus rhythm has one before every QRS, and a dropped beat or 2:1
# conduction is AV block, a P wave not conducted. No strip without P waves holds them.
NEEDS_P_WAVES = (*SINUS_RATES, DROPPED, HALVED, TWO_TO_ONE)


def _without_p_waves(
    background: list[Episode],
    beat_s: np.ndarray,
    p_consistency: np.ndarray | None,
    wide_qrs: bool = False,
    p_waves_absent: bool = False,
    no_room_for_p_waves: bool = False,
) -> list[Episode]:
    """`background` with its sinus-named stretches of NO_P_WAVE_MIN_S or more, at a median rate
    under 60 or from 130 bpm, whose beats show no consistent P wave (median consistency under
    AF_P_CONSISTENCY) named NO_P_WAVES, when they last longer than the sinus stretches left:
    sinus rhythm has a P wave before every QRS. Two minutes of synthetic junctional rhythm at
    42-58 bpm read "Sinus bradycardia" (one "No significant arrhythmia"), where a strip of it
    reads another rhythm. Only where such stretches are the recording's rhythm, and outside
    the rate bounds: at 100-112 bpm real sinus rhythm with frequent PVCs reads consistencies of
    0.2-0.3 (MIT-BIH 208); a minority stretch stays named by its rate. With a wide QRS
    (`wide_qrs`, 120 ms or more) the consistency is not asked: the region it reads, up to
    80 ms before the R peak, takes in the wide QRS's onset, which is consistent from beat to
    beat (idioventricular rhythm at 30-38 bpm read consistencies of 0.7-0.75 and "Sinus
    bradycardia"); the median beat without a P wave decides, and inside the rate bounds
    (which guard against the consistency's failure) when no lead shows one (`p_waves_absent`:
    accelerated idioventricular rhythm at 55-100 bpm read "Sinus rhythm", 18 of 20 two-minute
    ones; svdb 874, sinus rhythm at 75 bpm with a wide QRS whose leads disagree on the P
    onset, stays sinus).

    From 130 bpm with a narrow QRS such a stretch is NARROW_TACHYCARDIA, and no lead showing a
    P wave (`p_waves_absent`, or `no_room_for_p_waves` between the T wave and the QRS) is
    enough: at that rate the region the consistency reads holds
    the T wave before, consistent from beat to beat (two minutes of synthetic AV nodal
    re-entry at 153-172 bpm read "Sinus tachycardia", 7 of 12, seed 3101). Sinus tachycardia
    whose P waves the read cannot find reads so too (QT Database sel310, svdb 848): the
    finding names it among the causes (`ml.findings`), as a cardiologist who sees no P wave
    would."""
    if p_consistency is None:
        return background
    slow, fast = NO_P_WAVE_RATES_BPM

    def rate_bpm(e: Episode) -> float:
        inside = (beat_s >= e.start_s) & (beat_s <= e.end_s)
        return 60.0 / float(np.median(np.diff(beat_s[inside])))

    def lacks_p_waves(e: Episode) -> bool:
        inside = (beat_s >= e.start_s) & (beat_s <= e.end_s)
        if e.label not in SINUS_RATES or e.duration_s < NO_P_WAVE_MIN_S or inside.sum() < 3:
            return False
        outside_bounds = rate_bpm(e) < slow or rate_bpm(e) >= fast
        inconsistent = float(np.median(p_consistency[inside])) < AF_P_CONSISTENCY
        if wide_qrs:
            return outside_bounds or p_waves_absent
        if rate_bpm(e) >= fast and (p_waves_absent or no_room_for_p_waves):
            return True
        return outside_bounds and inconsistent

    def named(e: Episode) -> Episode:
        label = NO_P_WAVES if wide_qrs or rate_bpm(e) < fast else NARROW_TACHYCARDIA
        return Episode(label, e.start_s, e.end_s, e.n_beats)

    flagged = [lacks_p_waves(e) for e in background]
    without_s = sum(e.duration_s for e, f in zip(background, flagged, strict=True) if f)
    sinus_s = sum(
        e.duration_s
        for e, f in zip(background, flagged, strict=True)
        if e.label in SINUS_RATES and not f
    )
    if without_s <= sinus_s:
        return background
    return [named(e) if f else e for e, f in zip(background, flagged, strict=True)]


def _with_inverted_p_waves(background: list[Episode]) -> list[Episode]:
    """`background` with its sinus-named stretches named INVERTED_P_WAVES: sinus P waves are
    upright in lead II, and two minutes of synthetic ectopic atrial rhythm, a P wave inverted
    there before every QRS, read "Sinus rhythm" (12 of 12; a strip of it reads another
    rhythm, `ml.sinus_strip`). The recording's median P wave decides, so every such stretch
    is named so."""
    return [
        Episode(INVERTED_P_WAVES, e.start_s, e.end_s, e.n_beats) if e.label in SINUS_RATES else e
        for e in background
    ]


def _holds_block_cycles(episode: Episode, cycles_s: list[tuple[float, float]]) -> bool:
    """An AF episode holding `AF_EXCLUDING_MOBITZ_CYCLES` long cycles of a Mobitz I or II
    block (`ml.wenckebach`, `ml.mobitz_ii`): P waves marching at a steady rate are no
    fibrillation (4 of 40 synthetic Wenckebach rhythms had read AF)."""
    inside = [1 for start_s, end_s in cycles_s if episode.start_s <= start_s < episode.end_s]
    return len(inside) >= AF_EXCLUDING_MOBITZ_CYCLES


def _on_a_cycle(episode: Episode, cycles_s: list[tuple[float, float]]) -> bool:
    return any(start_s < episode.end_s and episode.start_s < end_s for start_s, end_s in cycles_s)


def consolidate(episodes: list[Episode]) -> list[Episode]:
    """Short brady/tachycardia stretches read as sinus rhythm, adjacent episodes of one label
    merged (never two runs of ectopic beats, `RUNS`), short sinus rhythm between two stretches
    of one rate label merged into them, no short background flicker (`_without_flickers`), and
    no dropped-beat hint inside AF (where every interval is irregular)."""
    return _without_flickers(_bridge_short_sinus(_merge_adjacent(episodes)))


def _merge_adjacent(episodes: list[Episode]) -> list[Episode]:
    relabelled = [
        Episode(SINUS, e.start_s, e.end_s, e.n_beats)
        if e.label in (BRADY, TACHY) and e.duration_s < MIN_RATE_EPISODE_S
        else e
        for e in episodes
    ]
    af = [(e.start_s, e.end_s) for e in relabelled if e.label == AF]
    kept = [
        e for e in relabelled if not (e.label in (DROPPED, HALVED, TWO_TO_ONE) and _inside(e, af))
    ]
    merged: list[Episode] = []
    for label in dict.fromkeys(e.label for e in kept):
        if label in ONE_EACH or label in RUNS:
            merged += [e for e in kept if e.label == label]
            continue
        current: Episode | None = None
        for e in sorted((e for e in kept if e.label == label), key=lambda e: e.start_s):
            if current is not None and e.start_s - current.end_s <= MERGE_GAP_S:
                current = Episode(
                    label, current.start_s, max(current.end_s, e.end_s), _joined_beats(current, e)
                )
            else:
                if current is not None:
                    merged.append(current)
                current = e
        if current is not None:
            merged.append(current)
    return sorted(merged, key=lambda e: (e.start_s, e.label))


def _joined_beats(*episodes: Episode) -> int:
    """The beats of episodes joined into one, in time order: a beat where one ends and the
    next starts counts once (a merged sinus rhythm had listed 131 beats in a recording of
    130; a consistency audit)."""
    touching = sum(b.start_s <= a.end_s for a, b in zip(episodes, episodes[1:], strict=False))
    return sum(e.n_beats for e in episodes) - touching


def _bridge_short_sinus(episodes: list[Episode]) -> list[Episode]:
    """A sinus rhythm stretch shorter than `MIN_RATE_EPISODE_S` between two stretches of the
    same rate label (bradycardia on both sides, or tachycardia) is part of them: the rate
    crossed 60 or 100 for a few beats and back, which ends no bradycardia or tachycardia. The
    mirror of the rule that makes short rate stretches sinus rhythm (a rate hovering at 60
    bpm read 51 alternating episodes on MIT-BIH 101)."""
    rates = sorted(
        (e for e in episodes if e.label in (SINUS, BRADY, TACHY)), key=lambda e: e.start_s
    )
    bridged: list[Episode] = []
    for e in rates:
        if len(bridged) >= 2 and _bridges(bridged[-2], bridged[-1], e):
            gap = bridged.pop()
            before = bridged.pop()
            e = Episode(e.label, before.start_s, e.end_s, _joined_beats(before, gap, e))
        bridged.append(e)
    others = [e for e in episodes if e.label not in (SINUS, BRADY, TACHY)]
    return sorted(others + bridged, key=lambda e: (e.start_s, e.label))


def _without_flickers(episodes: list[Episode]) -> list[Episode]:
    """No background episode shorter than `MIN_RATE_EPISODE_S` inside another one, and no
    "paced or unclassifiable" one that short anywhere. Merging two stretches of bradycardia
    across a gap of up to `MERGE_GAP_S` covers the 2-s sinus rhythm between them, which then
    read as a second rhythm at the same time (MIT-BIH 108, 113, 233, svdb 844, 863; a 2-s
    unclassifiable stretch inside 105's sinus rhythm, where signal quality still marks the
    noise); and the beats of a recording's first and last second are left unclassified by
    design, which made a 1-5 s unclassifiable "rhythm" at the start of 683 of the 1,500
    cinc2017 strips and of MIT-BIH 207. Ventricular flutter/fibrillation holds the stretch as a
    background rhythm does: merged across a 2-s gap, it had covered a 1-s "sinus rhythm"."""
    background = [e for e in episodes if e.label in (*BACKGROUND, VF)]

    def flicker(e: Episode) -> bool:
        if e.label not in BACKGROUND or e.duration_s >= MIN_RATE_EPISODE_S:
            return False
        inside = any(
            o is not e and o.start_s <= e.start_s and e.end_s <= o.end_s for o in background
        )
        return inside or e.label == PACED

    return [e for e in episodes if not flicker(e)]


def _bridges(before: Episode, gap: Episode, after: Episode) -> bool:
    return (
        gap.label == SINUS
        and gap.duration_s < MIN_RATE_EPISODE_S
        and before.label == after.label
        and before.label in (BRADY, TACHY)
        and gap.start_s - before.end_s <= MERGE_GAP_S
        and after.start_s - gap.end_s <= MERGE_GAP_S
    )


def join_pauses(
    episodes: list[Episode], doubtful_beat_s: np.ndarray
) -> tuple[list[Episode], list[Episode]]:
    """Pauses that follow one another, split only by detections that may be no beat at all
    (`doubtful_beat_s`: faint, in poor signal), are one pause: such a "beat" does not end a
    long silence (svdb 850's 12.5-s sinus arrest, both leads flat, read as pauses of 7.8, 2.8
    and 2.1 s: the detector's thresholds, relearnt in the silence, found two "beats" in it),
    while an escape beat does (MIT-BIH 207's, in poor signal too, is full size). The
    episodes, and the pauses that were joined (for the notes)."""
    pauses = sorted((e for e in episodes if e.label == PAUSE), key=lambda e: e.start_s)
    doubtful = set(np.asarray(doubtful_beat_s, dtype=float).tolist())  # the pauses' own ends
    joined: list[Episode] = []
    for pause in pauses:
        if joined and joined[-1].end_s == pause.start_s and pause.start_s in doubtful:
            last = joined.pop()  # the beats of both, the one between counted once
            pause = Episode(PAUSE, last.start_s, pause.end_s, last.n_beats + pause.n_beats - 1)
        joined.append(pause)
    others = [e for e in episodes if e.label != PAUSE]
    return (
        sorted(others + joined, key=lambda e: (e.start_s, e.label)),
        [e for e in joined if e.n_beats > 2],  # a pause is bounded by 2 beats
    )


# What a summary lists first (`overview`): the labels in order of clinical significance, the
# sinus rhythm named by its rate last. AF had counted as background rhythm, after every 2-s
# pause and trigeminy run: MIT-BIH 201's table left out its three AF episodes, the report's
# main finding, for the "Also ..." line (a clinician-eye audit).
SIGNIFICANCE = (
    VF, VT, COMPLETE_BLOCK, MOBITZ_II, TWO_TO_ONE, AF, NARROW_TACHYCARDIA, SVT, PAUSE,
    MOBITZ_I, HALVED, DROPPED, IVR, NO_P_WAVES, INVERTED_P_WAVES, PACED, BIGEMINY, TRIGEMINY,
    TACHY, BRADY, SINUS,
)  # fmt: skip


def overview(episodes: list[Episode], limit: int = SUMMARY_EPISODES) -> dict[str, object]:
    """The episodes a summary lists (the `limit` most significant, in time order) and, per
    label, how many more there are. Significance: the label's place in SIGNIFICANCE, then
    the longer first; but every arrhythmia present first gets its longest episode a row (a Holter
    audit: a 4-h recording's 20 rows were all VT runs, its 72 min of AF in 4 episodes, a
    high-risk finding, only in the "also" line; a 24-h one's Mobitz II likewise)."""
    rank = {label: i for i, label in enumerate(SIGNIFICANCE)}
    ordered = sorted(
        range(len(episodes)),
        key=lambda i: (
            rank.get(episodes[i].label, len(rank)),  # a label of an older version: last
            -episodes[i].duration_s,
        ),
    )
    longest_of_each: dict[str, int] = {}
    for i in ordered:
        if episodes[i].label not in SINUS_RATES:  # the background: arrhythmias first
            longest_of_each.setdefault(episodes[i].label, i)
    chosen = set(list(longest_of_each.values())[:limit])
    chosen |= set([i for i in ordered if i not in chosen][: limit - len(chosen)])
    more: dict[str, int] = {}
    for i in ordered:
        if i not in chosen:
            more[episodes[i].label] = more.get(episodes[i].label, 0) + 1
    return {"listed": sorted(chosen), "more_by_label": more}


def dominant_rhythm(episodes: list[Episode]) -> tuple[str, float]:
    """The background rhythm covering the most time (a run of `RHYTHM_RUN_S` or more counts
    as one), and its share of the background time.
    A 2:1 AV block's stretch (TWO_TO_ONE) is sinus rhythm at its P waves' rate.
    Sinus rhythm at any rate counts as one rhythm against AF or pacing, then is named by the
    rate that covers most of it: 1.5 min of sinus rhythm and 1.3 min of sinus bradycardia
    are 2.8 min of sinus rhythm, more than 2.3 min of AF (MIT-BIH 219, minutes 13-19)."""
    totals: dict[str, float] = {}
    for episode in episodes:
        label = episode.label
        if label == TWO_TO_ONE:  # the atria's rhythm, at twice the QRS rate, is sinus
            label = sinus_label(120.0 * (episode.n_beats - 1) / max(episode.duration_s, 1e-9))
        if label in BACKGROUND or _is_rhythm(episode):
            totals[label] = totals.get(label, 0.0) + episode.duration_s
    if not totals:
        return "Undetermined", 0.0
    sinus = {k: v for k, v in totals.items() if k in SINUS_RATES}
    others = {k: v for k, v in totals.items() if k not in SINUS_RATES}
    if sum(sinus.values()) > max(others.values(), default=0.0):
        label, covered = max(sinus, key=lambda k: sinus[k]), sum(sinus.values())
    else:
        label = max(others, key=lambda k: others[k])
        covered = others[label]
    return label, covered / max(sum(totals.values()), 1e-9)


def _is_rhythm(episode: Episode) -> bool:
    """A run long enough to be the rhythm of its stretch (`RHYTHM_RUN_S`); ventricular
    flutter/fibrillation too (five minutes of it had read "Undetermined with ventricular
    flutter/fibrillation")."""
    return episode.label in (VT, SVT, IVR, VF) and episode.duration_s >= RHYTHM_RUN_S


def headline(episodes: list[Episode], main_label: str | None) -> str:
    """The dominant rhythm, and the main finding's rhythm beside it when that is another one
    (a mostly sinus Holter with 9 min of AF reads "Sinus rhythm with atrial fibrillation"),
    so the headline never contradicts the main finding; AF of 30 s or more that is neither is
    named before it (`_af_beside`): "Sinus rhythm with atrial fibrillation/flutter (42 min)
    and ventricular tachycardia (68 s)". Paroxysmal AF the other way round,
    mostly AF with stretches of sinus rhythm at any rate adding up to `AF_MIN_S` or more,
    reads "Atrial fibrillation/flutter with sinus rhythm (4.1 min)": the sinus stretches are
    where its dropped beats or first-degree block were found (MIT-BIH 219), and read as AF
    alone, those findings contradicted the headline."""
    label, _ = dominant_rhythm(episodes)
    if label == AF and main_label in (None, AF):
        sinus_s = sum(e.duration_s for e in episodes if e.label in SINUS_RATES)
        if sinus_s >= AF_MIN_S:
            return f"{AF} with sinus rhythm ({duration_text(sinus_s)})"
    af = _af_beside(episodes, label, main_label)
    if main_label is None or main_label == label or main_label not in LABELS:
        return f"{label} with {af}" if af else label
    seconds = sum(e.duration_s for e in episodes if e.label == main_label)
    named = main_label[0].lower() + main_label[1:]  # "AV block" keeps its capitals
    if main_label not in ONE_EACH:
        named = f"{named} ({duration_text(seconds)})"
    return f"{label} with {af} and {named}" if af else f"{label} with {named}"


def _af_beside(episodes: list[Episode], label: str, main_label: str | None) -> str:
    """ "atrial fibrillation/flutter (42 min)" when AF of `AF_MIN_S` or more is neither the
    dominant rhythm (`label`) nor the main finding, else "": the headline names it beside the
    main finding's rhythm. A 2-h Holter with 42 min (35 %) of AF and a VT main finding read
    "Sinus rhythm with ventricular tachycardia (68 s)", prefilled so on the sign form and
    signed without a word of AF (a Holter audit)."""
    if AF in (label, main_label):
        return ""
    seconds = sum(e.duration_s for e in episodes if e.label == AF)
    if seconds < AF_MIN_S:
        return ""
    return f"{AF[0].lower()}{AF[1:]} ({duration_text(seconds)})"


def with_ventricular_run(line: str, episodes: list[Episode], main_label: str | None) -> str:
    """A strip's sinus rhythm line with the main finding's ventricular flutter/fibrillation or
    tachycardia beside it, as `headline` says it of a longer recording: "Sinus rhythm with
    ventricular flutter/fibrillation (11 s)". A strip's one call is read over the whole strip
    and a run under half of it leaves it sinus, so MIT-BIH 205 (290-350 s) was headed "Sinus
    rhythm" above an episode table with 11 s of VF, and its sign form came prefilled so (an
    audit). A line that already names something beside its rhythm is kept."""
    if main_label not in (VF, VT) or " with " in line:
        return line
    seconds = sum(e.duration_s for e in episodes if e.label == main_label)
    if not seconds:
        return line
    named = main_label[0].lower() + main_label[1:]
    return f"{line} with {named} ({duration_text(seconds)})"


def strip_episodes(
    episodes: list[Episode], call: str, beat_s: np.ndarray, sinus_possible: bool = True
) -> list[Episode]:
    """A short strip's episodes made consistent with its one rhythm call (`ml.strip_rhythm`):
    AF covers the whole strip or none of it, and keeps no sinus, dropped-beat or SVT episode
    (its S calls are conducted AF beats, `ml.conducted_in_af`), nor a paced or unclassifiable
    stretch (two rhythms at once under one call); an unreadable strip, or one
    called ventricular flutter/fibrillation, keeps no beat-based episode; a call that rules
    sinus rhythm out (`not sinus_possible`: another rhythm without consistent P waves) keeps no
    sinus stretch, nor a dropped beat or 2:1 conduction (both read as AV block, which needs the
    P waves the call did not find, as in AF); and a strip holds bigeminy or trigeminy, not both
    (a strip has one rhythm, and the signing rule refuses the pair there): the one lasting
    longer stays, bigeminy on a tie."""
    if call in ("unclassifiable", "vf"):  # too noisy, or ventricular fibrillation throughout
        return [e for e in episodes if e.label == VF]
    kept = [
        e for e in episodes if e.label != AF and (sinus_possible or e.label not in NEEDS_P_WAVES)
    ]
    if call == "af" and len(beat_s) >= 2:
        kept = [e for e in kept if e.label not in (*NEEDS_P_WAVES, SVT, PACED)]
        whole = Episode(AF, float(beat_s[0]), float(beat_s[-1]), len(beat_s))
        fibrillation = [(e.start_s, e.end_s) for e in kept if e.label == VF]
        kept.extend(_outside(whole, fibrillation, beat_s, min_s=0.0))  # around VF, not over it
    lasting = {k: sum(e.duration_s for e in kept if e.label == k) for k in (BIGEMINY, TRIGEMINY)}
    if all(lasting.values()):
        shorter = TRIGEMINY if lasting[BIGEMINY] >= lasting[TRIGEMINY] else BIGEMINY
        kept = [e for e in kept if e.label != shorter]
    return sorted(kept, key=lambda e: (e.start_s, e.label))


def named_as_the_strip(
    episodes: list[Episode],
    call_text: str,
    beat_s: np.ndarray | None = None,
    classes: np.ndarray | None = None,
) -> list[Episode]:
    """On a strip called sinus bradycardia or tachycardia (`ml.strip_rhythm.named_by_rate`),
    its sinus rhythm stretches shorter than `MIN_RATE_EPISODE_S` take the call's name: that
    rule leaves a stretch too short to be named by its own rate sinus rhythm, and a 10-s
    strip's stretch always is (its edge beats are left out), so the episode table read "Sinus
    rhythm" under "Sinus bradycardia (regular, median rate 48 bpm)" (MIT-BIH 124, 60-70 s; an
    audit). Longer stretches keep their own rate's name, as on a long recording. Under a call
    that names no sinus rhythm (another rhythm), such a stretch is named by its own NN rate
    (`_named_by_nn_rate`)."""
    if call_text not in SINUS_RATES and beat_s is not None and classes is not None:
        return [_named_by_nn_rate(e, beat_s, classes) for e in episodes]
    if call_text not in (BRADY, TACHY):
        return episodes
    renamed = [
        Episode(call_text, e.start_s, e.end_s, e.n_beats)
        if e.label == SINUS and e.duration_s < MIN_RATE_EPISODE_S
        else e
        for e in episodes
    ]
    joined: list[Episode] = []  # a renamed stretch beside one of the call's name is one with it
    for e in sorted((e for e in renamed if e.label == call_text), key=lambda e: e.start_s):
        if joined and e.start_s - joined[-1].end_s <= MERGE_GAP_S:
            last = joined.pop()
            e = Episode(call_text, last.start_s, max(last.end_s, e.end_s), _joined_beats(last, e))
        joined.append(e)
    others = [e for e in renamed if e.label != call_text]
    return sorted(others + joined, key=lambda e: (e.start_s, e.label))


def _named_by_nn_rate(episode: Episode, beat_s: np.ndarray, classes: np.ndarray) -> Episode:
    """A sinus rhythm stretch shorter than `MIN_RATE_EPISODE_S` named by the median of its NN
    intervals (`sinus_label`), given at least `MIN_BASE_NN_INTERVALS`: a strip called another
    rhythm listed "Sinus rhythm 1.6-9.6 s" at 161 bpm below "Other rhythm ... fast (median
    rate 161 bpm)" (MIT-BIH 209, 420-430 s, atrial tachycardia called N)."""
    if episode.label != SINUS or episode.duration_s >= MIN_RATE_EPISODE_S:
        return episode
    inside = (beat_s >= episode.start_s) & (beat_s <= episode.end_s)
    times_s, called = np.asarray(beat_s)[inside], np.asarray(classes)[inside]
    nn_s = np.diff(times_s)[(called[:-1] == "N") & (called[1:] == "N")]
    if len(nn_s) < MIN_BASE_NN_INTERVALS:
        return episode
    label = sinus_label(60.0 / float(np.median(nn_s)))
    return Episode(label, episode.start_s, episode.end_s, episode.n_beats)
