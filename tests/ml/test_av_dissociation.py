"""Complete (third-degree) AV block: P waves marching at their own rate apart from the QRS
complexes are found and said, never read as sinus rhythm or atrial fibrillation
(`ml.av_dissociation`); sinus rhythm, 2:1 and Wenckebach conduction and AF never read so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.atrial import P_BAND_HZ
from ml.av_dissociation import PR_REASON, av_dissociation, windows_read
from ml.chunked import analyze_chunked
from ml.filters import bandpass_mv
from ml.io import read_recording
from ml.io.sources import ArraySource
from ml.recording import Recording, validated
from ml.research.databases import data_root
from ml.research.synthetic import (
    R_AFTER_ONSET_S,
    BeatTruth,
    complete_block_mv,
    second_degree_block_mv,
    sinus_or_af_mv,
    synthetic_rhythm_mv,
)
from tests.support.ecg_files import write_record_piece

FS_HZ = 250.0
NARROW_ESCAPE = BeatTruth(qrs_ms=90.0, qt_ms=440.0, p_mv=0.0)


def _block(duration_s: float, leads: tuple[str, ...] = ("II",), **kwargs: object) -> Recording:
    signal_mv, _, _ = complete_block_mv(duration_s, fs_hz=FS_HZ, leads=leads, **kwargs)  # type: ignore[arg-type]
    return validated(Recording(FS_HZ, leads, signal_mv))


def _said_as_complete_block(analysis: EcgAnalysis) -> None:
    codes = [f.code for f in analysis.findings]
    assert analysis.main_finding.code == "AV_BLOCK_3" and analysis.main_finding.risk == "high"
    assert not {"AF", "BRADY", "AV_BLOCK_1", "AV_BLOCK_2", "DROPPED_BEAT"} & set(codes), codes
    assert "march through the QRS complexes" in analysis.main_finding.detail
    labels = {e.label for e in analysis.episodes}
    assert rhythm.COMPLETE_BLOCK in labels
    assert not labels & {*rhythm.SINUS_RATES, rhythm.AF, rhythm.NO_P_WAVES}, labels
    assert analysis.intervals.pr_ms is None
    assert analysis.intervals.not_measurable["pr"] == PR_REASON


@pytest.mark.parametrize(
    ("duration_s", "leads", "escape", "atrial_bpm", "ventricular_bpm"),
    [
        (10.0, ("II",), NARROW_ESCAPE, 75.0, 34.0),
        (30.0, ("MLII", "V1"), BeatTruth(qrs_ms=140.0, qt_ms=480.0, t_mv=-0.3), 88.0, 41.0),
        (30.0, ("II",), NARROW_ESCAPE, 70.0, 45.0),
    ],
    ids=["10-s strip, junctional escape", "30-s two leads, ventricular escape", "30 s, 45 bpm"],
)
def test_a_complete_block_strip_reads_as_the_block(
    duration_s: float,
    leads: tuple[str, ...],
    escape: BeatTruth,
    atrial_bpm: float,
    ventricular_bpm: float,
) -> None:
    """Before: "Other rhythm: slow, no consistent P wave" at medium risk, "Sinus rhythm", or
    "Atrial fibrillation/flutter" (the QRS complexes fall anywhere after the P waves)."""
    analysis = analyze(
        _block(
            duration_s,
            leads,
            escape=escape,
            atrial_bpm=atrial_bpm,
            ventricular_bpm=ventricular_bpm,
        )
    )
    _said_as_complete_block(analysis)
    assert analysis.strip is not None and analysis.strip.label == "other"
    assert analysis.strip.reason.startswith(f"P waves at {atrial_bpm:.0f} /min")
    assert f"at {atrial_bpm:.0f} /min" in analysis.main_finding.detail


def test_a_complete_block_holter_reads_as_the_block_whole_and_chunked() -> None:
    """Before: two minutes read "Junctional or ectopic rhythm (no P waves)" or "Sinus
    bradycardia", at medium risk."""
    recording = _block(240.0, ("MLII", "V1"), atrial_bpm=82.0, ventricular_bpm=38.0, seed=4)
    whole = analyze(recording)
    chunked = analyze_chunked(ArraySource(recording), chunk_s=60, overlap_s=10)
    for analysis in (whole, chunked):
        _said_as_complete_block(analysis)
        assert analysis.rhythm_summary == rhythm.COMPLETE_BLOCK
        assert analysis.heart_rate.sdnn_ms is None  # no HRV from an escape rhythm
    assert [f.detail for f in whole.findings] == [f.detail for f in chunked.findings]
    assert whole.episodes == chunked.episodes


