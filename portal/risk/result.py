"""What every risk model returns, and the one error type for inputs a model cannot take."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class RiskInputError(ValueError):
    """An input the model cannot use: missing, impossible, or outside the model's range.

    `field` names the keyword argument, so a form can show the message beside it.
    """

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class MissingInputError(RiskInputError):
    """A required input was not measured (None). Never replaced by a default."""


SHOWN_DECIMALS = 1  # every page, PDF and FHIR value gives a risk in % to one decimal


def as_shown(risk_percent: float) -> float:
    """A risk in % as it is shown ("20.0 %"): bands are decided on it, so a figure never
    contradicts its band. 19.993 % had been "20.0 % intermediate" where high is >= 20 %, and
    an ATP III 20.007 % "20.0 % high" where high is > 20 % (a risk-score audit, 2026-12-07)."""
    return round(risk_percent, SHOWN_DECIMALS)


class RiskLevel(enum.StrEnum):
    """A model's published band, ordered: the worklist escalates on HIGH."""

    LOW = "low"
    INTERMEDIATE = "intermediate"
    HIGH = "high"

    @classmethod
    def highest(cls, levels: list[RiskLevel]) -> RiskLevel:
        order = list(cls)
        return max(levels, key=order.index)


@dataclass(frozen=True)
class FactorEffect:
    """How much one risk factor moves the result: the risk if it alone were at `reference`."""

    factor: str
    label: str
    value: Any
    reference: Any
    risk_percent_at_reference: float
    change_percent_points: float  # result minus risk_percent_at_reference


@dataclass(frozen=True)
class RiskResult:
    """One model's answer, with everything needed to explain and reproduce it.

    `risk_percent` is the predicted probability in percent; `points` is the integer score for
    point-based models (GRACE). `inputs_used` holds the inputs after unit conversion (canonical
    units in the keys); `contributions` holds each term of the model (log-hazard terms for
    Framingham, points for GRACE).
    """

    model: str
    title: str
    predicts: str
    citation: str
    risk_percent: float
    category: str  # in words: "high", or each GRACE band's ("NSTE-ACS high, STEMI intermediate")
    level: RiskLevel  # the highest band of `category` (the typed value the worklist reads)
    inputs_used: dict[str, Any]
    contributions: dict[str, float]
    points: int | None = None
    # "<=": the risk is at most `risk_percent` (a nomogram's floor, "0.8 % or less"), ">=": at
    # least; None: an estimate (`grace.percent_bound`).
    percent_bound: str | None = None
    heart_age_years: float | None = None
    effects: list[FactorEffect] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def largest_effects(self, n: int = 3) -> list[FactorEffect]:
        """The factors that raise the risk most, largest first (only those that raise it)."""
        rising = [e for e in self.effects if e.change_percent_points > 0.05]
        return sorted(rising, key=lambda e: -e.change_percent_points)[:n]
