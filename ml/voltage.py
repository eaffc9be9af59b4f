"""Left ventricular hypertrophy by QRS voltage (Sokolow-Lyon): S in V1 plus the taller R of V5
and V6, 3.5 mV or more (Sokolow & Lyon 1949; the AHA/ACCF/HRS recommendations of 2009 list it
among the voltage criteria). Read on the median beat of a 12-lead ECG that has V1 and V5 or V6.
Voltage alone is common in young and thin people and rarer with obesity, so the finding is
worded as voltage criteria at low risk, for the doctor to judge with the ST-T changes and an
echocardiogram. Not read with a wide QRS (a bundle-branch block changes the voltages by
itself)."""

from __future__ import annotations

import numpy as np

SOKOLOW_LYON_MV = 3.5
# Low QRS voltage: every limb lead's QRS under 0.5 mV peak to peak (AHA/ACCF/HRS 2009). A
# 12-lead ECG of 0.3-0.4 mV in every lead read "No significant arrhythmia", "Normal ECG"
# preselected (an audit of the 12-lead path): low voltage has causes a doctor looks for
# (effusion, obesity, emphysema, infiltration).
LOW_LIMB_VOLTAGE_MV = 0.5
LIMB_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF")


def sokolow_lyon_mv(
    centred_mv: np.ndarray, lead_names: tuple[str, ...], qrs_onset: int, qrs_offset: int
) -> float | None:
    """S wave depth in V1 plus the taller R wave of V5 and V6 (mV) on the median beat
    [samples, leads], None without V1 and V5 or V6."""
    qrs = slice(qrs_onset, qrs_offset + 1)
    lateral = [lead for lead in ("V5", "V6") if lead in lead_names]
    if "V1" not in lead_names or not lateral:
        return None
    s_v1 = max(0.0, -float(np.min(centred_mv[qrs, lead_names.index("V1")])))
    r_lateral = max(
        max(0.0, float(np.max(centred_mv[qrs, lead_names.index(lead)]))) for lead in lateral
    )
    return round(s_v1 + r_lateral, 2)


def lvh_detail(sokolow_lyon: float) -> str:
    """The finding's words."""
    return (
        f"QRS voltage: S in V1 plus R in V5 or V6 {sokolow_lyon:.1f} mV (Sokolow-Lyon, from "
        f"{SOKOLOW_LYON_MV} mV): left ventricular hypertrophy by voltage criteria; voltage alone "
        "is common in young and thin people: judge it with the ST-T changes and an "
        "echocardiogram"
    )


def limb_qrs_mv(
    centred_mv: np.ndarray, lead_names: tuple[str, ...], qrs_onset: int, qrs_offset: int
) -> float | None:
    """The largest QRS peak-to-peak (mV) of the six limb leads on the median beat, None
    without two of I, II and III (`six_limb_leads`)."""
    qrs = centred_mv[qrs_onset : qrs_offset + 1]
    leads = six_limb_leads({name: qrs[:, i] for i, name in enumerate(lead_names)})
    if leads is None:
        return None
    return round(max(float(np.ptp(lead)) for lead in leads.values()), 2)


def six_limb_leads(leads_mv: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """The six limb leads as recorded, or, when some are not, all six from two of I, II and
    III (Einthoven: II = I + III; Goldberger's augmented leads from them). A cardiograph's
    8-lead export (I, II, V1-V6) is common: low voltage at 0.45 mV read "Normal ECG", the
    patient told it was normal (an audit of the 12-lead path)."""
    if all(lead in leads_mv for lead in LIMB_LEADS):
        return {lead: leads_mv[lead] for lead in LIMB_LEADS}
    recorded = [lead for lead in ("I", "II", "III") if lead in leads_mv]
    if len(recorded) < 2:
        return None
    given = {lead: leads_mv[lead] for lead in recorded}
    i = given["I"] if "I" in given else given["II"] - given["III"]
    ii = given["II"] if "II" in given else i + given["III"]
    iii = given["III"] if "III" in given else ii - i
    return {
        "I": i,
        "II": ii,
        "III": iii,
        "aVR": -(i + ii) / 2,
        "aVL": (i - iii) / 2,
        "aVF": (ii + iii) / 2,
    }


def low_voltage_detail(limb_mv: float) -> str:
    """The finding's words."""
    return (
        f"QRS at most {limb_mv:.2f} mV peak to peak in every limb lead (under "
        f"{LOW_LIMB_VOLTAGE_MV} mV): low voltage"
    )
