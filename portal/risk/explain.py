"""Why a result came out as it did: the risk if one factor at a time were at a healthy level."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from portal.risk.result import FactorEffect, RiskResult

# factor -> (label, the inputs that would make it "normal")
References = dict[str, tuple[str, dict[str, Any]]]


def with_effects(
    result: RiskResult, references: References, risk_with: Callable[[dict[str, Any]], float]
) -> RiskResult:
    """`result` plus one FactorEffect per factor present in its inputs.

    `risk_with(changed)` recomputes the risk percent with `changed` inputs (canonical units).
    """
    effects = []
    for factor, (label, normal) in references.items():
        if not set(normal) <= set(result.inputs_used):
            continue
        at_reference = risk_with(normal)
        value = {k: result.inputs_used[k] for k in normal}
        effects.append(
            FactorEffect(
                factor=factor,
                label=label,
                value=value if len(value) > 1 else next(iter(value.values())),
                reference=normal if len(normal) > 1 else next(iter(normal.values())),
                risk_percent_at_reference=at_reference,
                change_percent_points=result.risk_percent - at_reference,
            )
        )
    return dataclasses.replace(result, effects=effects)
