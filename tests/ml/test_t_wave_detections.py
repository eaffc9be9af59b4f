"""A tall, blunt T wave after a small QRS is not a beat: the R-peak detector's T-wave test also
reads sharpness (steepest slope over size), which a QRS keeps however small it is."""

from __future__ import annotations

import numpy as np
import pytest

from ml.analysis import analyze
from ml.cycle_splitters import NOTE_PHRASE
from ml.io import read_recording
from ml.research.databases import data_root, default_data_dir, load_record
from ml.research.synthetic import BeatTruth, synthetic_recording, synthetic_rhythm_mv
from ml.rpeaks import detect_r_peaks

FS_HZ = 300.0  # a handheld recorder's rate
MITDB = default_data_dir()
CINC = data_root() / "cinc2017"


def _small_qrs_tall_t() -> tuple[np.ndarray, np.ndarray]:
    """Lead I of a handheld device: a 0.3-mV QRS and a 0.6-mV T wave 160 ms wide, 70 bpm."""
    truth = BeatTruth(hr_bpm=70, qrs_ms=80, r_mv=0.3, t_mv=0.6, t_duration_ms=160, qt_ms=340)
    recording, qrs_onsets = synthetic_recording(truth, duration_s=30, fs_hz=FS_HZ, leads=("I",))
    return recording.signal_mv[:, 0], qrs_onsets


def test_the_t_waves_of_a_small_qrs_are_not_beats() -> None:
    signal_mv, qrs_onsets = _small_qrs_tall_t()
    peaks = detect_r_peaks(signal_mv, FS_HZ)
    # Every detection sits on a QRS (within 60 ms of its onset), and nearly every QRS is found.
    nearest_ms = np.abs(peaks[:, None] - qrs_onsets[None, :]).min(axis=1) / FS_HZ * 1000
    assert np.count_nonzero(nearest_ms > 60) <= 2, nearest_ms
    assert peaks.size >= qrs_onsets.size - 1
    # The slope test alone (the sharpness test off) counts every T wave as a beat too.
    assert detect_r_peaks(signal_mv, FS_HZ, t_sharp=0.0).size >= 1.8 * qrs_onsets.size


@pytest.mark.skipif(not (MITDB / "119.hea").is_file(), reason="MIT-BIH not found")
def test_wide_ventricular_beats_in_bigeminy_are_still_beats() -> None:
    """MIT-BIH 119 (ventricular bigeminy, DS1), first 5 min: the wide V beats are blunter
    than the sinus beats, but not as blunt as T waves; none is lost."""
    record = load_record(MITDB, "119")
    stop = int(300 * record.fs_hz)
    peaks = detect_r_peaks(record.signal_mv[:stop], record.fs_hz)
    reference = record.beat_samples[record.beat_samples < stop]
    v_beats = reference[record.beat_classes[: reference.size] == "V"]
    assert v_beats.size > 50
    tolerance = 0.15 * record.fs_hz
    found = np.abs(v_beats[:, None] - peaks[None, :]).min(axis=1) <= tolerance
    assert found.all()


@pytest.mark.skipif(not (CINC / "A04737.hea").is_file(), reason="cinc2017 not found")
def test_a_handheld_strip_whose_t_waves_doubled_its_rate_reads_its_true_rate() -> None:
    """A04737 (60 s, lead I): a narrow 0.15-mV QRS and a 0.35-mV rounded T wave 0.26 s later.
    Every T wave was detected and called V: 132 "beats" a minute, "frequent PVCs". Now 66
    beats, no V call, and the strip reads sinus rhythm."""
    analysis = analyze(read_recording(CINC / "A04737.hea", uncalibrated_ok=True))
    assert 60 <= analysis.beats.samples.size <= 70
    assert 60 <= analysis.heart_rate.mean_bpm <= 72
    assert analysis.beat_counts["V"] == 0
    assert analysis.strip is not None and analysis.strip.label == "sinus"


@pytest.mark.skipif(not (CINC / "A01949.hea").is_file(), reason="cinc2017 not found")
def test_a_t_wave_once_called_v_is_no_longer_a_beat() -> None:
    """A01949 (normal rhythm): the T wave 0.2 s after the beat at 15.3 s was detected, called
    V and then left unclassified by the cycle-splitter rule; now it is not detected."""
    analysis = analyze(read_recording(CINC / "A01949.hea", uncalibrated_ok=True))
    beat_s = analysis.beats.samples / analysis.fs_hz
    assert not np.any((beat_s > 15.4) & (beat_s < 15.8))
    assert analysis.main_finding.code == "NORMAL"
    assert not any(NOTE_PHRASE in note for note in analysis.notes)


