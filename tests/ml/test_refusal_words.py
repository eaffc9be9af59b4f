"""A refused file is told what is wrong with it and what to do, not misdirected.

A bad-input audit: a semicolon-separated CSV with decimal commas (a European Excel export) was
told to use "commas or semicolons between the columns", which it did; a 3-sample CSV "lasts
0.0 s"; an Excel workbook renamed .csv was "[Content_Types].xml, sheet1.xml: not a recognised
ECG file"; a UTF-16 CSV was "not a recognised ECG file"; an EDF channel with an empty
physical dimension had "unknown signal units ''"."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pyedflib
import pytest

from ml import errors
from ml.io import csv_reader, read_recording
from ml.io.edf_reader import EdfSource
from ml.io.limits import RecordingTooLargeError
from ml.io.sources import open_recording
from tests.support.ecg_files import synthetic, write_csv, write_edf, write_wfdb, write_zip


def _rows(separator: str, decimal: str) -> str:
    original = synthetic(leads=("II", "V5"), fs_hz=250)
    lines = [separator.join(("time", "II", "V5"))]
    for i, (a, b) in enumerate(original.signal_mv):
        cells = (f"{i / 250:.3f}", f"{a:.4f}", f"{b:.4f}")
        lines.append(separator.join(c.replace(".", decimal) for c in cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("separator", [";", "\t"])
def test_decimal_commas_between_semicolons_or_tabs_are_read(tmp_path: Path, separator: str) -> None:
    path = tmp_path / "european.csv"
    path.write_text(_rows(separator, ","))
    recording = read_recording(path)
    expected = read_recording(_written(tmp_path / "point.csv", _rows(",", ".")))
    assert recording.lead_names == ("II", "V5") and recording.fs_hz == 250
    np.testing.assert_allclose(recording.signal_mv, expected.signal_mv)


@pytest.mark.parametrize(("separator", "first_line"), [(";", ""), (";", "sep=;\n"), ("\t", "")])
def test_a_short_european_export_is_read(tmp_path: Path, separator: str, first_line: str) -> None:
    """10 s at 250 Hz with decimal commas between semicolons (37 KB) had been refused, "line
    2, column 'I' holds '0,0000', which is not a number. It looks like a decimal comma beside
    decimal points elsewhere in the file", though it held no decimal point: the decimal mark
    was looked for from 64 KB on, past the end of a file this short (an upload audit)."""
    signal = synthetic(10, 250.0, leads=("I", "II")).signal_mv
    rows = [separator.join(f"{v:.4f}".replace(".", ",") for v in row) for row in signal]
    text = first_line + "\n".join([separator.join(("I", "II")), *rows]) + "\n"
    path = _written(tmp_path / "e1.csv", text)
    assert path.stat().st_size < 64 * 1024
    recording = read_recording(path, fs_hz=250)
    assert recording.lead_names == ("I", "II")
    np.testing.assert_allclose(recording.signal_mv, signal, atol=1e-4)


def test_one_column_of_decimal_commas_is_refused_naming_them(tmp_path: Path) -> None:
    """A single lead with decimal commas ("II" over "0,1234"), a European device's export, had
    been "not a recognised ECG file"; "0,1234" under one name could be two columns of whole
    numbers, so it is refused naming the decimal comma, and read once `sep=;` declares it."""
    signal = synthetic(10, 250.0, leads=("II",)).signal_mv
    rows = "\n".join(f"{v:.4f}".replace(".", ",") for v in signal[:, 0]) + "\n"
    path = _written(tmp_path / "single.csv", "II\n" + rows)
    with pytest.raises(errors.UnknownFormatError) as refused:
        read_recording(path, fs_hz=250)
    first = f"{signal[0, 0]:.4f}".replace(".", ",")
    assert str(refused.value) == (
        f"single.csv: its one column holds numbers with a decimal comma ('{first}'), and with "
        "no other separator in the file the comma cannot be told from a column separator. "
        "Export it with a decimal point, or add a first line sep=; above the lead's name (as "
        "Excel writes it) to have the commas read as decimal commas."
    )
    declared = read_recording(_written(tmp_path / "declared.csv", "sep=;\nII\n" + rows), fs_hz=250)
    assert declared.lead_names == ("II",)
    np.testing.assert_allclose(declared.signal_mv, signal, atol=1e-4)


def test_the_size_check_counts_the_values_after_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_reader, "MAX_CSV_VALUES", 10)
    path = _written(tmp_path / "six.csv", "sep=;\nI;II\n" + "0,1;0,2\n" * 6)
    with pytest.raises(RecordingTooLargeError, match=r"about 12 values \(6 lines of 2 "):
        read_recording(path, fs_hz=250)


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_decimal_commas_beside_points_say_to_use_one_mark(tmp_path: Path) -> None:
    path = _written(tmp_path / "mixed.csv", "time;II\n0,000;0.10\n0,004;0.11\n")
    with pytest.raises(errors.UnknownFormatError, match="with one decimal mark throughout"):
        read_recording(path)


def test_a_few_samples_are_counted_not_called_zero_seconds(tmp_path: Path) -> None:
    path = _written(tmp_path / "three.csv", "II\n0.1\n0.2\n0.1\n")
    with pytest.raises(errors.DurationError) as refused:
        read_recording(path, fs_hz=360)
    said = str(refused.value)
    assert "lasts 8 ms (3 samples at 360 Hz)" in said and "(2,880 samples at 360 Hz)" in said
    assert "0.0 s" not in said


def test_an_excel_workbook_is_named_as_one(tmp_path: Path) -> None:
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    path = tmp_path / "ecg.csv"
    path.write_bytes(content.getvalue())
    with pytest.raises(errors.UnknownFormatError) as refused:
        read_recording(path, fs_hz=360)
    assert "is an Excel workbook (.xlsx)" in str(refused.value)
    assert "save it as 'CSV UTF-8" in str(refused.value)


def test_a_utf16_csv_is_told_to_be_saved_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(_rows(",", ".").encode("utf-16"))
    with pytest.raises(errors.UnknownFormatError, match="saved as UTF-16.*'CSV UTF-8'"):
        read_recording(path)


def test_an_edf_lead_without_units_is_said_so(tmp_path: Path) -> None:
    path = write_edf(tmp_path / "nodim.edf", synthetic(20, 250), "")
    with pytest.raises(errors.UnknownUnitsError) as refused:
        read_recording(path)
    assert "the file gives no units for this lead" in str(refused.value)
    assert "''" not in str(refused.value)


@pytest.mark.parametrize(
    ("separator", "decimal", "line_end"), [(";", ",", "\r\n"), (",", ".", "\n")]
)
def test_an_excel_separator_line_is_honoured(
    tmp_path: Path, separator: str, decimal: str, line_end: str
) -> None:
    """Excel's `sep=;` first line declares the separator above the lead names; it had been
    taken for the header, "line 2, column 'sep=' holds 'II', which is not a number" (an upload
    audit). A cell that is no number is named by its line in the file, the `sep=` line
    counted; among decimal commas, "n/a" had been told of the commas, "holds '-0,0396' ...
    a decimal comma beside decimal points elsewhere in the file" (an upload audit)."""
    text = f"sep={separator}\n" + _rows(separator, decimal)
    path = tmp_path / "excel.csv"
    path.write_bytes(text.replace("\n", line_end).encode())
    recording = read_recording(path)
    expected = read_recording(_written(tmp_path / "point.csv", _rows(",", ".")))
    assert recording.lead_names == ("II", "V5") and recording.fs_hz == 250
    np.testing.assert_allclose(recording.signal_mv, expected.signal_mv)
    lines = text.splitlines()  # a word among decimal commas is named, not the commas
    lines[3] = separator.join(("0.008".replace(".", decimal), "abc", "0"))
    path.write_bytes((line_end.join(lines) + line_end).encode())
    with pytest.raises(errors.UnknownFormatError, match="line 4, column 'II' holds 'abc'"):
        read_recording(path)


