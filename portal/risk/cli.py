"""`cardio risk MODEL --json ...`: any risk model from the command line.

Options are generated from each function's keyword arguments, so the command and the library
cannot drift apart: `--age-years 55`, `--smoker/--no-smoker`, `--chol-unit mmol/L`.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import click

from portal import risk
from portal.risk import BEYOND_CALIBRATION, NOT_SIZED, grace
from portal.risk.framingham import heart_age_text
from portal.risk.result import RiskResult

MODELS: dict[str, Callable[..., RiskResult]] = {
    "framingham": risk.framingham_general_cvd,
    "framingham-bmi": risk.framingham_general_cvd_bmi,
    "atp3": risk.framingham_hard_chd_atp3,
    "grace": risk.grace_in_hospital,
    "grace-6m": risk.grace_six_month,
}
CHOICES = {
    "chol_unit": ("mg/dL", "mmol/L"),
    "creatinine_unit": ("mg/dL", "umol/L"),
    "sex": ("male", "female"),
    "acs_type": ("NSTE-ACS", "STEMI"),
}


def _option(parameter: inspect.Parameter) -> Callable[[Any], Any]:
    flag = "--" + parameter.name.replace("_", "-")
    required = parameter.default is inspect.Parameter.empty
    default = None if required else parameter.default
    if parameter.annotation in ("bool", bool):
        return click.option(f"{flag}/--no-{flag[2:]}", parameter.name, default=None, required=True)
    if parameter.name in CHOICES:
        return click.option(
            flag,
            parameter.name,
            type=click.Choice(CHOICES[parameter.name]),
            default=default,
            required=required,
            show_default=not required,
        )
    kind = int if parameter.annotation in ("int", int) else float
    return click.option(flag, parameter.name, type=kind, required=required)


def _command(name: str, function: Callable[..., RiskResult]) -> click.Command:
    def run(as_json: bool, **kwargs: Any) -> None:
        try:
            result = function(**kwargs)
        except risk.RiskInputError as problem:
            raise click.UsageError(f"--{problem.field.replace('_', '-')}: {problem}") from None
        click.echo(json.dumps(result.to_dict(), indent=2) if as_json else describe(result))

    command: Callable[..., Any] = run
    for parameter in reversed(list(inspect.signature(function).parameters.values())):
        command = _option(parameter)(command)
    command = click.option("--json", "as_json", is_flag=True, help="print JSON")(command)
    doc = (function.__doc__ or "").strip().splitlines()[0]
    return click.command(name, help=doc)(command)


def describe(result: RiskResult) -> str:
    """A short human-readable summary for the terminal."""
    lines = [result.title, f"  predicts: {result.predicts}"]
    sign = grace.BOUND_SIGNS.get(result.percent_bound or "", "")  # a nomogram's bound
    value = f"{sign}{result.risk_percent:.1f} %"
    ceiling = risk.beyond_calibration(result.model, result.risk_percent)
    if ceiling is not None:  # as the pages say it: no figure the extrapolation cannot give
        value = f"> {ceiling:.0f} %"
    if result.model in grace.BANDS_BY_MODEL:  # banded by its points, not by its percentage
        lines.append(f"  result:   {result.points} points ({result.category}) -> {value}")
    elif result.points is not None:
        lines.append(f"  result:   {result.points} points -> {value} ({result.category})")
    else:
        lines.append(f"  result:   {value} ({result.category})")
    if ceiling is not None:
        lines.append(f"  {BEYOND_CALIBRATION}: the equation's own figure is not stated")
    if result.heart_age_years is not None:
        lines.append(f"  heart age: {heart_age_text(result.heart_age_years)} years")
    effects = result.largest_effects()
    if ceiling is not None and effects:
        labels = ", ".join(effect.label for effect in effects)
        lines.append(f"  raised most by: {labels} (largest first; {NOT_SIZED})")
    else:
        for effect in effects:
            lines.append(f"  {effect.label}: +{effect.change_percent_points:.1f} percentage points")
    lines.append(f"  source:   {result.citation}")
    return "\n".join(lines)


@click.group("risk")
def risk_command() -> None:
    """Compute a cardiovascular risk score (Framingham 2008, ATP III, GRACE)."""


for _name, _function in MODELS.items():
    risk_command.add_command(_command(_name, _function))
