"""Which channels of an EDF file are read as ECG leads, and which are left out saying why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml import errors
from ml.io import read_recording
from ml.io.sources import open_recording
from tests.support.ecg_files import synthetic, write_edf_channels


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
    path = write_edf_channels(tmp_path / "psg.edf", [*channels, ("ECG", "uV", 512.0, ecg, 5000.0)])
    streamed = open_recording(path, stream_from_s=0)
    streamed.close()
    for read in (read_recording(path), streamed):
        assert read.lead_names == ("ECG",) and read.fs_hz == 512.0
        assert read.notes == (
            "Channel(s) EEG C3-A2, EEG C4-A1, EOG LOC-A2, EOG ROC-A1, EMG Chin not read: not "
            "ECG leads, by their labels or units (EEG, EOG, EMG, respiration, oximetry ...).",
        )


def test_eeg_derivations_named_by_their_electrodes_alone_are_left_out(tmp_path: Path) -> None:
    """A sleep study's EEG labelled by its 10-20 electrodes alone ("Fp2-F4", "C3-A2"), at the
    ECG's rate and in its units, had been read as ECG leads (beats from the EEG)."""
    from ml.io.edf_reader import _is_ecg_label

    ecg = synthetic(20, 256.0, leads=("II",)).signal_mv[:, 0] * 1000
    noise = np.random.default_rng(1).normal(0, 20, (7, 20 * 256))
    eeg = ("Fp2-F4", "C3-A2", "O1-M2", "Fz-Cz", "F3", "C4:A1", "FP1 - T3")
    channels = [
        (label, "uV", 256.0, samples, 500.0) for label, samples in zip(eeg, noise, strict=True)
    ]
    path = write_edf_channels(tmp_path / "psg.edf", [*channels, ("ECG", "uV", 256.0, ecg, 5000.0)])
    read = read_recording(path)
    assert read.lead_names == ("ECG",) and read.fs_hz == 256.0
    assert read.notes[0].startswith(f"Channel(s) {', '.join(eeg)} not read: not ECG leads")
    ecg_labels = ("ECG", "EKG", "ECG II", "Thorax_1", "Thoracic ECG", "II", "V1", "aVF", "CM5")
    assert all(_is_ecg_label(label) for label in (*ecg_labels, "MLII", "D3", "ECG1", "Lead 2"))


@pytest.mark.parametrize(
    "labels",
    [("Thorax_1", "Thorax_2"), ("ECG Thorax",), ("Thoracic ECG", "Abdominal ECG"), ("Abdomen_1",)],
)
def test_ecg_leads_named_by_their_body_site_are_read(
    tmp_path: Path, labels: tuple[str, ...]
) -> None:
    """A fetal ECG's "Thorax_1, Thorax_2" in mV (PhysioNet's non-invasive fetal ECG EDFs),
    "ECG Thorax" and "Thoracic ECG, Abdominal ECG" had been refused as "the EDF file holds no
    ECG signal": "thor" and "abd" were looked for anywhere in a label (an upload audit)."""
    signal = synthetic(20, 360.0, leads=("II", "V5")).signal_mv
    channels = [(label, "mV", 360.0, signal[:, i], 5.0) for i, label in enumerate(labels)]
    read = read_recording(write_edf_channels(tmp_path / "thorax.edf", channels))
    assert read.lead_names == labels and read.fs_hz == 360.0 and read.notes == ()


def test_a_sleep_study_leaves_out_its_belts_and_sensors_by_their_words(tmp_path: Path) -> None:
    """A sleep study's respiratory belts, pulse and light channels stay out, by whole words
    ("THOR RES", "Abdo", "Pulse") or, labelled by a body site alone, by their rate."""
    ecg = synthetic(20, 256.0, leads=("II",)).signal_mv[:, 0] * 1000
    belt = np.sin(np.linspace(0, 40, 20 * 16)) * 100
    others = ("THOR RES", "ABDO RES", "Thorax", "Abdomen", "Pulse", "Light", "Flow", "EEG1")
    channels = [(label, "uV", 16.0, belt, 500.0) for label in others]
    path = write_edf_channels(tmp_path / "psg.edf", [*channels, ("ECG", "uV", 256.0, ecg, 5000.0)])
    read = read_recording(path)
    assert read.lead_names == ("ECG",) and read.fs_hz == 256.0
    assert read.notes[0].startswith(f"Channel(s) {', '.join(others)} not read: not ECG leads")


