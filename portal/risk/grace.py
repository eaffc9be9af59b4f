"""GRACE risk scores for acute coronary syndromes: in-hospital (Granger 2003) and 6-month
post-discharge (Eagle 2004) death, from the published points nomograms.

Each factor scores points from a band table; the total maps to a probability of death through
the paper's nomogram table (linear interpolation between its rows, in log-odds). The points per
factor are the explanation: they are exactly what the nomogram adds up.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portal.risk import inputs
from portal.risk.result import RiskLevel, RiskResult

IN_HOSPITAL_CITATION = (
    "Granger CB, Goldberg RJ, Dabbous O, et al. Predictors of hospital mortality in the global "
    "registry of acute coronary events. Arch Intern Med. 2003;163(19):2345-2353."
)
SIX_MONTH_CITATION = (
    "Eagle KA, Lim MJ, Dabbous OH, et al. A validated prediction model for all forms of acute "
    "coronary syndrome: estimating the risk of 6-month postdischarge death in an international "
    "registry. JAMA. 2004;291(22):2727-2733."
)
AGE_YEARS = inputs.Range("Age", 18, 110, "years", kind="model")
KILLIP_CLASS = inputs.Range("Killip class", 1, 4, "")


@dataclass(frozen=True)
class Bands:
    """Points by band: `lower_bounds[i]` starts the band worth `points[i]` (first is -inf)."""

    lower_bounds: tuple[float, ...]
    points: tuple[int, ...]

    def score(self, value: float) -> int:
        return self.points[bisect.bisect_right(self.lower_bounds, value) - 1]


def _bands(*pairs: tuple[float, int]) -> Bands:
    return Bands(tuple(b for b, _ in pairs), tuple(p for _, p in pairs))


NEG = -math.inf

# Granger 2003, in-hospital death nomogram.
IN_HOSPITAL_AGE = _bands(
    (NEG, 0), (30, 8), (40, 25), (50, 41), (60, 58), (70, 75), (80, 91), (90, 100)
)
IN_HOSPITAL_HR = _bands((NEG, 0), (50, 3), (70, 9), (90, 15), (110, 24), (150, 38), (200, 46))
IN_HOSPITAL_SBP = _bands((NEG, 58), (80, 53), (100, 43), (120, 34), (140, 24), (160, 10), (200, 0))
IN_HOSPITAL_CREATININE = _bands(
    (NEG, 1), (0.4, 4), (0.8, 7), (1.2, 10), (1.6, 13), (2.0, 21), (4.0, 28)
)
IN_HOSPITAL_KILLIP = {1: 0, 2: 20, 3: 39, 4: 59}
# Creatinine is banded at 0.01 mg/dL: the published tables give the same bands in umol/L
# (35-70, 71-105, 106-140, ...), and a value entered in umol/L converts with decimals that
# fall short of a mg/dL edge (106 umol/L = 1.199 mg/dL had scored the 0.8-1.19 band, 3
# points short of the umol/L table's). At 0.01 mg/dL both tables give every value's band.
CREATININE_BAND_DECIMALS = 2
IN_HOSPITAL_ARREST = 39
IN_HOSPITAL_ST_DEVIATION = 28
IN_HOSPITAL_ENZYMES = 14
# Probability of in-hospital death from the coordinating centre's continuous model (the
# logistic regression behind the nomogram): "Methods and formulas used to calculate the GRACE
# Risk Scores", Center for Outcomes Research, UMass. Killip class enters as 1-4.
IN_HOSPITAL_LOGISTIC = {
    "intercept": -7.7035,
    "age_years": 0.0531,
    "heart_rate_bpm": 0.0087,
    "sbp_mmhg": -0.0168,
    "creatinine_mg_dl": 0.1823,
    "killip_class": 0.6931,
    "cardiac_arrest": 1.4586,
    "st_deviation": 0.8755,
    "elevated_enzymes": 0.4700,
}
# The paper's nomogram: total points -> in-hospital death (%), shown beside the model's value.
IN_HOSPITAL_NOMOGRAM = (
    (60, 0.2),
    (70, 0.3),
    (80, 0.4),
    (90, 0.6),
    (100, 0.8),
    (110, 1.1),
    (120, 1.6),
    (130, 2.1),
    (140, 2.9),
    (150, 3.9),
    (160, 5.4),
    (170, 7.3),
    (180, 9.8),
    (190, 13.0),
    (200, 18.0),
    (210, 23.0),
    (220, 29.0),
    (230, 36.0),
    (240, 44.0),
    (250, 52.0),
)

# Eagle 2004, 6-month post-discharge death nomogram.
SIX_MONTH_AGE = _bands((NEG, 0), (40, 18), (50, 36), (60, 55), (70, 73), (80, 91), (90, 100))
SIX_MONTH_HR = _bands((NEG, 0), (50, 3), (70, 9), (90, 14), (110, 23), (150, 35), (200, 43))
SIX_MONTH_SBP = _bands((NEG, 24), (80, 22), (100, 18), (120, 14), (140, 10), (160, 4), (200, 0))
SIX_MONTH_CREATININE = _bands(
    (NEG, 1), (0.4, 3), (0.8, 5), (1.2, 7), (1.6, 9), (2.0, 15), (4.0, 20)
)
SIX_MONTH_HEART_FAILURE = 24
SIX_MONTH_PRIOR_MI = 12
SIX_MONTH_ST_DEPRESSION = 11
SIX_MONTH_ENZYMES = 15
SIX_MONTH_NO_PCI = 14
# Total points -> 6-month death (%): Eagle's nomogram rows from 70 to 170 points, and the upper
# ends of the published bands beyond (171-190: up to 33 %, 191-263: up to 54 %).
SIX_MONTH_MORTALITY = (
    (70, 0.8),
    (90, 1.6),
    (110, 3.1),
    (130, 5.8),
    (150, 11.0),
    (170, 20.0),
    (190, 33.0),
    (263, 54.0),
)


def mortality_percent(points: int, table: tuple[tuple[int, float], ...]) -> float:
    """Interpolate the nomogram table in log-odds; beyond its ends, its end values (the
    nomograms print "<= first" and ">= last" there, see `_nomogram_note`): a bound, which
    `nomogram_bound` says."""
    xs = [p for p, _ in table]
    if points <= xs[0]:
        return table[0][1]
    if points >= xs[-1]:
        return table[-1][1]
    i = bisect.bisect_right(xs, points) - 1
    (x0, p0), (x1, p1) = table[i], table[i + 1]
    l0, l1 = _logit(p0 / 100), _logit(p1 / 100)
    return 100 / (1 + math.exp(-(l0 + (l1 - l0) * (points - x0) / (x1 - x0))))


def nomogram_bound(points: int, table: tuple[tuple[int, float], ...]) -> str | None:
    """ "<=" at or below the nomogram's first row, where it gives only "or less" (Eagle's
    "0.8 % or less" at 70 points or fewer); ">=" beyond its last row; None between, where
    `mortality_percent` interpolates an estimate."""
    if points <= table[0][0]:
        return "<="
    return ">=" if points > table[-1][0] else None


BOUND_SIGNS = {"<=": "≤ ", ">=": "≥ "}  # a percent_bound as it is printed before the figure


def percent_bound(model: str, points: int) -> str | None:
    """Whether a GRACE score's percentage is a bound: the 6-month nomogram's floor at 70 points
    or fewer (its table ends at 263, the highest score); the in-hospital percentage comes from
    the continuous model, an estimate at every score."""
    return nomogram_bound(points, SIX_MONTH_MORTALITY) if model == "grace_six_month" else None


def in_hospital_logistic_percent(used: dict[str, Any]) -> float:
    """In-hospital death (%) from the continuous model, on inputs in canonical units."""
    xb = IN_HOSPITAL_LOGISTIC["intercept"] + sum(
        beta * float(used[name]) for name, beta in IN_HOSPITAL_LOGISTIC.items() if name in used
    )
    return 100.0 / (1.0 + math.exp(-xb))


def _nomogram_note(points: int, table: tuple[tuple[int, float], ...], outcome: str) -> str:
    (low_points, low_pct), (high_points, high_pct) = table[0], table[-1]
    if points <= low_points:
        return (
            f"the nomogram gives {low_pct:g} % or less {outcome} at {low_points} points or fewer."
        )
    if points >= high_points:
        return (
            f"the nomogram gives {high_pct:g} % or more {outcome} at {high_points} points or more."
        )
    estimate = mortality_percent(points, table)
    return f"the nomogram gives about {estimate:.1f} % {outcome} at {points} points."


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class RiskBands:
    """Published cut-offs on total points: low up to `low_max`, high from `high_min`."""

    low_max: int
    high_min: int

    def category(self, points: int) -> RiskLevel:
        if points <= self.low_max:
            return RiskLevel.LOW
        return RiskLevel.HIGH if points >= self.high_min else RiskLevel.INTERMEDIATE

    def points_words(self, level: RiskLevel) -> str:
        """The points of `level`'s band: "≤ 108 points", "109-140 points", "≥ 141 points"."""
        if level is RiskLevel.LOW:
            return f"≤ {self.low_max} points"
        if level is RiskLevel.HIGH:
            return f"≥ {self.high_min} points"
        return f"{self.low_max + 1}-{self.high_min - 1} points"


