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
    (`ml.recording.canonical_lead_name`)."""
    if "II" not in lead_names or intervals.p_onset_ms is None or intervals.qrs_onset_ms is None:
        return None
    r_index = int(BEFORE_R_S * fs_hz)
    start = r_index + round(intervals.p_onset_ms * fs_hz / 1000)
    stop = min(
        start + round(P_WAVE_S * fs_hz),
        r_index + round((intervals.qrs_onset_ms / 1000 - BEFORE_QRS_S) * fs_hz),
    )
    if start < 0 or stop <= start or len(beats_mv) < 3:
        return None
    waves = beats_mv[:, start:stop, lead_names.index("II")]
    median_wave = np.median(waves - waves[:, :1], axis=0)
    return wave_polarity(median_wave)


def inverted_p_waves(polarity_in_lead_ii: int | None, intervals: Intervals) -> bool:
    """Whether the P waves are inverted in lead II by a P onset the leads agree on: one lead's
    P onset may be a T wave's end (MIT-BIH 109, LBBB, read negative at low confidence)."""
    confident = intervals.pr_ms is not None and intervals.confidence.get("pr") == "high"
    return polarity_in_lead_ii == -1 and confident
