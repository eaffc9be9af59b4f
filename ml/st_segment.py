"""ST elevation on a multi-lead ECG: the sign of an acute coronary occlusion a machine read
must not pass over.

The ST level is read on each lead's median beat, against the PR segment (the median beat is
already zeroed there, `ml.intervals`), 20 ms after the QRS end (the J point), `ST_AFTER_J_MS`:
the criteria are the J point's, and later points (40 or 60 ms) read the upstroke of a tall T
wave after a short ST segment as elevation (synthetic normal 12-leads: 3 of 40 at 60 ms, 2 at
40, none at 20). ST elevation is the Fourth Universal Definition of Myocardial Infarction's
(Thygesen et al. 2018): at least 0.1 mV in two contiguous leads, 0.2 mV in V2 and V3 (the
figure for men over 40; the read does not know the patient's sex and age, and women's 0.15
mV is not used). Contiguous: the inferior leads (II, III, aVF), the lateral limb leads (I,
aVL) and neighbouring chest leads. With a wide QRS
(120 ms or more) the elevation may be secondary to a bundle-branch block or a paced rhythm,
and the finding says so at medium risk (`WIDE_QRS_CAVEAT`); an injury current also delays
the QRS end the read finds (synthetic QRS complexes of 96-105 ms read 120-131 ms under 0.2-0.4
mV of ST elevation), so a wide QRS does not silence it. Nothing is read where the QRS was not
measured with high confidence.

ST depression (the same definition: horizontal or downsloping, at least 0.05 mV in two
contiguous leads) is read as still that deep `ST_LATE_MS` after the QRS end; beside ST
elevation it is named as the reciprocal change, alone it is a finding at medium risk (high in
8 or more leads with ST elevation in aVR, `diffuse_with_avr_elevation`), and not with a wide
QRS, whose repolarization is secondary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ml.recording import standard_order

ST_AFTER_J_MS = 20.0
ST_LATE_MS = 80.0  # depression must hold this long after the QRS end (horizontal or down)
DEPRESSION_MV = 0.05
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
# aVR has no contiguous lead, but its ST elevation beside diffuse ST depression is the sign of
# left main or multivessel ischaemia (`DIFFUSE_DEPRESSION_LEADS`): it is measured and listed
# (it had been neither, though the review page's list is of every standard lead).
READ_LEADS = (*dict.fromkeys(lead for pair in CONTIGUOUS for lead in pair), "aVR")
# ST depression in 8 or more leads with ST elevation in aVR (Fourth Universal Definition of
# Myocardial Infarction, 2018; ESC NSTE-ACS guideline): left main or multivessel ischaemia.
DIFFUSE_DEPRESSION_LEADS = 8
AVR_ELEVATION_MV = ELEVATION_MV
TERRITORY = {
    "II": "inferior", "III": "inferior", "aVF": "inferior", "I": "lateral", "aVL": "lateral",
    "V5": "lateral", "V6": "lateral", "V1": "septal", "V2": "septal", "V3": "anterior",
    "V4": "anterior",
}  # fmt: skip


def st_levels_mv(
    centred_mv: np.ndarray,
    lead_names: tuple[str, ...],
    qrs_offset: int,
    fs_hz: float,
    after_ms: float = ST_AFTER_J_MS,
) -> dict[str, float]:
    """Per lead of `READ_LEADS` present, the ST level (mV, 0 = the PR segment) `after_ms`
    after the QRS end of the median beat [samples, leads] (the mean over 10 ms around it), in
    the standard lead order whatever the file's (a clinician-eye audit read "V6 ... I")."""
    point = qrs_offset + round(after_ms * fs_hz / 1000)
    half = max(1, round(0.005 * fs_hz))
    if point + half >= centred_mv.shape[0]:
        return {}
    window = slice(point - half, point + half + 1)
    read = standard_order([name for name in lead_names if name in READ_LEADS])
    return {
        name: round(float(np.mean(centred_mv[window, lead_names.index(name)])), 3) for name in read
    }