IN_HOSPITAL_BANDS = {"NSTE-ACS": RiskBands(108, 141), "STEMI": RiskBands(125, 155)}
SIX_MONTH_BANDS = {"NSTE-ACS": RiskBands(88, 119), "STEMI": RiskBands(99, 128)}
BANDS_BY_MODEL = {"grace_in_hospital": IN_HOSPITAL_BANDS, "grace_six_month": SIX_MONTH_BANDS}


def band_words(model: str, points: int) -> str:
    """The band `points` fall in by each ACS type's published cut-offs, with that band's
    points: "NSTE-ACS high (≥ 141 points), STEMI high (≥ 155 points)". The bands are of
    points: a band's registry death rate (NSTE-ACS high: over 3 % in hospital) is its
    patients' average, which one patient's probability need not reach (160 points, 2.2 %)."""
    return ", ".join(
        f"{name} {b.category(points)} ({b.points_words(b.category(points))})"
        for name, b in BANDS_BY_MODEL[model].items()
    )


def _levels(points: int, bands: dict[str, RiskBands], acs_type: str | None) -> dict[str, RiskLevel]:
    """The level in each band that applies: both when the ACS type is not known."""
    if acs_type is None:
        return {name: b.category(points) for name, b in bands.items()}
    if acs_type not in bands:
        raise inputs.RiskInputError(
            "acs_type", f"ACS type {acs_type!r} is not one of {', '.join(bands)}."
        )
    return {acs_type: bands[acs_type].category(points)}


