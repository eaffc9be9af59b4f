"""ST elevation on a multi-lead ECG: the sign of an acute coronary occlusion a machine read
must not pass over.

The ST level is read on each lead's median beat, against the PR segment (the median beat is
already zeroed there, `ml.intervals`), 20 ms after the QRS end (the J point), `ST_AFTER_J_MS`:
the criteria are the J point's, and later points (40 or 60 ms) read the upstroke of a tall T
wave after a short ST segment as elevation (synthetic normal 12-leads: 3 of 40 at 60 ms, 2 at
40, none at 20). ST elevation is the Fourth Universal Definition of Myocardial Infarction's
(Thygesen et al. 2018): at least 0.1 mV in two
contiguous leads, 0.2 mV in V2 and V3 (the figure for men over 40; the read does not know the
patient's sex and age, and women's 0.15 mV is not used). Contiguous: the inferior leads (II,
III, aVF), the lateral limb leads (I, aVL) and neighbouring chest leads. With a wide QRS
(120 ms or more) the elevation may be secondary to a bundle-branch block or a paced rhythm,
and the finding says so at medium risk (`WIDE_QRS_CAVEAT`); an injury current also delays
the QRS end the read finds (synthetic QRS complexes of 96-105 ms read 120-131 ms under 0.2-0.4
mV of ST elevation), so a wide QRS does not silence it. Nothing is read where the QRS was not
measured with high confidence.
"""

from __future__ import annotations

import numpy as np

ST_AFTER_J_MS = 20.0
ELEVATION_MV = 0.1
ELEVATION_V2_V3_MV = 0.2
CONTIGUOUS = (
    ("II", "III"),
    ("II", "aVF"),
    ("III", "aVF"),
    ("I", "aVL"),
    ("V1", "V2"),
    ("V2", "V3"),
    ("V3", "V4"),
    ("V4", "V5"),
    ("V5", "V6"),
)
READ_LEADS = tuple(dict.fromkeys(lead for pair in CONTIGUOUS for lead in pair))
TERRITORY = {
    "II": "inferior", "III": "inferior", "aVF": "inferior", "I": "lateral", "aVL": "lateral",
    "V5": "lateral", "V6": "lateral", "V1": "septal", "V2": "septal", "V3": "anterior",
    "V4": "anterior",
}  # fmt: skip


def st_levels_mv(
    centred_mv: np.ndarray, lead_names: tuple[str, ...], qrs_offset: int, fs_hz: float
) -> dict[str, float]:
    """Per lead of `READ_LEADS` present, the ST level (mV, 0 = the PR segment) after the QRS
    end of the median beat [samples, leads] (the mean over 10 ms around the point)."""
    point = qrs_offset + round(ST_AFTER_J_MS * fs_hz / 1000)
    half = max(1, round(0.005 * fs_hz))
    if point + half >= centred_mv.shape[0]:
        return {}
    window = slice(point - half, point + half + 1)
    return {
        name: round(float(np.mean(centred_mv[window, i])), 3)
        for i, name in enumerate(lead_names)
        if name in READ_LEADS
    }


def elevated_leads(levels_mv: dict[str, float]) -> list[str]:
    """The leads whose ST elevation meets the threshold in at least one contiguous pair, in
    the standard order."""

    def elevated(lead: str) -> bool:
        limit = ELEVATION_V2_V3_MV if lead in ("V2", "V3") else ELEVATION_MV
        return levels_mv.get(lead, -np.inf) >= limit

    found = {lead for pair in CONTIGUOUS if all(elevated(lead) for lead in pair) for lead in pair}
    return [lead for lead in READ_LEADS if lead in found]


WIDE_QRS_CAVEAT = (
    "; with a QRS of {qrs_ms:.0f} ms the elevation may be secondary to a bundle-branch block "
    "or a paced rhythm (judge it by Sgarbossa's criteria), or the injury current widened the "
    "QRS the read measured"
)


def st_elevation_detail(levels_mv: dict[str, float], leads: list[str]) -> str:
    """The finding's words: where, how much, what it may mean and what to do."""
    territories = sorted({TERRITORY[lead] for lead in leads})
    shown = ", ".join(f"{lead} {levels_mv[lead]:.2f}" for lead in leads)
    return (
        f"ST elevation in {shown} mV ({' and '.join(territories)} leads; at least "
        f"{ELEVATION_MV} mV, {ELEVATION_V2_V3_MV} mV in V2-V3, in two contiguous leads, "
        "after the QRS end): an acute coronary occlusion until proven otherwise; pericarditis, "
        "early repolarization or a ventricular aneurysm look alike: compare with a previous ECG "
        "and act on the clinical picture"
    )