def test_ecg_leads_at_another_rate_are_named_in_the_notes(tmp_path: Path) -> None:
    """Lead II at 500 Hz beside V1 and V5 at 250 Hz read "no usable lead II", and II beside
    V1 alone read "Single-lead recording", the other leads left out without a word."""
    fast = synthetic(20, 500.0, leads=("II",)).signal_mv
    slow = synthetic(20, 250.0, leads=("V1", "V5")).signal_mv
    lead_ii = ("II", "mV", 500.0, fast[:, 0], 5.0)
    v1, v5 = (("V1", "mV", 250.0, slow[:, 0], 5.0), ("V5", "mV", 250.0, slow[:, 1], 5.0))
    three = read_recording(write_edf_channels(tmp_path / "three.edf", [lead_ii, v1, v5]))
    assert three.lead_names == ("V1", "V5") and three.fs_hz == 250.0
    assert three.notes == (
        "Lead(s) II not read: recorded at 500 Hz, the leads read (V1, V5) at 250 Hz; one "
        "sampling rate is read per recording. Export the recording with one rate for all its "
        "leads to have them read together.",
    )
    two = read_recording(write_edf_channels(tmp_path / "two.edf", [v1, lead_ii]))
    assert two.lead_names == ("II",) and two.fs_hz == 500.0  # a tie: lead II's rate
    assert two.notes[0].startswith("Lead(s) V1 not read: recorded at 250 Hz, the leads read (II)")


def _with_digital_range(source: Path, target: Path, low: int, high: int) -> Path:
    """`source` with its signals' digital minimum and maximum in the header replaced (not
    those of the EDF+ annotations, the last signal, which EDF+ fixes)."""
    content = bytearray(source.read_bytes())
    n_signals = int(content[252:256])
    for field_start, value in ((256 + 120 * n_signals, low), (256 + 128 * n_signals, high)):
        for i in range(n_signals - 1):
            at = field_start + 8 * i
            content[at : at + 8] = str(value).ljust(8).encode("ascii")
    target.write_bytes(bytes(content))
    return target


def test_samples_beyond_the_declared_digital_range_are_refused(tmp_path: Path) -> None:
    """Data spanning 16 bits under a header declaring -8192..8191 had been read four times
    too tall: a 12-lead with R waves of 0.9 mV read "Left ventricular hypertrophy"; at 16
    times "too noisy" (an upload audit)."""
    recording = synthetic(20, 500.0, leads=("I", "II", "III"))
    channels = [
        (name, "mV", 500.0, recording.signal_mv[:, i], 1.25)
        for i, name in enumerate(recording.lead_names)
    ]
    honest = write_edf_channels(tmp_path / "honest.edf", channels)
    assert np.max(np.abs(read_recording(honest).signal_mv - recording.signal_mv)) < 1e-3
    lying = _with_digital_range(honest, tmp_path / "lying.edf", -8192, 8191)
    message = (
        r"lying.edf: channel I holds samples beyond the digital minimum and maximum its header "
        r"declares \(-8192 to 8191; a sample reaches -?\d+\), which EDF does not allow: its "
        r"amplitudes cannot be read to scale. Export the file again from the recording "
        r"device's software."
    )
    with pytest.raises(errors.HeaderDataMismatchError, match=message):
        read_recording(lying)
    streamed = open_recording(lying, stream_from_s=0)
    try:
        with pytest.raises(errors.HeaderDataMismatchError, match=message):
            list(streamed.scan(5000))
    finally:
        streamed.close()
