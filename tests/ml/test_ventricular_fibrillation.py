"""Ventricular flutter/fibrillation found in the signal: synthetic VF inside sinus rhythm,
fast sinus rhythm that must not be called VF, and the flutter of MIT-BIH record 207 (DS1)."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.hrv import FIBRILLATION_RATE_REASON
from ml.recording import Recording
from ml.research.databases import default_data_dir, load_record
from ml.research.synthetic import BeatTruth, synthetic_rhythm_mv, ventricular_fibrillation_mv
from ml.strip_rhythm import FIBRILLATION
from ml.ventricular_fibrillation import fibrillation_spans_s

FS_HZ = 360.0
DATA_DIR = default_data_dir()


def _sinus_with_vf(vf_start_s: float, vf_s: float, total_s: float) -> np.ndarray:
    signal_mv = synthetic_rhythm_mv(np.arange(0.5, total_s - 1, 0.8), duration_s=total_s)
    start, stop = int(vf_start_s * FS_HZ), int((vf_start_s + vf_s) * FS_HZ)
    signal_mv[start:stop] = ventricular_fibrillation_mv(vf_s, fs_hz=FS_HZ, seed=2)
    return signal_mv


def test_vf_inside_sinus_rhythm_is_found_where_it_is() -> None:
    spans = fibrillation_spans_s(_sinus_with_vf(30.0, 20.0, 80.0), FS_HZ)
    assert len(spans) == 1
    start_s, end_s = spans[0]
    assert start_s == pytest.approx(30.0, abs=4.0) and end_s == pytest.approx(50.0, abs=4.0)


def test_fast_sinus_rhythm_and_short_bursts_are_not_vf() -> None:
    fast = BeatTruth(hr_bpm=160, pr_ms=120, qt_ms=260, t_duration_ms=120)
    tachycardia_mv = synthetic_rhythm_mv(np.arange(0.5, 59, 60 / 160), duration_s=60, truth=fast)
    assert fibrillation_spans_s(tachycardia_mv, FS_HZ) == []
    assert fibrillation_spans_s(_sinus_with_vf(30.0, 1.5, 60.0), FS_HZ) == []  # a burst
    assert fibrillation_spans_s(np.zeros(int(60 * FS_HZ)), FS_HZ) == []
    assert fibrillation_spans_s(np.zeros(100), FS_HZ) == []


def test_analysis_reports_vf_as_a_high_risk_finding_without_beats_inside() -> None:
    signal_mv = _sinus_with_vf(30.0, 20.0, 80.0)
    recording = Recording(
        fs_hz=FS_HZ, lead_names=("II",), signal_mv=signal_mv[:, None], source_format="test"
    )
    result = analyze(recording)
    vf = [e for e in result.episodes if e.label == rhythm.VF]
    assert len(vf) == 1
    finding = next(f for f in result.findings if f.code == "VF")
    assert finding.risk == "high"
    # The detector cannot tell flutter from very fast VT, and says so to the doctor.
    assert finding.detail.startswith("1 episode(s) of ventricular flutter or fibrillation")
    assert "very fast ventricular tachycardia looks alike, so check the strip" in finding.detail
    beat_s = result.beats.samples / FS_HZ
    inside = (beat_s >= vf[0].start_s) & (beat_s <= vf[0].end_s)
    assert set(np.asarray(result.beats.classes)[inside]) <= {"Q"}
    assert not any(e.label == rhythm.VT for e in result.episodes)


def _one_lead(signal_mv: np.ndarray) -> Recording:
    return Recording(FS_HZ, ("II",), signal_mv[:, None], source_format="test")


@pytest.mark.parametrize(
    "duration_s", [10.0, 30.0, 300.0], ids=["10-s strip", "30-s strip", "5 min"]
)
def test_a_recording_of_vf_reads_vf_with_no_rate_and_no_af(duration_s: float) -> None:
    """A strip of VF had been called "Atrial fibrillation/flutter" (the oscillation's waves
    taken for irregular beats) with an AF finding and a rate of 173 bpm; five minutes of it
    read "Undetermined with ventricular flutter/fibrillation" and a tachycardia at 187 bpm."""
    result = analyze(_one_lead(ventricular_fibrillation_mv(duration_s, fs_hz=FS_HZ, seed=2)))
    assert result.rhythm_summary == rhythm.VF
    assert [f.code for f in result.findings] == ["VF"]
    assert result.main_finding.code == "VF" and result.main_finding.risk == "high"
    assert {e.label for e in result.episodes} == {rhythm.VF}
    assert all(e.n_beats == 0 for e in result.episodes)  # its waves are not beats
    assert result.heart_rate.mean_bpm is None
    assert result.heart_rate.rate_reason == FIBRILLATION_RATE_REASON
    if duration_s <= 60:
        assert result.strip is not None and result.strip.label == FIBRILLATION
        assert result.strip.text == rhythm.VF
        assert "without QRS complexes over 100% of the strip" in result.strip.reason


def test_a_strip_with_a_vf_stretch_keeps_its_rhythm_and_counts_only_real_beats() -> None:
    """Under half of the strip in VF: the strip is still called from its beats, the VF stretch
    is listed beside it, and the rate counts the beats outside it (75 bpm), not the waves."""
    result = analyze(_one_lead(_sinus_with_vf(35.0, 15.0, 60.0)))
    assert result.strip is not None and result.strip.label != FIBRILLATION
    assert "VF" in {f.code for f in result.findings}
    assert result.heart_rate.mean_bpm == pytest.approx(75, abs=3)
    assert result.heart_rate.max_bpm < 100


@pytest.mark.skipif(not (DATA_DIR / "207.hea").is_file(), reason="MIT-BIH not found")
def test_ventricular_flutter_of_record_207() -> None:
    rec = load_record(DATA_DIR, "207")  # DS1; the thresholds were chosen on it
    spans = fibrillation_spans_s(rec.signal_mv, rec.fs_hz)
    # Reference flutter ("[" ... "]"): 40.7-51.0, 54.8-60.4, 242.1-246.4, 247.9-261.4,
    # 269.5-280.9 and 1540.8-1638.7 s.
    reference = [(40.7, 51.0), (54.8, 60.4), (242.1, 246.4), (247.9, 261.4)]
    reference += [(269.5, 280.9), (1540.8, 1638.7)]
    overlap_s = sum(max(0.0, min(b, d) - max(a, c)) for a, b in reference for c, d in spans)
    found_s = sum(d - c for c, d in spans)
    reference_s = sum(b - a for a, b in reference)
    assert overlap_s / reference_s > 0.95
    assert overlap_s / found_s > 0.9


@pytest.mark.skipif(not (DATA_DIR / "205.hea").is_file(), reason="MIT-BIH not found")
@pytest.mark.parametrize("fs_hz", [360.0, 62.5])
def test_a_fast_vt_run_is_found_whatever_the_windows_phase(fs_hz: float) -> None:
    """MIT-BIH 205 (DS1), its 210-bpm VT at 1460.5-1465.2 s (read as flutter, a documented
    confusion): with a window every second, three flagged in a row were found from clip
    starts 1450.0-1450.4 s and missed from 1450.5 s, and missed at 62.5 Hz."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    record = load_record(DATA_DIR, "205")
    ratio = Fraction(fs_hz / 360.0).limit_denominator(100)
    for offset_s in np.arange(0.0, 1.0, 0.1):
        start = int(round((1450.0 + offset_s) * 360.0))
        clip_mv = record.signal_mv[start : start + 40 * 360]
        if fs_hz != 360.0:
            clip_mv = resample_poly(clip_mv, ratio.numerator, ratio.denominator)
        spans = [
            (a + 1450.0 + offset_s, b + 1450.0 + offset_s)
            for a, b in fibrillation_spans_s(clip_mv, fs_hz)
        ]
        assert rhythm.overlap_s(1460.5, 1465.2, spans) > 1.5, (offset_s, spans)


