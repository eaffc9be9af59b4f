"""An interval of two cycles holding a ventricular complex the detector missed is no dropped
beat (`ml.missed_complexes`, `ml.rhythm._pauses`). An electrophysiologist's audit: QT Database
sel44 at 600-610 s read "Dropped beat (possible second-degree AV block)" over 2.9-4.3 s, the
compensatory pause of a wide PVC 0.44 s after the beat before that `ml.rpeaks` took for its T
wave. A P wave not conducted, in a Mobitz block or in the T wave of a blocked atrial premature
beat, is no such complex: those dropped beats stay."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml import rhythm
from ml.analysis import analyze
from ml.chunked import analyze_chunked
from ml.filters import bandpass_mv
from ml.io.sources import ArraySource
from ml.missed_complexes import QRS_BAND_HZ, missed_complexes_s
from ml.recording import Recording
from ml.research.databases import data_root
from ml.research.synthetic import (
    R_AFTER_ONSET_S,
    BeatTruth,
    beats_in_leads_mv,
    second_degree_block_mv,
)

FS_HZ = 250.0
LEADS = ("II", "V1")
CYCLE_S = 0.8
SEL44 = data_root() / "qtdb" / "sel44"


def _sinus_onsets_s(duration_s: float, skip_after: int) -> np.ndarray:
    """Sinus QRS onsets every `CYCLE_S`, the one after beat `skip_after` left out: an interval
    of two cycles."""
    onsets_s = np.arange(0.5, duration_s - CYCLE_S / 2, CYCLE_S)
    return np.delete(onsets_s, skip_after + 1)


def _dropped(beat_s: np.ndarray, missed_s: np.ndarray) -> list[rhythm.Episode]:
    classes = np.full(beat_s.size, "N")
    episodes = rhythm.detect_rhythms(
        beat_s, classes, 30.0, missed_complexes_s=missed_s, p_waves_may_lack=False
    )
    return [e for e in episodes if e.label == rhythm.DROPPED]


def _missed(signal_mv: np.ndarray, beat_s: np.ndarray) -> np.ndarray:
    band = bandpass_mv(signal_mv, FS_HZ, QRS_BAND_HZ)
    return missed_complexes_s(band, FS_HZ, beat_s, np.full(beat_s.size, "N"))


def test_a_wide_pvc_missed_in_a_compensatory_pause_makes_no_dropped_beat() -> None:
    onsets_s = _sinus_onsets_s(30.0, skip_after=15)
    pvc_s = onsets_s[15] + 0.44  # wide, no P wave, its own axis, a broad T wave against it
    pvc = BeatTruth(qrs_ms=160.0, r_mv=1.0, axis_deg=-60.0, p_mv=0.0, t_mv=-0.4)
    signal_mv = beats_in_leads_mv(
        [(t, BeatTruth(hr_bpm=75.0)) for t in onsets_s] + [(pvc_s, pvc)], 30.0, FS_HZ, LEADS
    )
    beat_s = onsets_s + R_AFTER_ONSET_S  # the PVC left out, as the detector missed it
    assert len(_dropped(beat_s, np.zeros(0))) == 1  # the premise: read as a dropped beat
    missed = _missed(signal_mv, beat_s)
    assert missed.size == 1 and onsets_s[15] < missed[0] < onsets_s[16]
    assert _dropped(beat_s, missed) == []


@pytest.mark.parametrize("conducted", [2, 3])
def test_the_blocked_p_waves_of_a_mobitz_block_are_no_missed_complexes(conducted: int) -> None:
    signal_mv, onsets_s, _ = second_degree_block_mv(
        60.0, fs_hz=FS_HZ, conducted=conducted, pr_ms=(180.0,) * conducted
    )
    assert _missed(signal_mv, onsets_s + R_AFTER_ONSET_S).size == 0


def test_a_blocked_atrial_premature_beat_stays_a_dropped_beat() -> None:
    """Its P wave on the T wave of the beat before, 0.35 s after it, taller than the sinus P."""
    onsets_s = _sinus_onsets_s(30.0, skip_after=15)
    signal_mv = beats_in_leads_mv(
        [(t, BeatTruth(hr_bpm=75.0)) for t in onsets_s], 30.0, FS_HZ, LEADS
    )
    t_s = np.arange(signal_mv.shape[0]) / FS_HZ
    p_start_s = onsets_s[15] + 0.35
    premature_p = 0.25 * np.where(
        (t_s >= p_start_s) & (t_s <= p_start_s + 0.1), np.sin(np.pi * (t_s - p_start_s) / 0.1), 0
    )
    signal_mv += premature_p[:, None] * np.array([1.0, -0.6])
    beat_s = onsets_s + R_AFTER_ONSET_S
    missed = _missed(signal_mv, beat_s)
    assert missed.size == 0
    assert len(_dropped(beat_s, missed)) == 1


@pytest.mark.skipif(not SEL44.with_suffix(".hea").is_file(), reason="QT Database not found")
def test_qtdb_sel44_reads_no_dropped_beat_over_its_missed_pvc() -> None:
    record = wfdb.rdrecord(str(SEL44), sampfrom=600 * 250, sampto=610 * 250)
    analysis = analyze(Recording(FS_HZ, tuple(record.sig_name), record.p_signal))
    assert not [e for e in analysis.episodes if e.label == rhythm.DROPPED]
    assert not [f for f in analysis.findings if f.code == "DROPPED_BEAT"]


@pytest.mark.skipif(not SEL44.with_suffix(".hea").is_file(), reason="QT Database not found")
def test_qtdb_sel44_read_in_chunks_reads_no_dropped_beat_either() -> None:
    record = wfdb.rdrecord(str(SEL44), sampfrom=600 * 250, sampto=660 * 250)
    recording = Recording(FS_HZ, tuple(record.sig_name), record.p_signal)
    analysis = analyze_chunked(ArraySource(recording), chunk_s=30, overlap_s=10)
    assert not [e for e in analysis.episodes if e.label == rhythm.DROPPED]