def test_a_csv_in_windows_encoding_is_read(tmp_path: Path) -> None:
    """`II (µV)` saved in Latin-1/Windows-1252, as Excel's "CSV (Comma delimited)" writes it
    on Windows, is read as its UTF-8 twin: it had been "not a recognised ECG file" (an upload
    audit)."""
    original = synthetic(leads=("II", "V5"), fs_hz=250)
    lines = ["time,II (µV),V5 (µV)"]
    for i, (a, b) in enumerate(original.signal_mv * 1000):
        lines.append(f"{i / 250:.3f},{a:.0f},{b:.0f}")
    text = "\n".join(lines) + "\n"
    windows = tmp_path / "windows.csv"
    windows.write_bytes(text.encode("cp1252"))
    recording = read_recording(windows)
    expected = read_recording(_written(tmp_path / "utf8.csv", text))
    assert recording.lead_names == ("II", "V5") and recording.units_in_file
    np.testing.assert_array_equal(recording.signal_mv, expected.signal_mv)


def test_millivolts_chosen_as_microvolts_are_said_to_look_like_millivolts(
    tmp_path: Path,
) -> None:
    """A one-lead file in millivolts uploaded with microvolts chosen had been told "the
    signal is a flat line (electrode off or channel dead), or ... about 1,000 times too small
    for millivolts (volts labelled as millivolts?)", of units the technician had chosen (an
    upload audit). The same file in microvolts still reads."""
    original = synthetic(leads=("II",), fs_hz=360)
    millivolts = _written(
        tmp_path / "one_col_mv.csv",
        "II\n" + "".join(f"{v:.4f}\n" for v in original.signal_mv[:, 0]),
    )
    with pytest.raises(errors.UnknownUnitsError) as refused:
        read_recording(millivolts, fs_hz=360, units="uV")
    said = str(refused.value)
    assert "the values look like millivolts, but microvolts (uV) were chosen" in said
    assert "Upload the file again with the units mV" in said and "volts labelled" not in said
    microvolts = _written(
        tmp_path / "one_col_uv.csv",
        "II\n" + "".join(f"{v * 1000:.0f}\n" for v in original.signal_mv[:, 0]),
    )
    assert read_recording(microvolts, fs_hz=360, units="uV").lead_names == ("II",)