def _found(signal_mv: np.ndarray, onsets_s: np.ndarray) -> list:
    p_band = bandpass_mv(signal_mv, FS_HZ, P_BAND_HZ)
    beat_s = onsets_s + R_AFTER_ONSET_S
    return av_dissociation(p_band, FS_HZ, beat_s, np.full(beat_s.size, "N"))


@pytest.mark.parametrize("conducted", [1, 2, 3])
def test_two_to_one_and_wenckebach_conduction_are_no_dissociation(conducted: int) -> None:
    pr_ms = {1: (200.0,), 2: (180.0, 260.0), 3: (180.0, 250.0, 285.0)}[conducted]
    signal_mv, onsets_s, _ = second_degree_block_mv(
        60.0, fs_hz=FS_HZ, atrial_bpm=80.0, conducted=conducted, pr_ms=pr_ms
    )
    assert _found(signal_mv, onsets_s) == []


@pytest.mark.parametrize("rate_bpm", [45.0, 75.0, 130.0])
def test_sinus_rhythm_is_no_dissociation(rate_bpm: float) -> None:
    onsets_s = np.arange(0.5, 59.0, 60.0 / rate_bpm)
    truth = BeatTruth(hr_bpm=rate_bpm, qt_ms=min(400.0, 0.85 * 60000 / rate_bpm))
    signal_mv = synthetic_rhythm_mv(onsets_s, duration_s=60.0, fs_hz=FS_HZ, truth=truth)
    assert _found(signal_mv, onsets_s) == []


def test_atrial_fibrillation_is_no_dissociation() -> None:
    rr_s = np.random.default_rng(5).uniform(0.45, 1.3, 80)
    signal_mv, beat_s = sinus_or_af_mv(rr_s, af=True, fs_hz=FS_HZ)
    assert _found(signal_mv, beat_s - R_AFTER_ONSET_S) == []


@pytest.mark.parametrize(("database", "record"), [("qtdb", "sel231"), ("mitdb", "232")])
def test_real_blocks_and_pauses_are_no_dissociation(database: str, record: str) -> None:
    """QT Database sel231: 2:1 conduction; MIT-BIH 232: sinus bradycardia with long pauses."""
    analysis = analyze(read_recording(data_root() / database / f"{record}.hea"))
    assert "AV_BLOCK_3" not in [f.code for f in analysis.findings]
    assert rhythm.COMPLETE_BLOCK not in {e.label for e in analysis.episodes}


def test_windows_run_from_the_recordings_start_whole_or_in_chunks() -> None:
    assert windows_read(0.0, 10.0, None) == [(0.0, 10.0)]
    assert windows_read(0.0, 40.0, None) == [(0.0, 40.0)]  # a 10-s remainder joins the last
    assert windows_read(0.0, 50.0, None) == [(0.0, 30.0), (30.0, 50.0)]
    # A chunk read from 1,740 s of a 3,610-s recording, 100 s long: its whole windows.
    windows = [(1740.0, 1770.0), (1770.0, 1800.0), (1800.0, 1830.0)]
    assert windows_read(1740.0, 100.0, 3610.0) == windows
    # The recording's last chunk takes a remainder under half a window into its last window.
    assert windows_read(3540.0, 70.0, 3610.0) == [(3540.0, 3570.0), (3570.0, 3610.0)]


NSTDB = data_root() / "nstdb"


@pytest.mark.skipif(not (NSTDB / "118e12.hea").is_file(), reason="nstdb not found")
@pytest.mark.parametrize(
    ("name", "start_s"), [("118e12", 1780), ("118e06", 1750), ("118e06", 1780), ("119e00", 1020)]
)
def test_motion_noise_on_a_grid_is_no_dissociation(tmp_path: Path, name: str, start_s: int) -> None:
    """An electrophysiologist's audit: MIT-BIH 118 and 119 (sinus rhythm, a P wave before
    every QRS at a fixed PR) under electrode-motion noise read "Complete AV block" at high
    risk, from noise peaks at 113-115 /min standing on a steady grid."""
    analysis = analyze(read_recording(write_record_piece(tmp_path, NSTDB / name, start_s, 10)))
    assert "AV_BLOCK_3" not in [f.code for f in analysis.findings]
    assert rhythm.COMPLETE_BLOCK not in {e.label for e in analysis.episodes}
    assert analysis.intervals.not_measurable.get("pr") != PR_REASON