@pytest.mark.parametrize("fs_hz", [360.0, 250.0, 62.5])
def test_vf_onset_is_read_within_a_second(fs_hz: float) -> None:
    """The span had started at its first flagged window's start: 15 s of VF from 20 s read
    "Ventricular flutter/fibrillation 18.0-35.0" beside "Sinus rhythm 1.0-18.1". Its end is
    still the last flagged window's end (within about a second on 207's flutter; this purer
    synthetic VF is flagged on up to 2.25 s past it)."""
    signal_mv = synthetic_rhythm_mv(np.arange(0.5, 79, 0.8), duration_s=80.0, fs_hz=fs_hz)
    vf_mv = ventricular_fibrillation_mv(15.0, fs_hz=fs_hz, seed=2)
    start = int(30 * fs_hz)
    signal_mv[start : start + vf_mv.size] = vf_mv
    spans = fibrillation_spans_s(signal_mv, fs_hz)
    assert len(spans) == 1
    assert spans[0][0] == pytest.approx(30.0, abs=1.0)
    assert spans[0][1] == pytest.approx(45.0, abs=2.5)


@pytest.mark.skipif(not (DATA_DIR / "207.hea").is_file(), reason="MIT-BIH not found")
def test_the_flutter_onsets_of_207_are_read_within_a_second() -> None:
    """Reference VFL onsets 242.26, 269.59 and 1540.94 s (DS1) had read 241.0, 268.0 and
    1539.0."""
    rec = load_record(DATA_DIR, "207")
    starts = [start for start, _ in fibrillation_spans_s(rec.signal_mv, rec.fs_hz)]
    for onset_s in (242.26, 269.59, 1540.94):
        assert min(abs(s - onset_s) for s in starts) <= 1.0, (onset_s, starts)


@pytest.mark.skipif(not (DATA_DIR / "207.hea").is_file(), reason="MIT-BIH not found")
def test_a_recording_that_opens_in_flutter_reads_it_from_its_start() -> None:
    """MIT-BIH 207, 1545-1555 s, flutter throughout (reference flutter waves from 0.13 s):
    the windows at 0 s, unsettled by the band-pass, went unflagged, those at 0.5 s flagged,
    and the VF read from their centre, 2.5 s: its first flutter waves counted as beats, a
    "Sinus tachycardia" of 185 bpm (an adversarial review of the onset fix)."""
    rec = load_record(DATA_DIR, "207")
    clip_mv = rec.leads_mv[int(1545 * rec.fs_hz) : int(1555 * rec.fs_hz)]
    spans = fibrillation_spans_s(clip_mv[:, 0], rec.fs_hz)
    assert spans and spans[0][0] == 0.0, spans  # was 2.5
    recording = Recording(
        fs_hz=rec.fs_hz, lead_names=("MLII", "V1"), signal_mv=clip_mv, source_format="wfdb"
    )
    codes = {finding.code for finding in analyze(recording).findings}
    assert "VF" in codes and "TACHY" not in codes
