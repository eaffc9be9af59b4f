"""CSV recordings: one column per lead (`I, II, ..., V6`, any subset), optional `time` in s.

Units are mV unless the header says otherwise per column (`II (uV)`, `II [uV]`, `II_uV`) or the
caller declares them. A file whose values look like microvolts but are not declared so is
refused rather than analysed a thousand times too large.

An empty cell, `nan` or `inf` (as numerical software writes them) is a gap, not an error, and
so is a word that says a value is missing (`NA`, `N/A`, `NULL`, `-`: `MISSING_VALUE_WORDS`);
any other word (`abc`) is refused, since it suggests a column that is not a signal.

The values are counted before pandas parses them (`ml.io.limits.MAX_CSV_VALUES`).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from ml.errors import (
    SamplingRateError,
    TruncatedDataError,
    UnknownFormatError,
    UnknownUnitsError,
    UnusableSignalError,
)
from ml.io.limits import (
    MAX_CSV_VALUES,
    MAX_LEADS,
    RecordingTooLargeError,
    check_lead_count,
    count_and_limit,
    without_paths,
)
from ml.io.units import MV_PER_UNIT, to_mv_factor

if TYPE_CHECKING:  # pandas is imported by the reader that needs it, not by the engine
    import pandas as pd
from ml.recording import TOO_SMALL_STD_MV, Recording, canonical_lead_name, inverted_back

# A time column, by its name normalised ("Time (sec)", "Elapsed time", "timestamp [ms]",
# "t_s"): an exact list had taken "Elapsed time" for a lead, which changed the read, and
# "Time (sec)" for lead Time in units 'sec' (a bad-input audit). Seconds unless it says ms.
# One named "time" whose steps are milliseconds gives a rate under any ECG's: said so (a
# clinician-eye audit read "The sampling rate is 0.5 Hz").
# "Time stamp", "Time_stamp", "Relative Time", "Seconds elapsed" and "Time (sec.)" had still
# been read as leads or refused for their units (a bad-input audit).
TIME_NAME = re.compile(
    r"^(?:(?:elapsed|relative)[\s_]*)?(?:time[\s_]*stamp|time|t|elapsed)(?:[\s_]*elapsed)?"
    r"(?:\s*\((?P<a>[^)]*)\)|\s*\[(?P<b>[^\]]*)\]|[\s_](?P<c>[a-z]+\.?))?$"
)
UNIT_THEN_ELAPSED = re.compile(  # "Seconds elapsed", "ms elapsed"
    r"^(?P<unit>s|secs?\.?|seconds?|ms|msecs?\.?|milliseconds?)[\s_]+elapsed$"
)
SECOND_UNITS = {"s", "sec", "secs", "second", "seconds"}
MILLISECOND_UNITS = {"ms", "msec", "msecs", "millisecond", "milliseconds"}
# Columns that are plainly no lead: they had been read as one ("Marker", or "sample" taken
# for the analysis lead in microvolts, leaving II and V5 "a flat line").
NOT_A_LEAD = re.compile(
    r"^(?:(?P<count>samples?(?:[\s_]*(?:#|no\.?|nr|number|index))?|index|idx|row)"
    r"|markers?|events?|annotations?|triggers?)$"
)
LOWEST_RATE_HZ = 50.0  # `ml.recording`'s lowest sampling rate
UNIT_IN_NAME = re.compile(
    r"^(?P<lead>.+?)\s*(?:\((?P<a>[^)]*)\)|\[(?P<b>[^\]]*)\]|_(?P<c>[munµμ]?v))$", re.IGNORECASE
)
MAX_PLAUSIBLE_MV = 20.0  # no surface ECG reaches 20 mV; larger values are in other units
MAX_TIME_JITTER = 0.01  # relative spread of sample intervals still called "regular"
# A column rising by a constant step on every one of this many lines is a time or a count,
# never a lead (an ECG rises and falls with every beat); the spread allows times written to
# the millisecond (steps of 2 and 3 ms at 360 Hz).
MIN_RAMP_ROWS = 100
MAX_RAMP_STEP_SPREAD = 0.5
MAX_HEADER_LINE_BYTES = 64 * 1024  # lead names: a few hundred bytes at most
CHUNK_BYTES = 1 << 20
DECIMAL_COMMA_SEPARATORS = (";", "\t")  # a decimal comma is unambiguous between these
DECIMAL_MARK_SAMPLE_BYTES = 64 * 1024
# Excel's first line declaring the separator ("sep=;"), above the lead names: it had been
# taken for the header, "line 2, column 'sep=' holds 'II', which is not a number" (an upload
# audit).
# Words that say a value is missing, as R (`NA`), databases (`NULL`), spreadsheets (`#N/A`,
# `-`) and pandas (`<NA>`, `None`) write them; compared in any case. Pandas' default na_values
# besides the ones float() reads. They are gaps as `nan` is: R's write.csv `NA` had been
# refused, "line 3602, column 'II' holds 'NA', which is not a number" (an audit of gaps).
MISSING_VALUE_WORDS = frozenset({"na", "n/a", "#n/a", "#na", "<na>", "null", "none", "-"})
EXCEL_SEPARATOR_LINE = re.compile(rb"(?:\xef\xbb\xbf)?sep=(?P<separator>[,;\t])\s*")


def read_csv(path: Path, *, fs_hz: float | None = None, units: str | None = None) -> Recording:
    encoding = _encoding(path)
    separator = _separator(path)
    _check_size(path, separator)
    _check_last_line(path)
    decimal = _decimal_mark(path, separator)
    import pandas as pd

    try:
        table = pd.read_csv(
            path,
            sep=separator,
            decimal=decimal,
            encoding=encoding,
            skipinitialspace=True,
            skiprows=_lines_before_header(path),
            keep_default_na=False,
            na_values=[""],
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        reason = without_paths(str(error)).strip()
        raise UnknownFormatError(f"{path.name}: not a readable CSV table ({reason}).") from error
    if table.empty or table.shape[1] == 0:
        raise UnknownFormatError(f"{path.name}: the table has no rows.")
    columns = [str(c).strip() for c in table.columns]
    header = _header_cells(path, separator, encoding)
    if all(float_or_none(c) is not None for c in header):
        # A headerless file: its first row of samples would have named the leads ("analysis
        # lead 0.0069"), and which lead is which decides the analysis lead.
        raise UnknownFormatError(
            f"{path.name}: the first line holds numbers ({', '.join(header[:3])}), not lead "
            "names. Add a header line naming the leads, e.g. 'II' or 'time,I,II,V1'."
        )
    time_units = [time_unit(c) for c in columns]
    in_ms = [i for i, unit in enumerate(time_units) if unit == "ms"]
    time_index = next((i for i, unit in enumerate(time_units) if unit == "s"), None)
    time_index = in_ms[0] if in_ms and time_index is None else time_index
    # An unnamed column holding nothing (each line ending in the separator, as spreadsheets
    # export) is no lead: it read "100% of lead Unnamed: 13 missing: not analysed".
    blank = {
        i
        for i, cell in enumerate(header[: len(columns)])
        if not cell.strip() and table.iloc[:, i].isna().all()
    }
    lead_columns = [i for i in range(len(columns)) if time_units[i] is None and i not in blank]
    if not lead_columns:
        raise UnknownFormatError(f"{path.name}: no lead columns besides time.")
    written = header if len(header) == len(columns) else columns
    _refuse_named_non_leads(path.name, lead_columns, written)
    _refuse_repeated_leads(path.name, lead_columns, header, columns)
    data = _numbers(table, columns, path.name, separator, _lines_before_header(path))
    _refuse_counts(path.name, lead_columns, written, data)

    if time_index is not None:
        units_per_second = 1000.0 if time_index in in_ms else 1.0
        # Snapped after the milliseconds become seconds: snapped per millisecond (0.36), a
        # time_ms column at 360 Hz had read 360.000002666914 Hz (an upload audit).
        fs_hz = whole_when_within_rounding(
            units_per_second * _fs_from_time(data[:, time_index], path.name)
        )
        if fs_hz < LOWEST_RATE_HZ <= fs_hz * 1000 and not in_ms:
            raise SamplingRateError(
                f"{path.name}: the time column gives {fs_hz:g} Hz, far below any ECG's; its "
                f"steps of {1 / fs_hz:g} look like milliseconds. Give the time in seconds, or "
                "name the column time_ms."
            )
    elif fs_hz is None:
        raise SamplingRateError(
            f"{path.name} has no time column: give the sampling rate (Hz) of the recording."
        )
    names, factors = [], []
    for i in lead_columns:
        name, column_unit = _split_unit(columns[i])
        names.append(name)
        factors.append(to_mv_factor(column_unit or units or "mV", lead=name))
    # Cabrera's "-aVR" column is aVR upside down: read as aVR, turned back (`inverted_back`),
    # as an EDF's "ECG -aVR" is; it had stayed a lead "-aVR", and the 12-lead had no aVR.
    names, signs, inverted = inverted_back(names)
    factors = [factor * sign for factor, sign in zip(factors, signs, strict=True)]
    with np.errstate(over="ignore", invalid="ignore"):  # 1e308 V is infinite in mV: a gap
        signal_mv = data[:, lead_columns] * np.array(factors)
    in_chosen_units = [
        signal_mv[:, k] for k, i in enumerate(lead_columns) if not _split_unit(columns[i])[1]
    ]
    _refuse_millivolts_chosen_as_microvolts(path.name, units, in_chosen_units)
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
        # Which leads: one column labelled "(uV)" beside others in microvolts unlabelled had
        # been refused without naming them (an upload audit).
        over = [
            name
            for name, column in zip(names, signal_mv.T, strict=True)
            if (present := np.abs(column[np.isfinite(column)])).size
            and float(np.percentile(present, 99.9)) > MAX_PLAUSIBLE_MV
        ]
        raise UnusableSignalError(
            f"{path.name}: the signal reaches {peak:.0f} mV in lead(s) {', '.join(over)}, "
            "which no ECG does. Check the units: label each column, e.g. 'II (uV)', or "
            "choose the units for the whole file."
        )
    return Recording(
        fs_hz=float(fs_hz),
        lead_names=tuple(names),
        signal_mv=signal_mv,
        source_format="csv",
        source_name=path.name,
        notes=inverted,
        units_in_file=all(_split_unit(columns[i])[1] for i in lead_columns),
    )


def _refuse_millivolts_chosen_as_microvolts(
    file_name: str, units: str | None, in_chosen_units: list[np.ndarray]
) -> None:
    """Refuse a file whose leads read in the microvolts chosen for it (no unit in their
    column) all vary 1,000 times less than an ECG (`ml.recording.TOO_SMALL_STD_MV`): its
    values are millivolts. It had been told "a flat line (electrode off or channel dead), or
    ... 1,000 times too small for millivolts (volts labelled as millivolts?)", of units the
    technician had chosen (an upload audit)."""
    if units is None or to_mv_factor(units, lead="") != MV_PER_UNIT["uv"]:
        return
    present = [lead[np.isfinite(lead)] for lead in in_chosen_units]
    spreads = [float(np.std(values)) for values in present if values.size]
    if spreads and all(0 < spread <= TOO_SMALL_STD_MV for spread in spreads):
        raise UnknownUnitsError(
            f"{file_name}: the values look like millivolts, but microvolts (uV) were chosen "
            "for the file: read so, the signal is 1,000 times too small for an ECG. Upload "
            "the file again with the units mV (if they are microvolts, the signal is a flat "
            "line: electrode off or channel dead)."
        )


def time_unit(column: str) -> str | None:
    """ "s" or "ms" when the column is the time, by its name with any unit spelling ("Time
    (sec.)", "Elapsed time", "time [ms]", "Time stamp", "Relative Time", "Seconds elapsed"),
    else None."""
    name = column.strip().strip('"').strip().lower()
    if name in ("seconds", "sec") or name in MILLISECOND_UNITS:
        return "s" if name in SECOND_UNITS else "ms"
    if match := UNIT_THEN_ELAPSED.match(name):
        unit = match.group("unit")
    elif match := TIME_NAME.match(name):
        unit = match.group("a") or match.group("b") or match.group("c") or "s"
    else:
        return None
    unit = unit.strip().rstrip(".").strip()  # "sec." is "sec"
    return "s" if unit in SECOND_UNITS else "ms" if unit in MILLISECOND_UNITS else None


def _refuse_named_non_leads(file_name: str, lead_columns: list[int], written: list[str]) -> None:
    """Refuse a column named as no lead (sample, index, marker, event, annotation), saying
    what to do: read as leads, they had changed the read or become its analysis lead."""
    for i in lead_columns:
        name = written[i].strip().strip('"').strip()
        match = NOT_A_LEAD.match(_split_unit(name)[0].lower())
        if match:
            raise UnknownFormatError(_not_a_lead(file_name, name, counts=bool(match["count"])))


def _refuse_counts(
    file_name: str, lead_columns: list[int], written: list[str], data: np.ndarray
) -> None:
    """Refuse a column of whole numbers rising on every line (a sample number under another
    name, or a spreadsheet's row index), or of any numbers rising by a constant step on every
    line of a long file (a time under a name not known as one): no ECG lead does that. A
    decimal time ramp under an unknown name had been read as a lead (a bad-input audit)."""
    for i in lead_columns:
        column = data[:, i]
        finite = np.all(np.isfinite(column))
        whole = column.size >= 3 and finite and np.all(column == np.round(column))
        name = written[i].strip().strip('"').strip() or f"column {i + 1}"
        if whole and np.all(np.diff(column) > 0):
            raise UnknownFormatError(_not_a_lead(file_name, name, counts=True))
        if column.size >= MIN_RAMP_ROWS and finite and _constant_rise(column):
            raise UnknownFormatError(_a_ramp(file_name, name))


def _constant_rise(column: np.ndarray) -> bool:
    """Rising on every line by the same step, to the rounding of the written values."""
    steps = np.diff(column)
    if not np.all(steps > 0):
        return False
    median = float(np.median(steps))
    return float(np.max(np.abs(steps - median))) <= MAX_RAMP_STEP_SPREAD * median


def _a_ramp(file_name: str, name: str) -> str:
    return (
        f"{file_name}: the column {name!r} rises by the same step on every line, as a time "
        "or a sample number does; it is not an ECG lead. Name it 'time' if it is the time "
        f"in seconds (or 'time_ms' in milliseconds), or remove the column {name!r} and give "
        "the sampling rate instead."
    )


def _not_a_lead(file_name: str, name: str, *, counts: bool) -> str:
    if counts:
        return (
            f"{file_name}: the column {name!r} counts the samples; it is not an ECG lead. "
            f"Remove the column {name!r} (it is not an ECG lead) and give the sampling rate "
            "instead, or give the time in seconds in a column named 'time'."
        )
    return (
        f"{file_name}: the column {name!r} is not an ECG lead. Remove the column {name!r} "
        "(it is not an ECG lead) and upload the file again."
    )


def _refuse_repeated_leads(
    file_name: str, lead_columns: list[int], header: list[str], columns: list[str]
) -> None:
    """Refuse a lead named by two columns ("time,II,II", or "II" beside "MLII"): pandas had
    renamed the second "II.1", and the file was read with two leads II without a word (an
    input audit). Which column is the lead is not the portal's to guess."""
    written = header if len(header) == len(columns) else columns
    seen: dict[str, int] = {}
    for i in lead_columns:
        name = written[i].strip().strip('"').strip()
        lead = _split_unit(name)[0]
        if lead in seen:
            first = seen[lead]
            raise UnknownFormatError(
                f"{file_name}: lead {lead} has two columns (column {first + 1}, "
                f"{written[first].strip()!r}, and column {i + 1}, {name!r}). Keep one "
                "column per lead, or name each lead once."
            )
        seen[lead] = i


def _numbers(
    table: pd.DataFrame,
    columns: list[str],
    file_name: str,
    separator: str = ",",
    lines_before_header: int = 0,
) -> np.ndarray:
    """The table as floats; a cell pandas cannot convert must be one Python's float() reads
    (`nan`, `inf`, `1e309`) or a word for a missing value (`missing_or_float`), else the file
    is refused naming the cell."""
    import pandas as pd

    numeric = table.apply(pd.to_numeric, errors="coerce")
    data = numeric.to_numpy(dtype=np.float64)
    unparsed = (numeric.isna() & table.notna()).to_numpy()
    for col in np.flatnonzero(unparsed.any(axis=0)):
        rows = np.flatnonzero(unparsed[:, col])
        cells = pd.Series(table.iloc[rows, col].to_numpy(), dtype=object)
        parsed = {cell: missing_or_float(cell) for cell in pd.unique(cells)}
        words = [cell for cell, value in parsed.items() if value is None]
        if words:
            # A word ("n/a") leaves its whole column unparsed, its decimal commas too: it is
            # named before them, where they had been told to be "beside decimal points
            # elsewhere in the file" (an upload audit).
            named = [word for word in words if not _decimal_comma(word)] or words
            first = int(np.flatnonzero(cells.isin(named))[0])
            cell = str(cells.iloc[first])
            # "0,0025": a decimal comma, as spreadsheets in much of Europe export. Between
            # semicolons or tabs it is read (`_decimal_mark`) unless points are used too.
            comma = _decimal_comma(cell)
            hint = (
                " It looks like a decimal comma beside decimal points elsewhere in the file:"
                " export it with one decimal mark throughout."
                if comma and separator in DECIMAL_COMMA_SEPARATORS
                else " It looks like a decimal comma: export with a decimal point, or with"
                " semicolons between the columns."
                if comma
                else ""
            )
            line = rows[first] + 2 + lines_before_header
            raise UnknownFormatError(
                f"{file_name}: line {line}, column {columns[col]!r} holds "
                f"{cell!r}, which is not a number.{hint}"
            )
        data[rows, col] = cells.map(parsed).to_numpy(dtype=np.float64)
    return data


def _decimal_comma(cell: object) -> bool:
    """Whether the cell is a number written with a decimal comma ("0,0025")."""
    return re.fullmatch(r"\s*[-+]?\d+,\d+\s*", str(cell)) is not None


def missing_or_float(cell: object) -> float | None:
    """NaN (a gap) for a word saying the value is missing (`MISSING_VALUE_WORDS`), else the
    cell as `float_or_none` reads it."""
    if str(cell).strip().casefold() in MISSING_VALUE_WORDS:
        return float("nan")
    return float_or_none(cell)


def float_or_none(cell: object) -> float | None:
    """The cell as Python's float() reads it (`nan`, `inf`, `1e309`), or None."""
    try:
        return float(str(cell).strip())
    except ValueError:
        return None


def _decimal_mark(path: Path, separator: str) -> str:
    """ "," for a table whose columns are split by semicolons or tabs and whose numbers have
    decimal commas and no decimal point (a European spreadsheet's export), else ".". Such a
    file had been refused, told to use "commas or semicolons between the columns", which it
    did (a bad-input audit)."""
    if separator not in DECIMAL_COMMA_SEPARATORS:
        return "."
    with path.open("rb") as handle:
        _first_line(handle, path.name)
        body = handle.read(DECIMAL_MARK_SAMPLE_BYTES).decode("utf-8", errors="replace")
    if "." in body or not re.search(r"\d,\d", body):
        return "."
    return ","


def _separator(path: Path) -> str:
    """The separator an Excel `sep=` line declares, else the one the header uses most."""
    with path.open("rb") as handle:
        declared = EXCEL_SEPARATOR_LINE.fullmatch(_line_at(handle, path.name))
        handle.seek(0)
        header = _first_line(handle, path.name).decode("utf-8-sig", errors="replace")
    if declared:
        return declared["separator"].decode()
    return max((",", ";", "\t"), key=header.count)


def _lines_before_header(path: Path) -> int:
    """1 when an Excel `sep=` line comes before the lead names, else 0."""
    with path.open("rb") as handle:
        return int(EXCEL_SEPARATOR_LINE.fullmatch(_line_at(handle, path.name)) is not None)


def text_encoding(head: bytes) -> str | None:
    """ "utf-8-sig" for the start of a UTF-8 text file (a character cut at its end allowed),
    "cp1252" for one in Windows' own encoding (Latin-1's characters and more, as Excel's
    "CSV (Comma delimited)" writes "II (µV)" on Windows), None for bytes that are no text.
    Such a file had been "not a recognised ECG file" (an upload audit)."""
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        text = head.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return "cp1252" if all(c.isprintable() or c in "\t\r\n" for c in text) else None


def _encoding(path: Path) -> str:
    """The file's text encoding (`text_encoding`) judged by its start, where the lead names
    are; UTF-8 when it is neither, for pandas to refuse."""
    with path.open("rb") as handle:
        return text_encoding(handle.read(MAX_HEADER_LINE_BYTES)) or "utf-8-sig"


def _header_cells(path: Path, separator: str, encoding: str = "utf-8-sig") -> list[str]:
    """The first line's cells as written (pandas renames repeated ones: "0.1", "0.1.1")."""
    with path.open("rb") as handle:
        header = _first_line(handle, path.name).decode(encoding, errors="replace")
    return [cell.strip() for cell in header.strip().split(separator)]


def _first_line(handle: IO[bytes], file_name: str) -> bytes:
    """The header line with its line end (\\n, \\r\\n or an old Mac's \\r), read no further
    than MAX_HEADER_LINE_BYTES; past an Excel `sep=` line. The handle is left where the
    samples start."""
    line = _line_at(handle, file_name)
    if EXCEL_SEPARATOR_LINE.fullmatch(line):
        line = _line_at(handle, file_name)
    return line


def _line_at(handle: IO[bytes], file_name: str) -> bytes:
    """The line at the handle's position, with its line end (\\r of a \\r\\n); the handle is
    left after it. Left MAX_HEADER_LINE_BYTES on, a small file's samples had been looked for
    past its end: `_decimal_mark` found none and read its decimal commas as words (an upload
    audit)."""
    start = handle.tell()
    head = handle.read(MAX_HEADER_LINE_BYTES + 1)
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    if not ends and len(head) > MAX_HEADER_LINE_BYTES:
        raise UnknownFormatError(
            f"{file_name}: the first line is longer than {MAX_HEADER_LINE_BYTES // 1024} KB, "
            "so it is not a header of lead names."
        )
    line = head[: min(ends) + 1] if ends else head
    crlf = line.endswith(b"\r") and head[len(line) : len(line) + 1] == b"\n"
    handle.seek(start + len(line) + crlf)
    return line


def _check_size(path: Path, separator: str) -> None:
    """Count the values after the header line(s) (every separator or line end closes one)
    before parsing: pandas needs about 35 bytes a value, so the file's size alone does not
    bound the work. Streams the file in chunks; 100 MB take about 0.1 s."""
    sep, values, lines, last = separator.encode(), 0, 0, b""
    with path.open("rb") as handle:
        columns = _first_line(handle, path.name).count(sep) + 1
        if columns - 1 > MAX_LEADS:  # one column may be time
            check_lead_count(path.name, columns, what="columns")
        while chunk := handle.read(CHUNK_BYTES):
            line_ends = max(chunk.count(b"\n"), chunk.count(b"\r"))  # \n, \r\n or \r alone
            values += chunk.count(sep) + line_ends
            lines += line_ends
            last = chunk[-1:]
    values += last not in (b"", b"\n", b"\r")  # a last line without its line end
    if values > MAX_CSV_VALUES:
        count, limit = count_and_limit(values, MAX_CSV_VALUES)
        raise RecordingTooLargeError(
            f"{path.name} holds about {count} values ({lines:,} lines of {columns} "
            f"columns); the portal reads at most {limit} values "
            "from a CSV file (for example 4 hours of 3 leads and a time column at 250 Hz). "
            "Upload long recordings as WFDB or EDF, which hold up to 48 hours."
        )


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
            f"{file_name}: the time column is not evenly spaced, so the sampling rate is unclear"
            f" (steps of {float(np.min(steps)):g} to {float(np.max(steps)):g} s; time stamps "
            "rounded to the millisecond do this). Remove the time column and give the "
            "sampling rate instead."
        )
    return whole_when_within_rounding(len(steps) / float(time_s[-1] - time_s[0]))


def whole_when_within_rounding(rate_hz: float) -> float:
    """A rate from decimal time stamps, snapped to the whole hertz it misses by rounding only
    (a part per million): 1 / 0.002 s read 499.99999999994407 Hz, which the API and the
    recording's duration carried (an integration audit)."""
    whole = round(rate_hz)
    return float(whole) if abs(rate_hz - whole) <= 1e-6 * rate_hz else rate_hz


def _check_last_line(path: Path) -> None:
    """A file cut off mid-line has a last line with fewer fields than the header."""
    with path.open("rb") as handle:
        header = _first_line(handle, path.name)
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
