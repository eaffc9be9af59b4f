"""Reading WFDB (every storage format, .mat with a byte offset, CinC 2017), CSV and EDF
recordings, and refusing every kind of bad file, and every header that lies, clearly."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import wfdb

from ml import errors
from ml.io import archive, read_recording
from ml.recording import Recording, usable_leads, validated
from ml.research.databases import data_root, default_data_dir
from tests.support.ecg_files import (
    synthetic,
    write_csv,
    write_edf,
    write_edf_channels,
    write_mat_record,
    write_wfdb,
    write_wfdb_format,
    write_zip,
)

MITDB = default_data_dir()
CINC2017 = data_root() / "cinc2017"
needs_cinc2017 = pytest.mark.skipif(
    not (CINC2017 / "A00001.hea").is_file(), reason="no local PhysioNet/CinC 2017 copy"
)


def _copy_record(name: str, target: Path) -> list[Path]:
    return [Path(shutil.copy(MITDB / f"{name}.{ext}", target)) for ext in ("hea", "dat")]


def test_mitdb_record_reads_in_millivolts_like_wfdb() -> None:
    recording = read_recording([MITDB / "100.hea", MITDB / "100.dat"])
    assert recording.fs_hz == 360 and recording.lead_names == ("MLII", "V5")
    assert recording.signal_mv.shape == (650000, 2)
    assert recording.duration_s == pytest.approx(1805.56, abs=0.01)
    reference = wfdb.rdrecord(str(MITDB / "100")).p_signal
    np.testing.assert_allclose(recording.signal_mv, reference)


def test_wfdb_as_uploaded_files_and_as_zip(tmp_path: Path) -> None:
    original = synthetic()
    files = write_wfdb(tmp_path, original)
    from_files = read_recording(files)
    np.testing.assert_allclose(from_files.signal_mv, original.signal_mv, atol=0.002)
    assert from_files.lead_names == ("I", "II", "III") and from_files.fs_hz == 500
    bundle = write_zip(tmp_path / "upload.zip", {f"rec/{p.name}": p.read_bytes() for p in files})
    np.testing.assert_allclose(read_recording(bundle).signal_mv, from_files.signal_mv)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_wfdb_header_with_letters_beyond_ascii_in_comments_and_descriptions_reads(
    tmp_path: Path, encoding: str
) -> None:
    """Since an input audit: "# Patient: Müller" (UTF-8 or Latin-1) or a description "II µV"
    made the .hea no header at all, and its uploader was told to upload r12.hea together with
    r12.dat, which they had. Read by us (format 16) and by wfdb (format 80) alike."""
    for fmt, name in (("16", "r12"), ("80", "r80")):
        digital = np.clip(_ecg_digital(3600, per_mv=50, leads=2), -127, 127)
        header, data = write_wfdb_format(tmp_path, digital, fmt, fs_hz=360, gain=50, name=name)
        lines = header.read_text().splitlines()
        lines[2] += " µV"  # the second signal's description: "L2 µV"
        text = "\n".join([*lines, "# Patient: Müller, 80 J."]) + "\n"
        header.write_bytes(text.encode(encoding))
        recording = read_recording([header, data])
        assert recording.lead_names == ("L1", "L2 µV") and recording.fs_hz == 360, fmt
        np.testing.assert_allclose(recording.signal_mv, digital / 50)


def test_a_wfdb_header_with_letters_beyond_ascii_in_a_field_says_which_line(
    tmp_path: Path,
) -> None:
    """A character beyond ASCII in a field the reader needs (here the units of the gain) is
    refused naming its line, not taken for "no header". The names of the record and of its
    data files may hold any letters ("καρδιά.dat", `tests/test_upload_file_names.py`)."""
    digital = np.clip(_ecg_digital(3600, per_mv=50, leads=1), -127, 127)
    header, data = write_wfdb_format(tmp_path, digital, "16", fs_hz=360, gain=50, name="r12")
    lines = header.read_text().splitlines()
    lines[1] = lines[1].replace("/mV", "/µV", 1)
    header.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(errors.UnknownFormatError) as refused:
        read_recording([header, data])
    assert str(refused.value).startswith(
        "r12.hea: line 2 holds a character the reader cannot read ('µ', in 'r12.dat 16 50(0)/µV"
    ), str(refused.value)


def test_truncated_wfdb_data(tmp_path: Path) -> None:
    header, data = _copy_record("100", tmp_path)
    data.write_bytes(data.read_bytes()[:100_000])
    with pytest.raises(
        errors.TruncatedDataError, match=r"100.dat is truncated: it holds 92.6 s of the 1805.6 s"
    ):
        read_recording([header, data])


def test_data_file_of_another_record(tmp_path: Path) -> None:
    header, data = _copy_record("100", tmp_path)
    shutil.copy(MITDB / "101.dat", data)
    with pytest.raises(errors.HeaderDataMismatchError, match="checksum"):
        read_recording([header, data])


def test_header_without_its_data_file(tmp_path: Path) -> None:
    header = Path(shutil.copy(MITDB / "100.hea", tmp_path))
    with pytest.raises(errors.HeaderDataMismatchError, match="names the data file 100.dat"):
        read_recording([header])
    other = tmp_path / "other"
    other.mkdir()
    stray = Path(shutil.copy(MITDB / "101.dat", other))
    with pytest.raises(errors.HeaderDataMismatchError, match=r"101.dat was given instead"):
        read_recording([header, stray])


@pytest.mark.parametrize(
    "content", [b"\x89PNG\r\n\x1a\n" + bytes(200), b"just some words\n", b"", bytes(range(256)) * 4]
)
def test_unknown_formats(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    with pytest.raises(errors.UnknownFormatError, match="not a recognised ECG file"):
        read_recording(path)


def test_csv_with_time_column(tmp_path: Path) -> None:
    original = synthetic()
    recording = read_recording(write_csv(tmp_path / "ecg.csv", original))
    # Exactly: decimal time stamps had given 499.99999999994407 Hz, carried by the API.
    assert recording.fs_hz == 500.0 and recording.duration_s == original.duration_s
    assert recording.lead_names == ("I", "II", "III")
    for rate_hz in (250.0, 128.0, 360.0, 1000.0):
        again = synthetic(fs_hz=rate_hz)
        assert read_recording(write_csv(tmp_path / f"{rate_hz:g}.csv", again)).fs_hz == rate_hz
    np.testing.assert_allclose(recording.signal_mv, original.signal_mv, atol=1e-5)


def test_csv_units_refusal_names_the_leads_at_fault(tmp_path: Path) -> None:
    """II labelled in microvolts, I and III in microvolts unlabelled (read as mV): the refusal
    had not said which leads (an upload audit)."""
    original = synthetic()
    path = write_csv(tmp_path / "mixed.csv", original, scale=1000)
    lines = path.read_text().splitlines()
    lines[0] = "time,I,II (uV),III"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(errors.UnusableSignalError, match=r"in lead\(s\) I, III, which") as raised:
        read_recording(path)
    assert "label each column, e.g. 'II (uV)'" in str(raised.value)


def test_csv_with_a_trailing_separator_on_every_line(tmp_path: Path) -> None:
    """Spreadsheets end each line with the separator: the empty column was read as a lead
    "Unnamed: 4", "100% missing: not analysed" (an upload audit)."""
    path = write_csv(tmp_path / "ecg.csv", synthetic())
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("".join(line + ",\n" for line in path.read_text().splitlines()))
    recording = read_recording(trailing)
    assert recording.lead_names == ("I", "II", "III") and not recording.notes


def test_csv_with_a_lead_named_twice_is_refused_naming_it(tmp_path: Path) -> None:
    """Since an input audit: "time,II,II" was read with leads II and II.1 (pandas' renaming)
    without a word; now refused naming the lead and both columns. "II" beside "MLII" or
    "II (uV)" is the same lead too."""
    good = write_csv(tmp_path / "good.csv", synthetic(leads=("II", "III")))
    header, rows = good.read_text().split("\n", 1)
    assert header == "time,II,III" and read_recording(good).lead_names == ("II", "III")
    for second in ("II", "MLII", "II (uV)"):
        path = tmp_path / "twice.csv"
        path.write_text(f"time,II,{second}\n" + rows)
        with pytest.raises(errors.UnknownFormatError) as refused:
            read_recording(path)
        assert str(refused.value) == (
            f"twice.csv: lead II has two columns (column 2, 'II', and column 3, '{second}'). "
            "Keep one column per lead, or name each lead once."
        )


def test_csv_without_time_needs_the_sampling_rate(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ecg.csv", synthetic(), with_time=False)
    with pytest.raises(errors.SamplingRateError, match="no time column: give the sampling rate"):
        read_recording(path)
    assert read_recording(path, fs_hz=500).duration_s == pytest.approx(20)


def test_a_one_lead_csv_reads_and_a_headerless_one_is_refused(tmp_path: Path) -> None:
    """A single column under its lead's name (a handheld recorder's export) had been refused as
    "not a recognised ECG file"; a file without a header line had been read with its first
    samples as lead names ("analysis lead 0.0069"). Found by a clinician-eye audit."""
    original = synthetic(leads=("II",))
    one = write_csv(tmp_path / "one.csv", original, with_time=False)
    assert one.read_text().splitlines()[0] == "II"
    recording = read_recording(one, fs_hz=500)
    assert recording.lead_names == ("II",)
    np.testing.assert_allclose(recording.signal_mv, original.signal_mv, atol=1e-5)
    in_uv = write_csv(tmp_path / "uv.csv", original, with_time=False, scale=1000,
                      header_suffix=" (uV)")  # fmt: skip
    np.testing.assert_allclose(
        read_recording(in_uv, fs_hz=500).signal_mv, original.signal_mv, atol=1e-5
    )
    for leads in (("II",), ("I", "II", "III")):
        path = write_csv(tmp_path / "headed.csv", synthetic(leads=leads), with_time=False)
        headless = tmp_path / f"headless{len(leads)}.csv"
        headless.write_text("\n".join(path.read_text().splitlines()[1:]) + "\n")
        with pytest.raises(errors.UnknownFormatError, match="the first line holds numbers .*"
                           "not lead names. Add a header line naming the leads"):  # fmt: skip
            read_recording(headless, fs_hz=500)


def test_csv_time_in_milliseconds(tmp_path: Path) -> None:
    """A time column named in ms is read so; one named "time" holding milliseconds had read
    "The sampling rate is 0.5 Hz", and `time_ms` was taken for a lead ("values reach 59878...
    they look like microvolts"; a clinician-eye audit). Now the rate, or a message naming the
    milliseconds."""
    original = synthetic(leads=("II",))
    seconds = write_csv(tmp_path / "s.csv", original).read_text().splitlines()
    for header in ("time_ms", "time (ms)", "time"):
        rows = [f"{float(r.split(',')[0]) * 1000:.1f},{r.split(',', 1)[1]}" for r in seconds[1:]]
        path = tmp_path / "ms.csv"
        path.write_text(f"{header},II\n" + "\n".join(rows) + "\n")
        if header == "time":
            with pytest.raises(errors.SamplingRateError, match="look like milliseconds"):
                read_recording(path)
            continue
        recording = read_recording(path)
        assert recording.fs_hz == 500 and recording.lead_names == ("II",)
        np.testing.assert_allclose(recording.signal_mv, original.signal_mv, atol=1e-5)


def test_csv_time_in_milliseconds_gives_a_whole_rate(tmp_path: Path) -> None:
    """Times in ms to three decimals at 360 Hz: the rate had been snapped per millisecond
    (0.36, nothing to snap), and read 360.000002666914 Hz, the API's duration 29.99999977 s
    (an upload audit)."""
    original = synthetic(duration_s=30, fs_hz=360, leads=("II", "V5"))
    times_ms = np.arange(original.n_samples) * 1000 / 360
    rows = [
        f"{t:.3f},{a:.4f},{b:.4f}" for t, (a, b) in zip(times_ms, original.signal_mv, strict=True)
    ]
    path = tmp_path / "time_ms.csv"
    path.write_text("time_ms,II,V5\n" + "\n".join(rows) + "\n")
    recording = read_recording(path)
    assert recording.fs_hz == 360.0 and recording.duration_s == 30.0


def test_csv_microvolts_must_be_declared(tmp_path: Path) -> None:
    original = synthetic()
    path = write_csv(tmp_path / "uv.csv", original, scale=1000)
    with pytest.raises(errors.UnknownUnitsError, match="look like microvolts"):
        read_recording(path)
    declared = read_recording(path, units="uV")
    np.testing.assert_allclose(declared.signal_mv, original.signal_mv, atol=1e-5)
    labelled = write_csv(tmp_path / "labelled.csv", original, scale=1000, header_suffix=" (uV)")
    np.testing.assert_allclose(read_recording(labelled).signal_mv, original.signal_mv, atol=1e-5)
    with pytest.raises(errors.UnknownUnitsError, match="unknown signal units 'furlongs'"):
        read_recording(write_csv(tmp_path / "f.csv", original, header_suffix=" (furlongs)"))


def test_csv_problems(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ecg.csv", synthetic())
    text = path.read_text()
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: len(text) // 2].rsplit(",", 1)[0])
    with pytest.raises(errors.TruncatedDataError, match="last line is incomplete"):
        read_recording(cut)
    lines = text.splitlines()
    lines[10] = lines[10].replace(lines[10].split(",")[2], "abc", 1)
    word = tmp_path / "word.csv"
    word.write_text("\n".join(lines) + "\n")
    with pytest.raises(errors.UnknownFormatError, match="line 11, column 'II' holds 'abc'"):
        read_recording(word)
    uneven = tmp_path / "uneven.csv"
    rows = text.splitlines()
    rows[5] = "0.0095" + rows[5][rows[5].index(",") :]
    uneven.write_text("\n".join(rows) + "\n")
    with pytest.raises(errors.SamplingRateError, match="not evenly spaced") as raised:
        read_recording(uneven)
    # What to do about it (an upload audit found the refusal bare).
    assert "Remove the time column and give the sampling rate instead." in str(raised.value)
    european = tmp_path / "european.csv"
    european.write_text("time\tI\tII\n0,000\t0,10\t0.20\n0,002\t0,11\t0.21\n")
    with pytest.raises(errors.UnknownFormatError, match="It looks like a decimal comma"):
        read_recording(european)


def test_edf_in_millivolts_and_microvolts(tmp_path: Path) -> None:
    original = synthetic()
    for dimension in ("mV", "uV"):
        recording = read_recording(write_edf(tmp_path / f"{dimension}.edf", original, dimension))
        assert recording.lead_names == ("I", "II", "III") and recording.fs_hz == 500
        np.testing.assert_allclose(recording.signal_mv, original.signal_mv, atol=0.001)


def test_edf_problems(tmp_path: Path) -> None:
    path = write_edf(tmp_path / "ecg.edf", synthetic())
    cut = tmp_path / "cut.edf"
    cut.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(errors.TruncatedDataError, match="cut.edf is truncated"):
        read_recording(cut)
    odd = write_edf(tmp_path / "odd.edf", synthetic(), dimension="mmHg")
    with pytest.raises(errors.UnknownUnitsError, match="unknown signal units 'mmHg'"):
        read_recording(odd)


def _recording(signal: np.ndarray, fs_hz: float = 250.0) -> Recording:
    return Recording(
        fs_hz=fs_hz, lead_names=tuple(f"L{i}" for i in range(signal.shape[1])), signal_mv=signal
    )


def test_signal_checks() -> None:
    good = synthetic(fs_hz=250).signal_mv
    with pytest.raises(errors.SamplingRateError, match="20 Hz; the analysis needs 50-2000 Hz"):
        validated(_recording(good, fs_hz=20))
    with pytest.raises(errors.SamplingRateError):
        validated(_recording(good, fs_hz=5000))
    with pytest.raises(
        errors.DurationError, match=r"lasts 4.0 s \(1,000 samples at 250 Hz\); at least 8 s"
    ):
        validated(_recording(good[:1000]))
    with pytest.raises(errors.DurationError, match="at most 48 hours"):
        validated(_recording(np.zeros((int(48.5 * 3600 * 50), 1), dtype=np.float32), fs_hz=50))
    gappy = good.copy()
    gappy[2500:2600, 1] = np.nan  # gaps are analysed around (ml.gaps), not refused
    assert validated(_recording(gappy)).n_leads == 3
    gappy[:, 1] = np.nan
    assert usable_leads(validated(_recording(gappy))) == [0, 2]
    mostly = good.copy()
    mostly[: int(0.6 * len(good))] = np.inf
    with pytest.raises(
        errors.UnusableSignalError,
        match=r"No lead carries a usable ECG: leads L0, L1, L2: 60% of the samples are missing",
    ):
        validated(_recording(mostly))
    with pytest.raises(errors.UnusableSignalError, match="flat line"):
        validated(_recording(np.full_like(good, 0.2)))
    clipped = np.clip(good * 20, -1, 1)
    with pytest.raises(errors.UnusableSignalError, match="clipped"):
        validated(_recording(clipped))
    one_flat = good.copy()
    one_flat[:, 0] = 0.0
    assert validated(_recording(one_flat)).n_leads == 3  # other leads still usable


def test_numbers_far_beyond_an_ecgs_are_refused_as_wrong_units() -> None:
    """Microvolts labelled as millivolts (x1,000) or converter units without their gain
    (x100) read "Unclassifiable: too noisy; repeat the recording" (samples over 50 mV became
    gaps, the rest noise); no repeat mends that, the export settings do."""
    ecg = synthetic(20, 500).signal_mv
    for factor in (1000.0, 100.0):
        with pytest.raises(errors.UnusableSignalError, match="units are probably not millivolts"):
            validated(_recording(ecg * factor, fs_hz=500))
    one_wrong = ecg.copy()
    one_wrong[:, 1] *= 1000
    assert usable_leads(validated(_recording(one_wrong, fs_hz=500))) == [0, 2]
    assert usable_leads(validated(_recording(ecg * 3, fs_hz=500))) == [0, 1, 2]  # a tall ECG
    # Volts labelled as millivolts: flat, but not only an electrode off may be the cause.
    with pytest.raises(errors.UnusableSignalError, match="about 1,000 times too small"):
        validated(_recording(ecg / 1000, fs_hz=500))
    with pytest.raises(errors.UnusableSignalError, match=r"channel dead\)\.$"):
        validated(_recording(np.zeros_like(ecg), fs_hz=500))


def test_zip_inspection_refuses_unsafe_archives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = {
        "escape.zip": {"../../etc/evil.hea": b"x"},
        "absolute.zip": {"/etc/evil.hea": b"x"},
        "many.zip": {f"f{i}.dat": b"x" for i in range(100)},
    }
    for name, members in cases.items():
        with pytest.raises(errors.UnsafeArchiveError):
            read_recording(write_zip(tmp_path / name, members))
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as bundle:
        info = zipfile.ZipInfo("rec.hea")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(info, "/etc/passwd")
    with pytest.raises(errors.UnsafeArchiveError, match="link"):
        read_recording(link)
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 1000)
    bomb = write_zip(tmp_path / "bomb.zip", {"rec.dat": bytes(10_000)})
    with pytest.raises(errors.UnsafeArchiveError, match="unpacks to"):
        read_recording(bomb)
    assert not list(tmp_path.glob("**/evil.hea"))


@needs_cinc2017
def test_cinc2017_record_as_pair_as_header_alone_and_zipped(tmp_path: Path) -> None:
    header, data = CINC2017 / "A00001.hea", CINC2017 / "A00001.mat"
    reference = wfdb.rdrecord(str(CINC2017 / "A00001")).p_signal
    pair = read_recording([header, data])  # format 16+24, checksum 0 in the header
    assert pair.fs_hz == 300 and pair.lead_names == ("ECG",) and pair.n_samples == 9000
    np.testing.assert_allclose(pair.signal_mv, reference)
    np.testing.assert_allclose(read_recording(header).signal_mv, reference)
    bundle = write_zip(
        tmp_path / "A00001.zip", {f"A00001/{p.name}": p.read_bytes() for p in (header, data)}
    )
    np.testing.assert_allclose(read_recording(bundle).signal_mv, reference)


@needs_cinc2017
def test_cinc2017_data_file_of_another_record_is_refused(tmp_path: Path) -> None:
    """Checksum 0 is not taken as a match, but a .mat of another length still shows."""
    header = Path(shutil.copy(CINC2017 / "A00001.hea", tmp_path))
    longer = next(
        p
        for p in sorted(CINC2017.glob("A0*.mat"))
        if p.stat().st_size > (CINC2017 / "A00001.mat").stat().st_size
    )
    shutil.copy(longer, tmp_path / "A00001.mat")
    with pytest.raises(errors.HeaderDataMismatchError, match="may belong to another record"):
        read_recording([header, tmp_path / "A00001.mat"])


def _ecg_digital(n_samples: int, per_mv: float = 1000.0, leads: int = 1) -> np.ndarray:
    names = ("I", "II", "III")[:leads]
    signal_mv = synthetic(n_samples / 300 + 1, 300, leads=names).signal_mv[:n_samples]
    return np.round(signal_mv * per_mv).astype(np.int64)


def test_mat_file_with_a_byte_offset(tmp_path: Path) -> None:
    """`rec.mat 16+24`: 24 bytes of MATLAB header before the samples, checksum 0."""
    digital = _ecg_digital(3000)[:, 0]
    header, data = write_mat_record(tmp_path, digital)
    assert header.read_text().splitlines() == [
        "rec 1 300 3000",
        "rec.mat 16+24 1000/mV 16 0 0 0 0 ECG",
    ]
    for given in ([header, data], [header], [data, header]):
        recording = read_recording(given)
        assert recording.fs_hz == 300 and recording.lead_names == ("ECG",)
        np.testing.assert_allclose(recording.signal_mv[:, 0], digital / 1000)
    bundle = write_zip(tmp_path / "rec.zip", {p.name: p.read_bytes() for p in (header, data)})
    np.testing.assert_allclose(read_recording(bundle).signal_mv[:, 0], digital / 1000)
    data.write_bytes(data.read_bytes()[:-1000])
    with pytest.raises(errors.TruncatedDataError, match="rec.mat is truncated: it holds 8.3 s"):
        read_recording([header, data])


def test_mat_or_dat_without_its_header_asks_for_it(tmp_path: Path) -> None:
    _, data = write_mat_record(tmp_path, _ecg_digital(3000)[:, 0], name="A00001")
    message = r"A00001.mat holds only the samples.*Upload A00001.hea together with A00001.mat"
    with pytest.raises(errors.UnknownFormatError, match=message):
        read_recording(data)
    with pytest.raises(errors.UnknownFormatError, match=message):
        read_recording(write_zip(tmp_path / "only.zip", {data.name: data.read_bytes()}))
    _, dat = _copy_record("100", tmp_path)
    with pytest.raises(errors.UnknownFormatError, match=r"its header \(100.hea\)"):
        read_recording(dat)


@pytest.mark.parametrize(
    "fmt", ["8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "508", "516", "524"]
)
@pytest.mark.parametrize("n_samples", [3600, 3601])  # odd: 212 and 310/311 end mid-group
def test_every_wfdb_storage_format(tmp_path: Path, fmt: str, n_samples: int) -> None:
    digital = np.clip(_ecg_digital(n_samples, per_mv=50, leads=2), -127, 127)  # 8-bit formats
    recording = read_recording(write_wfdb_format(tmp_path, digital, fmt, fs_hz=360, gain=50))
    assert recording.lead_names == ("L1", "L2") and recording.n_samples == n_samples
    np.testing.assert_allclose(recording.signal_mv, digital / 50)


def test_several_samples_per_frame_are_averaged_to_the_frame_rate(tmp_path: Path) -> None:
    fast = _ecg_digital(6000, per_mv=200)[:, 0]  # lead A at 2 samples per frame
    slow = fast[::2] // 2  # lead B at 1
    frames = np.column_stack([fast[0::2], fast[1::2], slow])
    (tmp_path / "rec.dat").write_bytes(frames.astype("<i2").tobytes())
    (tmp_path / "rec.hea").write_text(
        "rec 2 150 3000\n"
        f"rec.dat 16x2 200/mV 16 0 {fast[0]} {int(fast.sum()) & 0xFFFF} 0 A\n"
        f"rec.dat 16 200/mV 16 0 {slow[0]} {int(slow.sum()) & 0xFFFF} 0 B\n"
    )
    recording = read_recording(tmp_path / "rec.hea")
    assert recording.fs_hz == 150 and recording.n_samples == 3000
    np.testing.assert_allclose(recording.lead("A"), (fast[0::2] + fast[1::2]) / 2 / 200)
    np.testing.assert_allclose(recording.lead("B"), slow / 200)


def test_wfdb_missing_sample_value_is_a_gap(tmp_path: Path) -> None:
    digital = _ecg_digital(3600, per_mv=200, leads=2)
    digital[1000:1003, 1] = -32768  # WFDB's "no sample" in format 16
    recording = read_recording(write_wfdb_format(tmp_path, digital, "16", gain=200))
    assert np.isnan(recording.signal_mv).sum() == 3
    assert np.isnan(recording.signal_mv[1000:1003, 1]).all()


LYING_HEADERS = [
    ("rate -360", "rec 1 -360 3000", None, errors.SamplingRateError,
     "sampling rate of -360 Hz, which is impossible"),
    ("rate nan", "rec 1 nan 3000", None, errors.SamplingRateError,
     "sampling rate of nan Hz, which is impossible"),
    ("rate 0", "rec 1 0 3000", None, errors.SamplingRateError,
     "sampling rate of 0 Hz, which is impossible"),
    ("rate absent", "rec 1", None, errors.SamplingRateError,
     "does not state the sampling rate"),
    ("rate 1e9", "rec 1 1e9 3000", None, errors.SamplingRateError,
     "1e\\+09 Hz; the analysis needs 50-2000 Hz"),
    ("more samples than the file holds", "rec 1 300 6000", None, errors.TruncatedDataError,
     "rec.mat is truncated: it holds 10.0 s of the 20.0 s the header announces"),
    ("negative length", "rec 1 300 -3000", None, errors.InvalidHeaderError,
     "'-3000' samples per signal, which is impossible"),
    ("gain 0", None, "rec.mat 16+24 0/mV 16 0 0 0 0 ECG", errors.InvalidHeaderError,
     "gain of 0, which in WFDB means the amplitude is uncalibrated"),
    ("gain absent", None, "rec.mat 16+24", errors.InvalidHeaderError, "states no gain"),
    ("gain negative", None, "rec.mat 16+24 -1000/mV 16 0 0 0 0 ECG", errors.InvalidHeaderError,
     "gain of -1000 ADC units per mV, which is impossible"),
    ("gain nan", None, "rec.mat 16+24 nan/mV 16 0 0 0 0 ECG", errors.InvalidHeaderError,
     "gain of nan ADC units per mV, which is impossible"),
    ("checksum not a number", None, "rec.mat 16+24 1000/mV 16 0 0 x 0 ECG",
     errors.InvalidHeaderError, "the checksum 'x' is not a whole number"),
    ("wrong nonzero checksum", None, "rec.mat 16+24 1000/mV 16 0 0 1234 0 ECG",
     errors.HeaderDataMismatchError, "do not match the header's checksum"),
    ("data file outside its folder", None, "../rec.mat 16+24 1000/mV 16 0 0 0 0 ECG",
     errors.UnknownFormatError, "unreadable WFDB signal line"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("record_line", "signal_line", "error", "message"),
    [case[1:] for case in LYING_HEADERS],
    ids=[case[0] for case in LYING_HEADERS],
)
def test_a_header_that_lies_is_refused_never_defaulted(
    tmp_path: Path,
    record_line: str | None,
    signal_line: str | None,
    error: type[errors.RecordingError],
    message: str,
) -> None:
    files = write_mat_record(
        tmp_path, _ecg_digital(3000)[:, 0], record_line=record_line, signal_line=signal_line
    )
    with pytest.raises(error, match=message):
        read_recording(files)


def test_uncalibrated_gain_is_read_only_when_asked_and_then_said(tmp_path: Path) -> None:
    """Research databases (svdb, qtdb) mark some signals uncalibrated; uploads refuse them."""
    digital = _ecg_digital(3000)[:, 0]
    files = write_mat_record(tmp_path, digital, signal_line="rec.mat 16+24 0 16 0 0 0 0 ECG")
    recording = read_recording(files, uncalibrated_ok=True)
    np.testing.assert_allclose(recording.signal_mv[:, 0], digital / 200)
    assert recording.notes == (
        "Lead ECG: uncalibrated in its file (gain 0); 200 units per mV assumed, so amplitudes "
        "are approximate.",
    )


def test_csv_impossible_values_are_read_as_gaps(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ecg.csv", synthetic())
    lines = path.read_text().splitlines()
    for row, (lead_i, lead_ii) in {11: ("1e308", "0.1"), 21: ("inf", "nan"), 31: ("", "-inf"),
                                   41: ("1e309", "NaN"), 51: ("-60", "0.2")}.items():  # fmt: skip
        time_s, _, _, lead_iii = lines[row].split(",")
        lines[row] = ",".join([time_s, lead_i, lead_ii, lead_iii])
    gappy = tmp_path / "gappy.csv"
    gappy.write_text("\n".join(lines) + "\n")
    recording = read_recording(gappy)
    rows = np.array([10, 20, 30, 40, 50])
    assert np.isnan(recording.signal_mv[rows, 0]).all()
    assert np.isnan(recording.signal_mv[rows[1:4], 1]).all()
    assert np.isnan(recording.signal_mv).sum() == 8
    assert recording.notes == (
        "Lead I: 4 impossible values (infinite, or beyond ±50 mV, which no ECG reaches) "
        "treated as missing.",
        "Lead II: 1 impossible value (infinite, or beyond ±50 mV, which no ECG reaches) "
        "treated as missing.",
    )


def test_csv_lead_with_nothing_but_gaps(tmp_path: Path) -> None:
    original = synthetic(leads=("I", "II"))
    signal = original.signal_mv.copy()
    signal[:, 0] = np.nan
    path = write_csv(tmp_path / "ecg.csv", Recording(500.0, ("I", "II"), signal))
    recording = read_recording(path)
    assert usable_leads(recording) == [1]  # lead II still used
    signal[:, 1] = np.inf
    with pytest.raises(errors.UnusableSignalError, match="leads I, II: every sample is missing"):
        read_recording(write_csv(tmp_path / "none.csv", Recording(500.0, ("I", "II"), signal)))


def test_plain_wfdb_records_are_decoded_without_wfdb_or_pandas(tmp_path: Path) -> None:
    """Formats 16 and 212 in one interleaved file (MIT-BIH, svdb, CinC 2017) are decoded by
    our own reader, sample for sample as wfdb decodes them, and the engine then imports
    neither wfdb nor pandas (a third of a second of a cold `cardio analyze`)."""
    import subprocess
    import sys

    records = [MITDB / "100", MITDB / "208"] + ([CINC2017 / "A00001"] * (CINC2017.is_dir()))
    code = (
        "import sys, numpy as np; from ml.io import read_recording; import ml.analysis; "
        f"rs = [read_recording(p + '.hea') for p in {[str(r) for r in records]!r}]; "
        "np.save(sys.argv[1], np.concatenate([r.signal_mv[:, 0] for r in rs])); "
        "print(sorted(m for m in ('wfdb', 'pandas') if m in sys.modules))"
    )
    out_file = tmp_path / "signals.npy"
    out = subprocess.run(
        [sys.executable, "-c", code, str(out_file)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    reference = np.concatenate([wfdb.rdrecord(str(r)).p_signal[:, 0] for r in records])
    np.testing.assert_array_equal(np.load(out_file), reference)


@pytest.mark.parametrize(
    ("format_field", "plain"),
    [("212", True), ("16+24", True), ("16:1", False), ("16x2", False), ("24", False)],
)
def test_only_plain_layouts_skip_wfdb(format_field: str, plain: bool) -> None:
    from ml.io.wfdb_header import parse_header
    from ml.io.wfdb_reader import is_plain_interleaved

    header = parse_header(
        f"rec 2 360 100\nrec.dat {format_field} 200 12 0 0 0 0 A\nrec.dat {format_field} 200 "
        "12 0 0 0 0 B\n",
        "rec.hea",
    )
    assert is_plain_interleaved(header) is plain


def test_skewed_record_is_decoded_by_wfdb(tmp_path: Path) -> None:
    """A signal stored one frame late (`16:1`) is shifted back into step as wfdb does it (its
    last sample, beyond the file, is missing: a gap)."""
    frames = _ecg_digital(3600, per_mv=200, leads=2)
    (tmp_path / "rec.dat").write_bytes(frames.astype("<i2").tobytes())
    (tmp_path / "rec.hea").write_text(
        "rec 2 360 3600\nrec.dat 16 200/mV 16 0 0\nrec.dat 16:1 200/mV 16 0 0\n"
    )
    recording = read_recording(tmp_path / "rec.hea")
    first, late = recording.signal_mv.T
    np.testing.assert_allclose(first, frames[:, 0] / 200)
    np.testing.assert_allclose(late[:-1], frames[1:, 1] / 200)
    assert np.isnan(late[-1])


def test_a_sleep_study_edf_reads_its_ecg_beside_channels_in_other_units(tmp_path: Path) -> None:
    """ECG at 256 Hz beside SaO2 (%), a heart rate (bpm) and body position at 1 Hz: the 1-Hz
    channels outnumbered the ECG, decided the rate and were refused as "Lead SaO2: unknown
    signal units '%'" (an upload audit)."""
    ecg = synthetic(20, 256.0, leads=("II",))
    path = write_edf_channels(tmp_path / "psg.edf", [
        ("ECG II", "mV", 256, ecg.signal_mv[:, 0], 5.0),
        ("SaO2", "%", 1, np.full(20, 96.0), 100.0),
        ("HR", "bpm", 1, np.full(20, 72.0), 250.0),
        ("Position", "", 1, np.zeros(20), 10.0),
    ])  # fmt: skip
    recording = read_recording(path)
    assert recording.lead_names == ("II",) and recording.fs_hz == 256.0
    np.testing.assert_allclose(recording.signal_mv[:, 0], ecg.signal_mv[:, 0], atol=1e-3)


def test_files_recorded_in_pieces_are_refused_saying_why(tmp_path: Path) -> None:
    """An EDF+D file (pieces with gaps) and a WFDB record in segments were refused as
    "unreadable EDF file" and "Upload exactly one WFDB header" (an upload audit)."""
    path = write_edf(tmp_path / "ecg.edf", synthetic())
    content = bytearray(path.read_bytes())
    assert content[192:197] == b"EDF+C"
    content[192:197] = b"EDF+D"
    pieces = tmp_path / "pieces.edf"
    pieces.write_bytes(bytes(content))
    with pytest.raises(errors.UnknownFormatError, match="is an EDF\\+D file, recorded in pieces"):
        read_recording(pieces)
    first = write_wfdb(tmp_path, synthetic(), "seg1")
    second = write_wfdb(tmp_path, synthetic(), "seg2")
    master = tmp_path / "seg.hea"  # a segmented record's header names its segments
    master.write_text("seg/2 3 500 20000\nseg1 10000\nseg2 10000\n")
    with pytest.raises(errors.UnknownFormatError, match="3 were given: a record stored in"):
        read_recording([master, *first, *second])


def _plain_edf_with(tmp_path: Path, name: str, start: int, field: str) -> Path:
    """A 2-lead plain EDF (not EDF+) whose header holds `field` from byte `start` on."""
    content = bytearray(
        write_edf(tmp_path / "good.edf", synthetic(leads=("II", "V5"))).read_bytes()
    )
    content[192:197] = b"     "  # EDF+C no more: pyEDFlib reads the plain EDF header fields
    content[start : start + 8] = field.ljust(8).encode()
    path = tmp_path / name
    path.write_bytes(bytes(content))
    return path


def test_an_edf_whose_data_records_last_0_s_is_refused_naming_the_field(tmp_path: Path) -> None:
    """A record duration of 0 (header bytes 244-251) raised pyEDFlib's ZeroDivisionError, a
    500 on upload (a bad-input audit)."""
    path = _plain_edf_with(tmp_path, "zero.edf", 244, "0")
    with pytest.raises(errors.UnknownFormatError, match="gives each data record a duration of 0 s"):
        read_recording(path)


@pytest.mark.parametrize("written", ["31.02.26", "29.02.25"])
def test_an_edf_starting_on_a_day_its_month_lacks_is_refused_naming_it(
    tmp_path: Path, written: str
) -> None:
    """31.02.26 raised "ValueError: day is out of range for month", a 500 on upload, where
    month 13 was refused (a bad-input audit)."""
    path = _plain_edf_with(tmp_path, "feb.edf", 168, written)
    with pytest.raises(errors.UnknownFormatError, match=f"start date, {written}, is no date"):
        read_recording(path)


@pytest.mark.parametrize(
    ("bytes_per_signal_before", "field", "named"),
    [(96, "\xb5V", "a lead's units in the header, 'µV'"),
     (0, "Dérivation II", "a lead's label in the header, 'Dérivation II'")],
)  # fmt: skip
def test_an_edf_with_text_beyond_ascii_is_told_so_in_a_clinicians_words(
    tmp_path: Path, bytes_per_signal_before: int, field: str, named: str
) -> None:
    """Units 'µV' in Latin-1 and a label 'Dérivation II' were refused in pyEDFlib's words,
    "the file is not EDF(+) or BDF(+) compliant (Physical Dimension)" (a bad-input audit)."""
    content = bytearray(
        write_edf(tmp_path / "good.edf", synthetic(leads=("II", "V5"))).read_bytes()
    )
    content[192:197] = b"     "
    raw = field.encode("latin-1" if field.startswith("\xb5") else "utf-8")
    start = 256 + bytes_per_signal_before * int(content[252:256])  # lead 1's field
    content[start : start + len(raw)] = raw
    path = tmp_path / "accents.edf"
    path.write_bytes(bytes(content))
    with pytest.raises(errors.UnknownFormatError) as raised:
        read_recording(path)
    message = str(raised.value)
    assert f"{named}, holds characters beyond ASCII, which EDF does not allow" in message
    assert "BDF" not in message and "compliant" not in message
    duration = _plain_edf_with(tmp_path, "minus.edf", 244, "-1")
    with pytest.raises(errors.UnknownFormatError) as raised:
        read_recording(duration)
    assert "the header's duration of a data record does not follow the EDF standard" in str(
        raised.value
    )