def test_two_recordings_in_one_upload_are_said_to_be_two(tmp_path: Path) -> None:
    """Two EDF files in a .zip had been "a.edf, b.edf: not a recognised ECG file", and two
    WFDB records "Upload exactly one WFDB header ... (2 were given: a record stored in
    segments?) ... export it as one record (e.g. wfdb's rdrecord, then wrsamp)", words a
    technician cannot act on (an upload audit)."""
    edfs = {
        name: write_edf(tmp_path / name, synthetic(20, 250, seed=seed)).read_bytes()
        for seed, name in enumerate(("a.edf", "b.edf"))
    }
    records = {
        path.name: path.read_bytes()
        for name in ("100", "101")
        for path in write_wfdb(tmp_path, synthetic(20, 250), name)
    }
    tables = [
        write_csv(tmp_path / name, synthetic(20, 250)) for name in ("first.csv", "second.csv")
    ]
    for upload, names in (
        ([write_zip(tmp_path / "two_edf.zip", edfs)], "a.edf, b.edf"),
        ([write_zip(tmp_path / "two_records.zip", records)], "100.hea, 101.hea"),
        (tables, "first.csv, second.csv"),
    ):
        with pytest.raises(errors.UnknownFormatError) as refused:
            read_recording(upload)
        assert str(refused.value) == (
            f"This upload holds two recordings ({names}): upload one recording at a time."
        )


def _hypnogram(path: Path) -> Path:
    """An EDF+ file of annotations alone, no signal: a sleep study's hypnogram."""
    writer = pyedflib.EdfWriter(str(path), 0, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.writeAnnotation(0, 30, "Sleep stage W")
    writer.writeAnnotation(30, 30, "Sleep stage 1")
    writer.close()
    return path


def test_an_edf_of_annotations_beside_its_recording_is_left_unread_and_named(
    tmp_path: Path,
) -> None:
    """SC4001E0-PSG.edf with its SC4001EC-Hypnogram.edf (annotations alone), as two files or
    one .zip, had been "This upload holds two recordings (SC4001E0-PSG.edf,
    SC4001EC-Hypnogram.edf): upload one recording at a time." (an upload audit)."""
    psg = write_edf(tmp_path / "SC4001E0-PSG.edf", synthetic(20, 250, leads=("II",)))
    hypnogram = _hypnogram(tmp_path / "SC4001EC-Hypnogram.edf")
    zipped = write_zip(tmp_path / "psg.zip", {p.name: p.read_bytes() for p in (psg, hypnogram)})
    note = (
        "SC4001EC-Hypnogram.edf, uploaded beside the recording, was not read (not an ECG signal)."
    )
    for upload in ([psg, hypnogram], [zipped]):
        recording = read_recording(upload)
        assert recording.lead_names == ("II",) and recording.notes == (note,)
        with open_recording(upload, stream_from_s=10) as streamed:
            assert isinstance(streamed, EdfSource) and streamed.notes == (note,)
    with pytest.raises(errors.UnknownFormatError, match="the EDF file holds no ECG signal"):
        read_recording(hypnogram)


def test_notes_and_documents_beside_one_recording_are_left_unread_and_named(
    tmp_path: Path,
) -> None:
    """An EDF zipped with its README.txt had been "good.edf, README.txt: not a recognised ECG
    file. Upload ... EDF/EDF+ ...", a CSV with its export_info.txt the same (an upload audit).
    Files plainly no signal beside one recording are left unread and named in the notes,
    also when the recording is streamed; a .txt that is the table is read."""
    original = synthetic(20, 250, leads=("II", "V5"))
    edf = write_edf(tmp_path / "good.edf", original)
    readme = b"Exported by device X\n"
    zipped = write_zip(
        tmp_path / "edf_readme.zip", {"good.edf": edf.read_bytes(), "README.txt": readme}
    )
    recording = read_recording(zipped)
    assert recording.lead_names == ("II", "V5")
    assert recording.notes == (
        "README.txt, uploaded beside the recording, was not read (not an ECG signal).",
    )
    with open_recording(zipped, stream_from_s=10) as streamed:
        assert isinstance(streamed, EdfSource) and streamed.notes == recording.notes
    table = write_csv(tmp_path / "plain.csv", original)
    info = _written(tmp_path / "export_info.txt", "Exported by device X, 250 Hz\n")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    read = read_recording([table, info, scan])
    assert read.lead_names == ("II", "V5") and read.fs_hz == 250
    assert read.notes == (
        "export_info.txt, scan.pdf, uploaded beside the recording, were not read (not an ECG "
        "signal).",
    )
    as_txt = _written(tmp_path / "ecg.txt", table.read_text())
    readme_txt = _written(tmp_path / "README.txt", readme.decode())
    assert read_recording([as_txt, readme_txt]).lead_names == ("II", "V5")
    nested = write_zip(
        tmp_path / "nested.zip", {"inner.zip": zipped.read_bytes(), "README.txt": readme}
    )
    with pytest.raises(errors.UnsafeArchiveError, match="holds another .zip"):
        read_recording(nested)
