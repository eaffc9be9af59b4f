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
