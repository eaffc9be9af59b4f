"""Left and right arm electrodes swapped: the commonest electrode mistake on a 12-lead ECG.

With the arm electrodes reversed, lead I is lead I upside down (its P wave, QRS and T wave all
point down), II and III trade places and so do aVR and aVL, so aVR, which looks at the heart
from the right shoulder and is negative in sinus rhythm, shows an upright P wave and QRS. Read
as it stands, such an ECG shows an extreme right axis and an ectopic atrial rhythm that are
not there. The pattern (lead I with a negative P wave and QRS, aVR with a P wave that is not
negative; Hedén et al. 1995, Batchvarov et al. 2007) is also dextrocardia's, which the
precordial leads tell apart, and the read says both. A right axis deviation alone keeps its P
wave upright in lead I (the atria do not turn with the ventricles), and a negative P wave in
lead I alone can be a left atrial rhythm, so the QRS and T wave of lead I are asked too.
"""

from __future__ import annotations

import numpy as np

MIN_WAVE_MV = 0.03  # a P or T wave smaller than this in a lead has no polarity to read
ARMS_SWAPPED = (
    "the left and right arm electrodes look swapped (lead I is upside down: inverted P wave, "
    "QRS and T wave; aVR upright), or the heart lies on the right (dextrocardia): check the "
    "electrodes and repeat the ECG before reading the limb leads"
)


def arm_electrodes_swapped(
    beat_mv: np.ndarray,
    lead_names: tuple[str, ...],
    p_onset: int | None,
    qrs_onset: int,
    qrs_offset: int,
    t_end: int | None,
) -> bool:
    """Whether the median beat [samples, leads] (baseline at 0 before the QRS; boundaries in
    its samples) shows lead I with a negative P wave, QRS and T wave, and aVR a P wave that is
    not negative (aVR's P wave is plainly negative in sinus rhythm; swapped, aVR shows aVL's,
    small or upright). Not aVR's QRS: swapped it is aVL's, negative at axes of 60-90 degrees.
    False where a lead or a boundary is missing or a wave in lead I too small to say."""
    if "I" not in lead_names or "aVR" not in lead_names or p_onset is None or t_end is None:
        return False
    lead_i = beat_mv[:, lead_names.index("I")]
    lead_avr = beat_mv[:, lead_names.index("aVR")]
    p_wave, qrs, t_wave = (
        slice(p_onset, qrs_onset),
        slice(qrs_onset, qrs_offset + 1),
        slice(qrs_offset + 1, t_end + 1),
    )
    return (
        wave_polarity(lead_i[p_wave]) < 0
        and wave_polarity(lead_i[qrs]) < 0
        and wave_polarity(lead_i[t_wave]) < 0
        and wave_polarity(lead_avr[p_wave]) >= 0
    )


def wave_polarity(wave_mv: np.ndarray) -> int:
    """+1 or -1 by the larger of its highest and lowest points, 0 when both are under
    MIN_WAVE_MV (a QRS's net direction: its taller deflection)."""
    if wave_mv.size == 0:
        return 0
    high, low = float(np.max(wave_mv)), float(-np.min(wave_mv))
    if max(high, low) < MIN_WAVE_MV:
        return 0
    return 1 if high > low else -1
