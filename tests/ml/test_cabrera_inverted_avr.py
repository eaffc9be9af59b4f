"""A lead named with a minus sign before a standard lead ("ECG -aVR", Cabrera's -aVR) is that
lead inverted (`ml.recording.canonical_lead_name`, `inverted_back`): an EDF's "ECG -aVR"
holding -aVR was listed, read and drawn as aVR, an upright aVR (the textbook sign of swapped
arms or dextrocardia), since the prefix separator swallowed the minus; "Lead -aVR",
"ECG:-aVR", "MDC_ECG_LEAD_-aVR" and "ECG -II" gave the plain lead too (a 12-lead audit)."""

from pathlib import Path

import numpy as np

from ml.io import read_recording
from ml.recording import Recording, canonical_lead_name
from ml.research.synthetic import BeatTruth, synthetic_recording
from tests.support.ecg_files import write_csv, write_edf, write_wfdb

TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def test_a_minus_before_a_standard_lead_is_never_the_plain_lead() -> None:
    from ml.recording import inverted_back

    inverted = ["ECG -aVR", "Lead -aVR", "ECG:-aVR", "MDC_ECG_LEAD_-aVR", "-aVR", "\u2013aVR"]
    assert [canonical_lead_name(name) for name in inverted] == ["-aVR"] * len(inverted)
    assert canonical_lead_name("ECG -II") == "-II"
    assert [canonical_lead_name(n) for n in ("ECG-II", "ECG aVR", "EKG_aVR")] == [
        "II",
        "aVR",
        "aVR",
    ]
    names, signs, notes = inverted_back(["I", "-aVR", "aVL"])
    assert names == ["I", "aVR", "aVL"] and signs == [1.0, -1.0, 1.0]
    assert notes == ("Lead -aVR (Cabrera) read as aVR, inverted back.",)
    assert inverted_back(["aVR", "-aVR"])[:2] == (["aVR", "-aVR"], [1.0, 1.0])  # both recorded


def test_an_edf_channel_of_minus_avr_is_read_as_avr_inverted_back(tmp_path: Path) -> None:
    truth = BeatTruth(hr_bpm=70.0)
    recording, _ = synthetic_recording(truth, duration_s=10.0, fs_hz=500.0, leads=TWELVE, seed=5)
    cabrera = recording.signal_mv.copy()
    cabrera[:, TWELVE.index("aVR")] *= -1.0
    names = tuple("-aVR" if lead == "aVR" else lead for lead in TWELVE)
    path = write_edf(tmp_path / "cabrera.edf", Recording(500.0, names, cabrera))
    read = read_recording(path)
    assert read.lead_names == TWELVE
    assert np.allclose(read.lead("aVR"), recording.lead("aVR"), atol=0.001)
    assert read.lead("aVR").min() < -0.5  # the normal aVR's QRS points down
    assert "Lead -aVR (Cabrera) read as aVR, inverted back." in read.notes


def _cabrera_twelve_lead() -> tuple[Recording, Recording]:
    """A normal 12-lead, and the same with aVR written as Cabrera's -aVR."""
    truth = BeatTruth(hr_bpm=70.0)
    recording, _ = synthetic_recording(truth, duration_s=10.0, fs_hz=500.0, leads=TWELVE, seed=5)
    cabrera = recording.signal_mv.copy()
    cabrera[:, TWELVE.index("aVR")] *= -1.0
    names = tuple("-aVR" if lead == "aVR" else lead for lead in TWELVE)
    return recording, Recording(500.0, names, cabrera)


def test_a_csv_column_of_minus_avr_is_read_as_avr_inverted_back(tmp_path: Path) -> None:
    recording, cabrera = _cabrera_twelve_lead()
    read = read_recording(write_csv(tmp_path / "cabrera.csv", cabrera))
    assert read.lead_names == TWELVE
    assert np.allclose(read.lead("aVR"), recording.lead("aVR"), atol=0.001)
    assert read.lead("aVR").min() < -0.5  # the normal aVR's QRS points down
    assert "Lead -aVR (Cabrera) read as aVR, inverted back." in read.notes
    both = Recording(500.0, ("aVR", "-aVR"), recording.signal_mv[:, [3, 3]] * [1.0, -1.0])
    kept = read_recording(write_csv(tmp_path / "both.csv", both))
    assert kept.lead_names == ("aVR", "-aVR") and not kept.notes  # the plain lead recorded too


def test_a_wfdb_signal_of_minus_avr_is_read_as_avr_inverted_back(tmp_path: Path) -> None:
    from ml.io.sources import WfdbSource, open_recording

    recording, cabrera = _cabrera_twelve_lead()
    files = write_wfdb(tmp_path, cabrera, name="cabrera")
    read = read_recording(files)
    assert read.lead_names == TWELVE
    assert np.allclose(read.lead("aVR"), recording.lead("aVR"), atol=0.01)
    assert read.lead("aVR").min() < -0.5  # the normal aVR's QRS points down
    assert "Lead -aVR (Cabrera) read as aVR, inverted back." in read.notes
    with open_recording(files, stream_from_s=1.0) as streamed:  # read chunk by chunk
        assert isinstance(streamed, WfdbSource) and streamed.lead_names == TWELVE
        assert np.allclose(streamed.read(0, 5000)[:, 3], read.lead("aVR"), equal_nan=True)
        assert "Lead -aVR (Cabrera) read as aVR, inverted back." in streamed.notes
