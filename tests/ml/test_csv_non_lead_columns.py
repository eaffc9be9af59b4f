"""A CSV column that is the time, a sample number or a marker is never read as an ECG lead.

A bad-input audit uploaded MIT-BIH 100 as CSV headed `Elapsed time,MLII,V5` at 360 Hz: it was
read with a lead "Elapsed time", "Beat types were read from leads II and Elapsed time
together", F-class probability 0.0001 -> 0.26 and a QT measured where there was none.
`sample,MLII,V5` in uV made the sample number the analysis lead and II and V5 "a flat line";
a `Marker` 0/1 column became lead Marker; `Time (sec)` was refused as "Lead Time: unknown
signal units 'sec'" and `Time [s]` told it "has no time column". Now a time column is known
by its name with any unit spelling, and a column plainly no lead is refused by name, saying
what to do (`ml.io.csv_reader.time_unit`, `_refuse_named_non_leads`, `_refuse_counts`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml import errors
from ml.io import read_recording
from ml.io.csv_reader import time_unit
from tests.support.ecg_files import synthetic


def _csv(path: Path, header: str, first: np.ndarray, leads: np.ndarray, fmt: str) -> Path:
    rows = [f"{fmt % a},{b:.6f},{c:.6f}" for a, (b, c) in zip(first, leads, strict=True)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("name", "unit"),
    [("Elapsed time", "s"), ("Time (sec)", "s"), ("Time(s)", "s"), ("Time [s]", "s"),
     ("timestamp", "s"), ("t", "s"), ("time_ms", "ms"), ("Time (ms)", "ms"),
     ("Timestamp [msec]", "ms"), ("II", None), ("T", "s"), ("Temperature", None),
     ("Time stamp", "s"), ("Time_stamp", "s"), ("Relative Time", "s"), ("Seconds elapsed", "s"),
     ("Time (sec.)", "s"), ("elapsed", "s"), ("ms elapsed", "ms"), ("Time stamp [ms]", "ms"),
     ("ECG1", None), ("CH1", None)],
)  # fmt: skip
def test_a_time_column_is_known_by_its_name_in_any_spelling(name: str, unit: str | None) -> None:
    assert time_unit(name) == unit


@pytest.mark.parametrize(
    "header",
    ["Elapsed time", "Time (sec)", "Time(s)", "Time [s]", "Time stamp", "Time_stamp",
     "Relative Time", "Seconds elapsed", "Time (sec.)"],
)  # fmt: skip
@pytest.mark.parametrize("units", ["mV", "uV"])
def test_a_time_column_gives_the_rate_and_is_no_lead(
    tmp_path: Path, header: str, units: str
) -> None:
    """A bad-input audit's MIT-BIH 100 headed `Time stamp,MLII,V5` in uV read "Beat types were
    read from leads II and Time stamp together"; in mV it was refused as microvolts."""
    original = synthetic(leads=("II", "V5"), fs_hz=360)
    scale = 1000.0 if units == "uV" else 1.0
    time_s = np.arange(original.n_samples) / original.fs_hz
    signal = original.signal_mv * scale
    path = _csv(tmp_path / "t.csv", f"{header},MLII,V5", time_s, signal, "%.6f")
    recording = read_recording(path, fs_hz=360, units=units)
    assert recording.lead_names == ("II", "V5") and recording.fs_hz == 360
    np.testing.assert_allclose(recording.signal_mv, original.signal_mv, atol=1e-5)


@pytest.mark.parametrize("header", ["Zeit", "Clock", "Uhr"])
def test_a_time_ramp_under_any_name_is_refused_saying_what_to_do(
    tmp_path: Path, header: str
) -> None:
    """A decimal ramp is no lead whatever its name: whole numbers only had been refused."""
    original = synthetic(leads=("II", "V5"), fs_hz=360)
    time_s = np.arange(original.n_samples) / original.fs_hz
    path = _csv(tmp_path / "z.csv", f"{header},MLII,V5", time_s, original.signal_mv, "%.4f")
    with pytest.raises(errors.UnknownFormatError) as refused:
        read_recording(path, fs_hz=360)
    assert f"the column {header!r} rises by the same step on every line" in str(refused.value)
    assert "give the sampling rate instead" in str(refused.value)


@pytest.mark.parametrize("names", [("ECG1", "ECG2"), ("CH1", "CH2")])
def test_integer_adc_leads_are_read(tmp_path: Path, names: tuple[str, str]) -> None:
    """Leads in whole converter units are leads: the ramp refusal must never take them."""
    original = synthetic(leads=("II", "V5"), fs_hz=360)
    counts = np.round(original.signal_mv * 1000)
    lines = [",".join(names)] + [f"{a:.0f},{b:.0f}" for a, b in counts]
    path = tmp_path / "adc.csv"
    path.write_text("\n".join(lines) + "\n")
    recording = read_recording(path, fs_hz=360, units="uV")
    assert recording.lead_names == names


@pytest.mark.parametrize("header", ["sample", "Index", "Sample #", ""])
def test_a_sample_number_is_refused_saying_what_to_do(tmp_path: Path, header: str) -> None:
    original = synthetic(leads=("II", "V5"), fs_hz=360)
    count = np.arange(original.n_samples, dtype=float)
    path = _csv(tmp_path / "n.csv", f"{header},MLII,V5", count, original.signal_mv * 1000, "%d")
    with pytest.raises(errors.UnknownFormatError) as refused:
        read_recording(path, fs_hz=360, units="uV")
    named = header or "column 1"  # a spreadsheet's unnamed row index
    assert f"Remove the column {named!r} (it is not an ECG lead)" in str(refused.value)
    assert "give the sampling rate instead" in str(refused.value)


def test_a_marker_column_is_refused_by_name(tmp_path: Path) -> None:
    original = synthetic(leads=("II", "V5"), fs_hz=360)
    lines = ["II,V5,Marker"] + [
        f"{a:.6f},{b:.6f},{i % 2}" for i, (a, b) in enumerate(original.signal_mv)
    ]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(errors.UnknownFormatError, match="Remove the column 'Marker' \\(it is"):
        read_recording(path, fs_hz=360)