@pytest.mark.parametrize(
    ("hr_bpm", "t_over_r", "fs_hz"), [(33, 0.6, 500.0), (36, 0.6, 250.0), (40, 0.8, 500.0)]
)
def test_the_late_t_waves_of_a_marked_bradycardia_are_not_beats(
    hr_bpm: float, t_over_r: float, fs_hz: float
) -> None:
    """A clean sinus bradycardia at 33-40 bpm (QTc 500 ms) whose T wave peaks 0.5-0.6 s
    after the R peak, past the 0.36-s T-wave test of normal rates: every T wave was a beat
    (rate doubled, "ventricular bigeminy"). The T-wave window widens as the rate slows."""
    rr_s = 60 / hr_bpm
    truth = BeatTruth(
        hr_bpm=hr_bpm, qt_ms=500 * np.sqrt(rr_s), qrs_ms=100, r_mv=0.5, t_mv=0.5 * t_over_r
    )
    onsets_s = np.arange(0.4, 29.2, rr_s)
    signal_mv = synthetic_rhythm_mv(onsets_s, duration_s=30, fs_hz=fs_hz, truth=truth)
    peaks = detect_r_peaks(signal_mv, fs_hz)
    nearest_ms = np.abs(peaks[:, None] / fs_hz - onsets_s[None, :]).min(axis=1) * 1000
    assert peaks.size == onsets_s.size
    assert np.all(nearest_ms <= 60), nearest_ms
    # With the window of normal rates, the T waves are counted too.
    assert detect_r_peaks(signal_mv, fs_hz, t_win_slow=0.0).size >= 1.8 * onsets_s.size


@pytest.mark.parametrize("hr_bpm", [50, 75, 90])
def test_a_peaked_t_wave_as_tall_as_the_r_wave_is_not_a_beat(hr_bpm: float) -> None:
    """A narrow (120 ms) T wave as tall as the R wave, hyperkalaemia's picture: 0.57 as steep
    and 0.63 as sharp as the QRS, it passed both single T-wave tests (limits 0.5) and every
    T wave was a beat. Under 0.6 of the slope and 0.65 of the sharpness together, it is a T."""
    rr_s = 60 / hr_bpm
    truth = BeatTruth(
        hr_bpm=hr_bpm, qt_ms=400 * np.sqrt(rr_s), r_mv=1.2, t_mv=1.2, t_duration_ms=120
    )
    onsets_s = np.arange(0.4, 29.2, rr_s)
    signal_mv = synthetic_rhythm_mv(onsets_s, duration_s=30, fs_hz=500.0, truth=truth)
    peaks = detect_r_peaks(signal_mv, 500.0)
    assert abs(peaks.size - onsets_s.size) <= 1
    nearest_ms = np.abs(peaks[:, None] / 500.0 - onsets_s[None, :]).min(axis=1) * 1000
    assert np.all(nearest_ms <= 60), nearest_ms
    assert detect_r_peaks(signal_mv, 500.0, t_both=(0.0, 0.0)).size >= 1.9 * onsets_s.size


@pytest.mark.parametrize(
    ("hr_bpm", "qt_ms", "t_mv", "fs_hz", "duration_s"),
    [(34, 600, 0.7, 500.0, 30), (34, 600, 0.7, 500.0, 10), (30, 640, 0.6, 250.0, 30)],
)
def test_the_first_t_wave_of_a_marked_bradycardia_does_not_set_the_cycle(
    hr_bpm: float, qt_ms: float, t_mv: float, fs_hz: float, duration_s: float
) -> None:
    """At 30-34 bpm with a QT of 600-640 ms the T wave (0.6-0.7 of the R wave) peaks 0.5 s
    after the R peak. Before any interval was known the detector assumed a 1-s cycle, whose
    T-wave window (0.36 s) the first T wave lies beyond: it was taken for a beat, and the
    short interval kept the window narrow, every T wave a beat (rate doubled). The learning
    period's tall candidates give the first cycle instead."""
    truth = BeatTruth(hr_bpm=hr_bpm, qt_ms=qt_ms, qrs_ms=80, r_mv=1.0, t_mv=t_mv, t_duration_ms=180)
    onsets_s = np.arange(0.4, duration_s - 0.8, 60 / hr_bpm)
    signal_mv = synthetic_rhythm_mv(onsets_s, duration_s=duration_s, fs_hz=fs_hz, truth=truth)
    peaks = detect_r_peaks(signal_mv, fs_hz)
    assert peaks.size == onsets_s.size
    nearest_ms = np.abs(peaks[:, None] / fs_hz - onsets_s[None, :]).min(axis=1) * 1000
    assert np.all(nearest_ms <= 60), nearest_ms
    assert detect_r_peaks(signal_mv, fs_hz, first_cycle_share=0.0).size == 2 * onsets_s.size
