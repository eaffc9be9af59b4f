"""Which channels of an EDF file are read as ECG leads, and which are left out saying why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyedflib

from ml.io import read_recording
from ml.io.sources import open_recording
from tests.support.ecg_files import synthetic

# (label, unit, rate in Hz, samples, physical extreme)
Channel = tuple[str, str, float, np.ndarray, float]


def _write_channels(path: Path, channels: list[Channel]) -> Path:
    writer = pyedflib.EdfWriter(str(path), len(channels), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setSignalHeaders([
            {"label": label, "dimension": unit, "sample_frequency": rate,
             "physical_max": top, "physical_min": -top, "digital_max": 32767,
             "digital_min": -32768}
            for label, unit, rate, _, top in channels
        ])  # fmt: skip
        writer.writeSamples([np.ascontiguousarray(samples) for _, _, _, samples, _ in channels])
    finally:
        writer.close()
    return path


def test_a_sleep_study_reads_its_ecg_not_its_eeg_eog_and_emg(tmp_path: Path) -> None:
    """An ECG at 512 Hz beside EEG, EOG and EMG channels at 256 Hz, all in microvolts, had
    been read as leads "EEG C3-A2, ..., EMG Chin · 256 Hz", the ECG left out unsaid, and read
    "too noisy" on an EOG channel (an upload audit)."""
    ecg = synthetic(20, 512.0, leads=("II",)).signal_mv[:, 0] * 1000
    noise = np.random.default_rng(0).normal(0, 20, (5, 20 * 256))
    others = ("EEG C3-A2", "EEG C4-A1", "EOG LOC-A2", "EOG ROC-A1", "EMG Chin")
    channels = [
        (label, "uV", 256.0, samples, 500.0) for label, samples in zip(others, noise, strict=True)
    ]
    path = _write_channels(tmp_path / "psg.edf", [*channels, ("ECG", "uV", 512.0, ecg, 5000.0)])
    streamed = open_recording(path, stream_from_s=0)
    streamed.close()
    for read in (read_recording(path), streamed):
        assert read.lead_names == ("ECG",) and read.fs_hz == 512.0
        assert read.notes == (
            "Channel(s) EEG C3-A2, EEG C4-A1, EOG LOC-A2, EOG ROC-A1, EMG Chin not read: not "
            "ECG leads, by their labels or units (EEG, EOG, EMG, respiration, oximetry ...).",
        )


def test_ecg_leads_at_another_rate_are_named_in_the_notes(tmp_path: Path) -> None:
    """Lead II at 500 Hz beside V1 and V5 at 250 Hz read "no usable lead II", and II beside
    V1 alone read "Single-lead recording", the other leads left out without a word."""
    fast = synthetic(20, 500.0, leads=("II",)).signal_mv
    slow = synthetic(20, 250.0, leads=("V1", "V5")).signal_mv
    lead_ii = ("II", "mV", 500.0, fast[:, 0], 5.0)
    v1, v5 = (("V1", "mV", 250.0, slow[:, 0], 5.0), ("V5", "mV", 250.0, slow[:, 1], 5.0))
    three = read_recording(_write_channels(tmp_path / "three.edf", [lead_ii, v1, v5]))
    assert three.lead_names == ("V1", "V5") and three.fs_hz == 250.0
    assert three.notes == (
        "Lead(s) II not read: recorded at 500 Hz, the leads read (V1, V5) at 250 Hz; one "
        "sampling rate is read per recording. Export the recording with one rate for all its "
        "leads to have them read together.",
    )
    two = read_recording(_write_channels(tmp_path / "two.edf", [v1, lead_ii]))
    assert two.lead_names == ("II",) and two.fs_hz == 500.0  # a tie: lead II's rate
    assert two.notes[0].startswith("Lead(s) V1 not read: recorded at 250 Hz, the leads read (II)")
