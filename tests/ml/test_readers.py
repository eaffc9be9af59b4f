"""Reading WFDB, CSV and EDF recordings, and refusing every kind of bad file clearly."""

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
from ml.recording import Recording, validated
from ml.research.databases import default_data_dir
from tests.support.ecg_files import synthetic, write_csv, write_edf, write_wfdb, write_zip

MITDB = default_data_dir()


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
    header, _ = _copy_record("100", tmp_path)
    with pytest.raises(errors.HeaderDataMismatchError, match="names the data file 100.dat"):
        read_recording([header])


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
    assert recording.fs_hz == pytest.approx(500)
    assert recording.lead_names == ("I", "II", "III")
    np.testing.assert_allclose(recording.signal_mv, original.signal_mv, atol=1e-5)


def test_csv_without_time_needs_the_sampling_rate(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ecg.csv", synthetic(), with_time=False)
    with pytest.raises(errors.SamplingRateError, match="no time column: give the sampling rate"):
        read_recording(path)
    assert read_recording(path, fs_hz=500).duration_s == pytest.approx(20)


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
    lines[10] = lines[10].replace(lines[10].split(",")[2], "n/a", 1)
    word = tmp_path / "word.csv"
    word.write_text("\n".join(lines) + "\n")
    with pytest.raises(errors.UnknownFormatError, match="line 11, column 'II' holds 'n/a'"):
        read_recording(word)
    uneven = tmp_path / "uneven.csv"
    rows = text.splitlines()
    rows[5] = "0.0095" + rows[5][rows[5].index(",") :]
    uneven.write_text("\n".join(rows) + "\n")
    with pytest.raises(errors.SamplingRateError, match="not evenly spaced"):
        read_recording(uneven)


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
    with pytest.raises(errors.DurationError, match="lasts 4.0 s; at least 10 s"):
        validated(_recording(good[:1000]))
    with pytest.raises(errors.DurationError, match="at most 48 hours"):
        validated(_recording(np.zeros((int(48.5 * 3600 * 50), 1), dtype=np.float32), fs_hz=50))
    gappy = good.copy()
    gappy[2500:2600, 1] = np.nan
    with pytest.raises(errors.UnusableSignalError, match="Lead L1 has 100 missing samples"):
        validated(_recording(gappy))
    with pytest.raises(errors.UnusableSignalError, match="flat line"):
        validated(_recording(np.full_like(good, 0.2)))
    clipped = np.clip(good * 20, -1, 1)
    with pytest.raises(errors.UnusableSignalError, match="clipped"):
        validated(_recording(clipped))
    one_flat = good.copy()
    one_flat[:, 0] = 0.0
    assert validated(_recording(one_flat)).n_leads == 3  # other leads still usable


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
