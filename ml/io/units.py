"""Signal units: everything becomes millivolts, or the reader says it cannot tell."""

from __future__ import annotations

from ml.errors import UnknownUnitsError

MV_PER_UNIT = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3, "nv": 1e-6}


def to_mv_factor(unit: str | None, *, lead: str) -> float:
    key = _key(unit)
    if key in MV_PER_UNIT:
        return MV_PER_UNIT[key]
    raise UnknownUnitsError(
        f"Lead {lead}: unknown signal units {unit!r}. The analysis needs mV, uV or V."
    )


def is_voltage_unit(unit: str | None) -> bool:
    """Whether `unit` is one `to_mv_factor` reads (mV, uV, V, ...)."""
    return _key(unit) in MV_PER_UNIT


def _key(unit: str | None) -> str:
    key = (unit or "").strip().lower().replace("micro", "u").replace("milli", "m")
    return key.removesuffix("olt").removesuffix("olts")