def _category(levels: dict[str, RiskLevel]) -> str:
    if len(levels) == 1:
        return str(next(iter(levels.values())))
    return ", ".join(f"{name} {level}" for name, level in levels.items())


def _banded(creatinine_mg_dl: float) -> float:
    """The value at `CREATININE_BAND_DECIMALS`, rounded half up in decimal: a value stored at
    0.001 mg/dL sits on a half (141 umol/L is stored as 1.595), which `round` on the binary
    float had taken down to 1.59, a band and 3 points short of the umol/L table's."""
    step = Decimal(1).scaleb(-CREATININE_BAND_DECIMALS)
    return float(Decimal(str(creatinine_mg_dl)).quantize(step, rounding=ROUND_HALF_UP))


def _killip(value: int | None) -> int:
    number = inputs.number("killip_class", value, KILLIP_CLASS, model="GRACE")
    if number != int(number):
        raise inputs.RiskInputError("killip_class", "Killip class is a whole number from 1 to 4.")
    return int(number)


def _admission_inputs(
    age_years: float,
    heart_rate_bpm: float,
    sbp_mmhg: float,
    creatinine: float,
    creatinine_unit: str,
    elevated_enzymes: bool,
    *,
    model: str,
) -> dict[str, Any]:
    """The inputs both GRACE models take, checked and in canonical units."""
    return {
        "age_years": inputs.number("age_years", age_years, AGE_YEARS, model=model),
        "heart_rate_bpm": inputs.number(
            "heart_rate_bpm", heart_rate_bpm, inputs.HEART_RATE_BPM, model=model
        ),
        "sbp_mmhg": inputs.number("sbp_mmhg", sbp_mmhg, inputs.SBP_MMHG, model=model),
        "creatinine_mg_dl": inputs.creatinine_mg_dl(
            "creatinine", creatinine, creatinine_unit, model=model
        ),
        "elevated_enzymes": inputs.flag(
            "elevated_enzymes", elevated_enzymes, "Elevated cardiac enzymes"
        ),
    }


