"""Signal units: everything becomes millivolts, or the reader says it cannot tell."""

from __future__ import annotations

from ml.errors import UnknownUnitsError

MV_PER_UNIT = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3, "nv": 1e-6}


def to_mv_factor(unit: str | None, *, lead: str) -> float:
    key = _key(unit)
    if key in MV_PER_UNIT:
        return MV_PER_UNIT[key]
    if not key:  # an EDF channel with an empty physical dimension: it had read "units ''"
        raise UnknownUnitsError(
            f"Lead {lead}: the file gives no units for this lead, so its values cannot be read "
            "as millivolts. Export it again with the units set (mV or uV: in EDF, the "
            "channel's physical dimension), or as CSV with the units chosen at upload."
        )
    raise UnknownUnitsError(
        f"Lead {lead}: unknown signal units {unit!r}. The analysis needs mV, uV or V."
    )


def is_voltage_unit(unit: str | None) -> bool:
    """Whether `unit` is one `to_mv_factor` reads (mV, uV, V, ...)."""
    return _key(unit) in MV_PER_UNIT


def _key(unit: str | None) -> str:
    key = (unit or "").strip().lower().replace("micro", "u").replace("milli", "m")
    return key.removesuffix("olt").removesuffix("olts")
