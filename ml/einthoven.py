"""Leads I, II and III that do not add up: Einthoven's law (I + III = II) broken.

The three limb leads are differences of the same three electrode potentials (I = LA - RA,
II = LL - RA, III = LL - LA), so I + III = II whatever the heart does and wherever the
electrodes are: swapping two electrodes (`ml.lead_reversal`) keeps the law. It breaks only
where a lead's signal itself is wrong: one lead written upside down by the device or an export
(its polarity reversed), or a channel labelled as the wrong lead. The axis read from such leads
is false (lead I inverted read a true +60 degrees as +120, "right axis deviation"), and which
lead is wrong cannot be told from the three alone, so no axis is given. A lead II the device
derives from I and III keeps the law exactly. The augmented leads are differences of the same
potentials too (Goldberger: aVR = -(I + II) / 2, aVL = (I - III) / 2, aVF = (II + III) / 2),
so an augmented lead that breaks its equation is itself upside down or mislabelled: the axis
read from aVF inverted was a false "Left axis deviation" (a true +57 degrees read -57).
"""

from __future__ import annotations

import numpy as np

# I + III - II on the median beat's QRS, as a share of the largest of the three leads (RMS).
# One lead inverted reads twice its own share: over 0.5 wherever it is a quarter of the
# largest or more. Synthetic 10-s 12-leads (QRS axes -75 to +150 degrees, 55-110 bpm, 1,002
# reads with the leads right): 0.014 at most clean, 0.06 under 0.1 mV of white noise, 0.37
# under nstdb muscle or baseline noise and 0.60 (1 read over 0.5) under 0.3 mV of nstdb
# electrode motion, each added to every lead on its own (a worst case: an electrode's noise
# reaches its leads alike and keeps the law). One lead inverted: 664 of 731 reads over 0.5;
# without added noise those under (the lead at right angles to the axis) moved it under 1
# degree.
MAX_EINTHOVEN_MISMATCH = 0.5
TRIPLE = ("I", "II", "III")
LIMB_LEADS_DISAGREE = (
    "leads I, II and III do not add up as they must (lead I + lead III = lead II): one of "
    "them looks upside down (its polarity reversed) or mislabelled by the recorder or the "
    "file's export; check the limb lead cables, the electrode placement and the recorder's "
    "lead settings before reading the limb leads"
)
AUGMENTED_DISAGREE = "not match leads I, II and III"  # in each reason below
# Each augmented lead from two of I, II and III (Goldberger), as (weight, lead) pairs.
GOLDBERGER = {
    "aVR": ((-0.5, "I"), (-0.5, "II")),
    "aVL": ((0.5, "I"), (-0.5, "III")),
    "aVF": ((0.5, "II"), (0.5, "III")),
}


def augmented_leads_disagree_reason(names: list[str]) -> str:
    """Why the axis is withheld when augmented leads `names` do not match I, II and III."""
    equations = "; ".join(f"{name} = {_equation(name)}" for name in names)
    which, it = (
        (f"lead {names[0]} does", "it looks")
        if len(names) == 1
        else (f"leads {', '.join(names)} do", "they look swapped,")
    )
    return (
        f"{which} {AUGMENTED_DISAGREE} as Goldberger's equations require ({equations}): {it} "
        "upside down (polarity reversed) or mislabelled by the recorder or the file's "
        "export; check the limb lead cables and the recorder's lead settings before reading "
        "the limb leads"
    )


def _equation(name: str) -> str:
    return {"aVR": "-(I + II) / 2", "aVL": "(I - III) / 2", "aVF": "(II + III) / 2"}[name]


def einthoven_mismatch(
    beat_mv: np.ndarray, lead_names: tuple[str, ...], qrs_onset: int, qrs_offset: int
) -> float | None:
    """RMS of I + III - II over the median beat's QRS [samples, leads] as a share of the
    largest RMS of the three there; None without all three leads or with a flat QRS."""
    if not set(TRIPLE) <= set(lead_names):
        return None
    lead_i, lead_ii, lead_iii = _triple(beat_mv[qrs_onset : qrs_offset + 1], lead_names)
    largest_mv = max(_rms(lead_i), _rms(lead_ii), _rms(lead_iii))
    if largest_mv == 0:
        return None
    return _rms(lead_i + lead_iii - lead_ii) / largest_mv


def limb_leads_disagree(
    beat_mv: np.ndarray, lead_names: tuple[str, ...], qrs_onset: int, qrs_offset: int
) -> bool:
    """Whether leads I, II and III break Einthoven's law beyond what noise explains."""
    mismatch = einthoven_mismatch(beat_mv, lead_names, qrs_onset, qrs_offset)
    return mismatch is not None and mismatch > MAX_EINTHOVEN_MISMATCH


def augmented_leads_that_disagree(
    beat_mv: np.ndarray, lead_names: tuple[str, ...], qrs_onset: int, qrs_offset: int
) -> list[str]:
    """The augmented leads (aVR, aVL, aVF) whose median beat's QRS breaks Goldberger's
    equation beyond what noise explains: the RMS of the lead less its value from I, II and III
    over the largest RMS of the leads in it, over `MAX_EINTHOVEN_MISMATCH` as in Einthoven's
    check. Needs I, II and III (`limb_leads_disagree` checks them first)."""
    if not set(TRIPLE) <= set(lead_names):
        return []
    qrs_mv = beat_mv[qrs_onset : qrs_offset + 1]
    limb = dict(zip(TRIPLE, _triple(qrs_mv, lead_names), strict=True))
    disagree = []
    for name, terms in GOLDBERGER.items():
        if name not in lead_names:
            continue
        augmented_mv = qrs_mv[:, lead_names.index(name)]
        expected_mv = sum(weight * limb[lead] for weight, lead in terms)
        largest_mv = max(_rms(augmented_mv), *(_rms(limb[lead]) for _, lead in terms))
        if largest_mv > 0 and _rms(augmented_mv - expected_mv) / largest_mv > (
            MAX_EINTHOVEN_MISMATCH
        ):
            disagree.append(name)
    return disagree


def _triple(qrs_mv: np.ndarray, lead_names: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    return tuple(qrs_mv[:, lead_names.index(name)] for name in TRIPLE)


def _rms(values_mv: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(values_mv)))) if values_mv.size else 0.0
