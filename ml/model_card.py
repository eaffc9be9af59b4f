"""Views of the shipped model card that the portal, the README test and the trainer share:
the headline figures per database, named the same way everywhere."""

from __future__ import annotations

from typing import Any

KEYS: tuple[str, ...] = ("accuracy", "S_se", "S_ppv", "V_se", "V_ppv")
KEY_NAMES = {
    "accuracy": "accuracy",
    "S_se": "S Se",
    "S_ppv": "S +P",
    "V_se": "V Se",
    "V_ppv": "V +P",
    "rpeak_se": "R-peak Se",
    "rpeak_ppv": "R-peak +P",
}
DATABASE_NAMES = {"svdb": "svdb", "mitdb": "MIT-BIH DS1"}


def metrics_from_score_dict(result: dict[str, Any]) -> dict[str, float | None]:
    """Accuracy and S/V Se and +P from an `aami.BeatScore.as_dict()`."""
    per = result["per_class"]
    out: dict[str, float | None] = {"accuracy": result["accuracy"]}
    for cls in ("S", "V"):
        out[f"{cls}_se"] = per[cls]["se"]
        out[f"{cls}_ppv"] = per[cls]["ppv"]
    return out


def figure_rows(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The headline figures, one row per database and condition, in reading order."""
    oof = card.get("out_of_fold", {})
    rows: dict[str, dict[str, Any]] = {}
    for db, m in oof.get("end to end (analyze)", {}).items():
        rows[f"{DATABASE_NAMES.get(db, db)} out of fold, end to end"] = m
    for db, m in oof.get("reference R peaks", {}).items():
        rows[f"{DATABASE_NAMES.get(db, db)} out of fold, reference R peaks"] = m
    if "ds2_end_to_end" in card:
        rows["MIT-BIH DS2, end to end"] = card["ds2_end_to_end"]
    if "ds2_metrics" in card:
        rows["MIT-BIH DS2, reference R peaks"] = metrics_from_score_dict(card["ds2_metrics"])
    return rows


def pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal, or '-' when there was nothing to measure."""
    return "-" if value is None else f"{100 * value:.1f}"
