"""The median P wave's polarity in lead II, the lead a rhythm's origin is read from: sinus P
waves point down and left, upright in II; an ectopic atrial or junctional rhythm's point up,
inverted there. A strip's sinus call (`ml.sinus_strip`) and a long recording's sinus stretches
(`ml.rhythm.detect_rhythms(..., p_waves_inverted=...)`) are checked against it."""

from __future__ import annotations

import numpy as np

from ml.intervals import BEFORE_R_S, Intervals
from ml.lead_reversal import wave_polarity

P_WAVE_S = 0.11  # a P wave lasts up to 110-120 ms
BEFORE_QRS_S = 0.02
# The level a P wave is measured against is its onset's, so the onset must lie at a baseline:
# where the trace over `BEFORE_ONSET_S` before it departs from that level by
# `OFF_BASELINE_SHARE` of the wave or more, the onset found lies inside the wave (the notch of
# a notched P wave, the slow start of its upstroke), and the wave's falling half reads
# "negative": MIT-BIH 124's upright sinus P waves (+0.08 mV, notched about 65 ms into them,
# where the onset was found) read "P waves inverted in lead II" at a PR of 94 ms for about
# 160. In lead II the MIT-BIH DS1 onsets at a baseline depart 0.02-0.14 of the wave there,
# 124's minutes 0.41-0.72 (none measured on DS2).
BEFORE_ONSET_S = 0.06
OFF_BASELINE_SHARE = 0.3
# A negative P wave is a trough: the trace falls from the onset's level and rises back toward
# it before the QRS (`BEFORE_QRS_S` before its onset: a P wave may last longer than
# `P_WAVE_S`). Where it rises back less than `RETURN_SHARE` of its fall, what was read is a
# step down onto the baseline from a wave before it (a small positive hump, the previous T
# wave's tail), not an inverted P wave: MIT-BIH 109 (left bundle branch block, sinus rhythm)
# read "Ectopic atrial or junctional rhythm (P waves inverted in II)" over 5 minutes, a fall
# of 0.23 mV rising back 0.05 before the QRS. Its 5-minute windows rise back 0.20-0.23 of the
# fall, synthetic inverted P waves (-0.08 to -0.25 mV at 50-118 bpm) all of it: half-way back
# is the rule, not tuned.
RETURN_SHARE = 0.5


def p_wave_polarity_in_lead_ii(
    beats_mv: np.ndarray, fs_hz: float, lead_names: tuple[str, ...], intervals: Intervals
) -> int | None:
    """The polarity (`ml.lead_reversal.wave_polarity`: +1, -1, 0 too small to say) of the
    median P wave in lead II, over `P_WAVE_S` from its onset (`intervals`, ms from the R peak)
    and at least `BEFORE_QRS_S` before the QRS onset, against the level at its onset; None
    without lead II, a P onset or beats to read. Not up to the QRS onset: the PR segment sags
    below the baseline after the P wave (atrial repolarisation, the band-pass), which read
    MIT-BIH 101's upright P waves as negative. `beats_mv`: band-passed normal beats [beats,
    window, leads] as `ml.intervals.aligned_beats` cuts them; `lead_names` canonical
    (`ml.recording.canonical_lead_name`). 0 where the onset does not lie at a baseline
    (`_onset_inside_the_wave`): its polarity cannot be told from there; 0 too where the fall
    does not rise back (`_rises_back`): a step, no negative wave."""
    if "II" not in lead_names or intervals.p_onset_ms is None or intervals.qrs_onset_ms is None:
        return None
    r_index = int(BEFORE_R_S * fs_hz)
    start = r_index + round(intervals.p_onset_ms * fs_hz / 1000)
    before_qrs = r_index + round((intervals.qrs_onset_ms / 1000 - BEFORE_QRS_S) * fs_hz)
    stop = min(start + round(P_WAVE_S * fs_hz), before_qrs)
    if start < 0 or stop <= start or len(beats_mv) < 3:
        return None
    lead_ii = beats_mv[:, :, lead_names.index("II")]
    from_onset = np.median(lead_ii - lead_ii[:, start : start + 1], axis=0)
    median_wave = from_onset[start:stop]
    before_onset = from_onset[_baseline_start(start, r_index, fs_hz, intervals) : start]
    if _onset_inside_the_wave(before_onset, median_wave):
        return 0
    polarity = wave_polarity(median_wave)
    if polarity == -1 and not _rises_back(median_wave, from_onset[start:before_qrs]):
        return 0
    return polarity


def _baseline_start(onset: int, r_index: int, fs_hz: float, intervals: Intervals) -> int:
    """Where the baseline before a P onset is read from: `BEFORE_ONSET_S` before it, but not
    before the previous beat's T wave has ended (at 120 bpm its tail lies 50 ms before the
    P wave)."""
    start = max(0, onset - round(BEFORE_ONSET_S * fs_hz))
    if intervals.t_end_ms is None or intervals.rr_ms is None:
        return start
    previous_t_end_ms = intervals.t_end_ms - intervals.rr_ms
    return max(start, r_index + round(previous_t_end_ms * fs_hz / 1000))


def _onset_inside_the_wave(before_onset_mv: np.ndarray, wave_mv: np.ndarray) -> bool:
    """True when the trace before a wave's onset (both relative to the onset's level) departs
    from that level by `OFF_BASELINE_SHARE` of the wave's largest departure or more: no
    baseline before it, so the onset found lies inside the wave."""
    if before_onset_mv.size == 0 or wave_mv.size == 0:
        return False
    wave_size_mv = float(np.max(np.abs(wave_mv)))
    return float(np.max(np.abs(before_onset_mv))) >= OFF_BASELINE_SHARE * wave_size_mv


def _rises_back(wave_mv: np.ndarray, to_qrs_mv: np.ndarray) -> bool:
    """True when the trace from a wave's lowest point to the QRS (`to_qrs_mv`, from the wave's
    onset, both relative to the onset's level) rises back by `RETURN_SHARE` of its fall or
    more: a trough below the baseline on both sides."""
    lowest = int(np.argmin(wave_mv))
    fall_mv = -float(wave_mv[lowest])
    rise_mv = float(np.max(to_qrs_mv[lowest:]) - wave_mv[lowest])
    return rise_mv >= RETURN_SHARE * fall_mv


def inverted_p_waves(polarity_in_lead_ii: int | None, intervals: Intervals) -> bool:
    """Whether the P waves are inverted in lead II by a P onset the leads agree on: one lead's
    P onset may be a T wave's end (MIT-BIH 109, LBBB, read negative at low confidence)."""
    confident = intervals.pr_ms is not None and intervals.confidence.get("pr") == "high"
    return polarity_in_lead_ii == -1 and confident