def grace_in_hospital(
    *,
    age_years: float,
    heart_rate_bpm: float,
    sbp_mmhg: float,
    creatinine: float,
    killip_class: int,
    cardiac_arrest: bool,
    st_deviation: bool,
    elevated_enzymes: bool,
    creatinine_unit: str = "mg/dL",
    acs_type: str | None = None,
) -> RiskResult:
    """GRACE points at admission and the probability of death in hospital they map to.

    `acs_type` ("NSTE-ACS" or "STEMI") picks the risk band; without it both are given.
    """
    used: dict[str, Any] = {
        **_admission_inputs(
            age_years,
            heart_rate_bpm,
            sbp_mmhg,
            creatinine,
            creatinine_unit,
            elevated_enzymes,
            model="GRACE in-hospital",
        ),
        "killip_class": _killip(killip_class),
        "cardiac_arrest": inputs.flag("cardiac_arrest", cardiac_arrest, "Cardiac arrest"),
        "st_deviation": inputs.flag("st_deviation", st_deviation, "ST-segment deviation"),
    }
    points = {
        "age": IN_HOSPITAL_AGE.score(used["age_years"]),
        "heart_rate": IN_HOSPITAL_HR.score(used["heart_rate_bpm"]),
        "sbp": IN_HOSPITAL_SBP.score(used["sbp_mmhg"]),
        "creatinine": IN_HOSPITAL_CREATININE.score(_banded(used["creatinine_mg_dl"])),
        "killip_class": IN_HOSPITAL_KILLIP[used["killip_class"]],
        "cardiac_arrest": IN_HOSPITAL_ARREST * used["cardiac_arrest"],
        "st_deviation": IN_HOSPITAL_ST_DEVIATION * used["st_deviation"],
        "elevated_enzymes": IN_HOSPITAL_ENZYMES * used["elevated_enzymes"],
    }
    total = int(sum(points.values()))
    levels = _levels(total, IN_HOSPITAL_BANDS, acs_type)
    return RiskResult(
        model="grace_in_hospital",
        title="GRACE in-hospital death (Granger 2003)",
        predicts="risk of death in hospital after an acute coronary syndrome",
        citation=IN_HOSPITAL_CITATION,
        risk_percent=in_hospital_logistic_percent(used),
        category=_category(levels),
        level=RiskLevel.highest(list(levels.values())),
        inputs_used=used,
        contributions={k: float(v) for k, v in points.items()},
        points=total,
        notes=[
            "Probability from the GRACE continuous model; "
            + _nomogram_note(total, IN_HOSPITAL_NOMOGRAM, "in-hospital death")
        ],
    )


def grace_six_month(
    *,
    age_years: float,
    heart_rate_bpm: float,
    sbp_mmhg: float,
    creatinine: float,
    history_of_heart_failure: bool,
    history_of_mi: bool,
    st_depression: bool,
    elevated_enzymes: bool,
    in_hospital_pci: bool,
    creatinine_unit: str = "mg/dL",
    acs_type: str | None = None,
) -> RiskResult:
    """GRACE points at discharge and the probability of death in the next 6 months."""
    used: dict[str, Any] = {
        **_admission_inputs(
            age_years,
            heart_rate_bpm,
            sbp_mmhg,
            creatinine,
            creatinine_unit,
            elevated_enzymes,
            model="GRACE 6-month",
        ),
        "history_of_heart_failure": inputs.flag(
            "history_of_heart_failure", history_of_heart_failure, "History of heart failure"
        ),
        "history_of_mi": inputs.flag("history_of_mi", history_of_mi, "History of heart attack"),
        "st_depression": inputs.flag("st_depression", st_depression, "ST-segment depression"),
        "in_hospital_pci": inputs.flag("in_hospital_pci", in_hospital_pci, "In-hospital PCI"),
    }
    points = {
        "age": SIX_MONTH_AGE.score(used["age_years"]),
        "history_of_heart_failure": SIX_MONTH_HEART_FAILURE * used["history_of_heart_failure"],
        "history_of_mi": SIX_MONTH_PRIOR_MI * used["history_of_mi"],
        "heart_rate": SIX_MONTH_HR.score(used["heart_rate_bpm"]),
        "sbp": SIX_MONTH_SBP.score(used["sbp_mmhg"]),
        "st_depression": SIX_MONTH_ST_DEPRESSION * used["st_depression"],
        "creatinine": SIX_MONTH_CREATININE.score(_banded(used["creatinine_mg_dl"])),
        "elevated_enzymes": SIX_MONTH_ENZYMES * used["elevated_enzymes"],
        "no_in_hospital_pci": SIX_MONTH_NO_PCI * (not used["in_hospital_pci"]),
    }
    total = int(sum(points.values()))
    levels = _levels(total, SIX_MONTH_BANDS, acs_type)
    return RiskResult(
        model="grace_six_month",
        title="GRACE 6-month death after discharge (Eagle 2004)",
        predicts="risk of death in the 6 months after discharge from an acute coronary syndrome",
        citation=SIX_MONTH_CITATION,
        risk_percent=mortality_percent(total, SIX_MONTH_MORTALITY),
        category=_category(levels),
        level=RiskLevel.highest(list(levels.values())),
        inputs_used=used,
        contributions={k: float(v) for k, v in points.items()},
        points=total,
        percent_bound=percent_bound("grace_six_month", total),
        notes=[
            "Probability from the points nomogram; "
            + _nomogram_note(total, SIX_MONTH_MORTALITY, "6-month death")
        ],
    )
