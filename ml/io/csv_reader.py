"""CSV recordings: one column per lead (`I, II, ..., V6`, any subset), optional `time` in s.

Units are mV unless the header says otherwise per column (`II (uV)`, `II [uV]`, `II_uV`) or the
caller declares them. A file whose values look like microvolts but are not declared so is
refused rather than analysed a thousand times too large.

An empty cell, `nan` or `inf` (as numerical software writes them) is a gap, not an error; a
word such as `n/a` is refused, since it suggests a column that is not a signal.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ml.errors import (
    SamplingRateError,
    TruncatedDataError,
    UnknownFormatError,
    UnknownUnitsError,
    UnusableSignalError,
)
from ml.io.units import to_mv_factor
from ml.recording import Recording, canonical_lead_name

TIME_COLUMNS = {"time", "t", "time_s", "time (s)", "time[s]", "seconds", "sec"}
UNIT_IN_NAME = re.compile(
    r"^(?P<lead>.+?)\s*(?:\((?P<a>[^)]*)\)|\[(?P<b>[^\]]*)\]|_(?P<c>[munµμ]?v))$", re.IGNORECASE
)
MAX_PLAUSIBLE_MV = 20.0  # no surface ECG reaches 20 mV; larger values are in other units
MAX_TIME_JITTER = 0.01  # relative spread of sample intervals still called "regular"


def read_csv(path: Path, *, fs_hz: float | None = None, units: str | None = None) -> Recording:
    _check_last_line(path)
    try:
        table = pd.read_csv(
            path, sep=_separator(path), skipinitialspace=True, keep_default_na=False, na_values=[""]
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise UnknownFormatError(f"{path.name}: not a readable CSV table ({error}).") from error
    if table.empty or table.shape[1] == 0:
        raise UnknownFormatError(f"{path.name}: the table has no rows.")
    columns = [str(c).strip() for c in table.columns]
    time_index = next((i for i, c in enumerate(columns) if c.lower() in TIME_COLUMNS), None)
    lead_columns = [i for i in range(len(columns)) if i != time_index]
    if not lead_columns:
        raise UnknownFormatError(f"{path.name}: no lead columns besides time.")
    data = _numbers(table, columns, path.name)

    if time_index is not None:
        fs_hz = _fs_from_time(data[:, time_index], path.name)
    elif fs_hz is None:
        raise SamplingRateError(
            f"{path.name} has no time column: give the sampling rate (Hz) of the recording."
        )
    names, factors = [], []
    for i in lead_columns:
        name, column_unit = _split_unit(columns[i])
        names.append(name)
        factors.append(to_mv_factor(column_unit or units or "mV", lead=name))
    with np.errstate(over="ignore", invalid="ignore"):  # 1e308 V is infinite in mV: a gap
        signal_mv = data[:, lead_columns] * np.array(factors)
    declared = units is not None or any(_split_unit(columns[i])[1] for i in lead_columns)
    finite = np.abs(signal_mv[np.isfinite(signal_mv)])
    # The 99.9th percentile: a few corrupted values (gaps later) do not decide the units.
    peak = float(np.percentile(finite, 99.9)) if finite.size else 0.0
    if not declared and peak > MAX_PLAUSIBLE_MV:
        raise UnknownUnitsError(
            f"{path.name}: values reach {peak:.0f}, far beyond any ECG in millivolts; they look "
            "like microvolts. Declare the units (uV) or label the columns, e.g. 'II (uV)'."
        )
    if declared and peak > MAX_PLAUSIBLE_MV:
        raise UnusableSignalError(
            f"{path.name}: the signal reaches {peak:.0f} mV, which no ECG does. Check the units."
        )
    return Recording(
        fs_hz=float(fs_hz),
        lead_names=tuple(names),
        signal_mv=signal_mv,
        source_format="csv",
        source_name=path.name,
    )


def _numbers(table: pd.DataFrame, columns: list[str], file_name: str) -> np.ndarray:
    """The table as floats; a cell pandas cannot convert must be one Python's float() reads
    (`nan`, `inf`, `1e309`), else the file is refused naming the cell."""
    numeric = table.apply(pd.to_numeric, errors="coerce")
    data = numeric.to_numpy(dtype=np.float64)
    unparsed = (numeric.isna() & table.notna()).to_numpy()
    for col in np.flatnonzero(unparsed.any(axis=0)):
        rows = np.flatnonzero(unparsed[:, col])
        cells = pd.Series(table.iloc[rows, col].to_numpy(), dtype=object)
        parsed = {cell: _float_or_none(cell) for cell in pd.unique(cells)}
        words = [cell for cell, value in parsed.items() if value is None]
        if words:
            first = int(np.flatnonzero(cells.isin(words))[0])
            raise UnknownFormatError(
                f"{file_name}: line {rows[first] + 2}, column {columns[col]!r} holds "
                f"{cells.iloc[first]!r}, which is not a number."
            )
        data[rows, col] = cells.map(parsed).to_numpy(dtype=np.float64)
    return data


def _float_or_none(cell: object) -> float | None:
    try:
        return float(str(cell).strip())
    except ValueError:
        return None


def _separator(path: Path) -> str:
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    return max((",", ";", "\t"), key=header.count)


def _split_unit(column: str) -> tuple[str, str | None]:
    match = UNIT_IN_NAME.match(column)
    if not match:
        return canonical_lead_name(column), None
    unit = match.group("a") or match.group("b") or match.group("c")
    return canonical_lead_name(match.group("lead")), unit


def _fs_from_time(time_s: np.ndarray, file_name: str) -> float:
    steps = np.diff(time_s)
    if len(steps) == 0 or not np.all(steps > 0):
        raise UnknownFormatError(f"{file_name}: the time column must increase on every line.")
    median = float(np.median(steps))
    if float(np.max(np.abs(steps - median))) > MAX_TIME_JITTER * median:
        raise SamplingRateError(
            f"{file_name}: the time column is not evenly spaced, so the sampling rate is unclear."
        )
    return 1.0 / median


def _check_last_line(path: Path) -> None:
    """A file cut off mid-line has a last line with fewer fields than the header."""
    with path.open("rb") as handle:
        header = handle.readline()
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 4096))
        tail = handle.read().splitlines()
    if not tail:
        return
    separator = max((b",", b";", b"\t"), key=header.count)
    last = tail[-1] if tail[-1].strip() else (tail[-2] if len(tail) > 1 else b"")
    if last and last != header and last.count(separator) < header.count(separator):
        raise TruncatedDataError(
            f"{path.name}: the last line is incomplete; the file is truncated."
        )