def elevated_leads(levels_mv: dict[str, float]) -> list[str]:
    """The leads whose ST elevation meets the threshold in at least one contiguous pair, in
    the order of READ_LEADS (inferior, lateral limb, chest)."""

    def elevated(lead: str) -> bool:
        limit = ELEVATION_V2_V3_MV if lead in ("V2", "V3") else ELEVATION_MV
        return levels_mv.get(lead, -np.inf) >= limit

    found = {lead for pair in CONTIGUOUS if all(elevated(lead) for lead in pair) for lead in pair}
    return [lead for lead in READ_LEADS if lead in found]


def depressed_leads(levels_mv: dict[str, float], late_levels_mv: dict[str, float]) -> list[str]:
    """The leads whose ST segment is at least DEPRESSION_MV below the PR segment after the QRS
    end and still `ST_LATE_MS` later (horizontal or downsloping: the Fourth Universal
    Definition's ischaemic depression; an upsloping ST segment after a depressed J point is a
    normal finding at fast rates), in at least one contiguous pair."""

    def depressed(lead: str) -> bool:
        early, late = levels_mv.get(lead, 0.0), late_levels_mv.get(lead, 0.0)
        return early <= -DEPRESSION_MV and late <= -DEPRESSION_MV

    found = {lead for pair in CONTIGUOUS if all(depressed(lead) for lead in pair) for lead in pair}
    return [lead for lead in READ_LEADS if lead in found]


def levels_text(levels_mv: dict[str, float], leads: Sequence[str]) -> str:
    """'II 0.24, III 0.29, aVF 0.27 mV'."""
    return ", ".join(f"{lead} {levels_mv[lead]:.2f}" for lead in leads) + " mV"


def diffuse_with_avr_elevation(levels_mv: dict[str, float], depressed: Sequence[str]) -> bool:
    """ST depression in `DIFFUSE_DEPRESSION_LEADS` or more leads with ST elevation in aVR of
    `AVR_ELEVATION_MV` or more: left main or multivessel ischaemia, not a local change."""
    avr_mv = levels_mv.get("aVR", -np.inf)
    return len(depressed) >= DIFFUSE_DEPRESSION_LEADS and avr_mv >= AVR_ELEVATION_MV


def st_depression_detail(levels_mv: dict[str, float], leads: list[str]) -> str:
    """The ST-depression finding's words (no ST elevation beside it); in 8 or more leads with
    ST elevation in aVR, what that pattern suggests (`diffuse_with_avr_elevation`)."""
    if diffuse_with_avr_elevation(levels_mv, leads):
        return (
            f"ST depression in {levels_text(levels_mv, leads)} (horizontal or downsloping, at "
            f"least {DEPRESSION_MV} mV in two contiguous leads; {len(leads)} leads) with ST "
            f"elevation in aVR {levels_mv['aVR']:+.2f} mV: consider left main or multivessel "
            "ischaemia; compare with a previous ECG and act on the clinical picture"
        )
    return (
        f"ST depression in {levels_text(levels_mv, leads)} (horizontal or downsloping, at "
        f"least {DEPRESSION_MV} mV in two contiguous leads): myocardial ischaemia, or the "
        "strain of left ventricular hypertrophy, digoxin or a rate-related change: compare "
        "with a previous ECG and the clinical picture"
    )


WIDE_QRS_CAVEAT = (
    "; with a QRS of {qrs_ms:.0f} ms the elevation may be secondary to a bundle-branch block "
    "or a paced rhythm (judge it by Sgarbossa's criteria), or the injury current widened the "
    "QRS the read measured"
)


def st_elevation_detail(
    levels_mv: dict[str, float], leads: Sequence[str], reciprocal: Sequence[str] = ()
) -> str:
    """The finding's words: where, how much, what it may mean and what to do; the leads of
    ST depression beside it (`reciprocal`) are named as the reciprocal change."""
    walls = " and ".join(sorted({TERRITORY[lead] for lead in leads}))
    opposite = (
        f", with reciprocal ST depression in {levels_text(levels_mv, reciprocal)}"
        if reciprocal
        else ""
    )
    return (
        f"ST elevation in {levels_text(levels_mv, leads)} ({walls} leads; at least "
        f"{ELEVATION_MV} mV, {ELEVATION_V2_V3_MV} mV in V2-V3, in two contiguous leads, "
        f"after the QRS end){opposite}: an acute coronary occlusion until proven otherwise; "
        "pericarditis, early repolarization or a ventricular aneurysm look alike: compare with "
        "a previous ECG and act on the clinical picture"
    )
