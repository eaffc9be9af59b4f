"""The paced read (`ml.paced`): what a staff-noted pacemaker withdraws from the machine read,
on MIT-BIH's paced record 107 (outside DS1 and DS2) and on synthetic rhythms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.chunked import analyze_chunked
from ml.cli import analyze_command
from ml.io import read_recording
from ml.io.sources import ArraySource
from ml.paced import INTERVAL_REASON, NOTE, PACED_RHYTHM, PACED_STRIP, paced_read
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.research.synthetic import BeatTruth, synthetic_recording, synthetic_rhythm_mv
from tests.support.ecg_files import write_csv

MITDB = default_data_dir()
needs_mitdb = pytest.mark.skipif(
    not (MITDB / "107.hea").exists(), reason="MIT-BIH 107 not available locally"
)
FS_HZ = 360.0


@pytest.fixture(scope="module")
def record_107() -> Recording:
    if not (MITDB / "107.hea").exists():
        pytest.skip("MIT-BIH 107 not available locally")
    return read_recording([MITDB / "107.hea", MITDB / "107.dat"])


@pytest.fixture(scope="module")
def unflagged_107(record_107: Recording) -> EcgAnalysis:
    return analyze(record_107)


def _assert_paced(read: EcgAnalysis) -> None:
    """What every paced read says and does not say."""
    codes = [f.code for f in read.findings]
    assert read.pacemaker
    assert read.notes[0] == NOTE
    assert not set(codes) - {"PACED", "PAUSE", "VF", "NOISY_STRIP"}, codes
    assert set(read.beats.classes.tolist()) <= {"Q"}  # beat types not assessed (AAMI: Q)
    assert read.beat_counts["Q"] == read.beats.samples.size
    assert read.intervals.pr_ms is read.intervals.qrs_ms is read.intervals.qt_ms is None
    assert read.intervals.qtc_bazett_ms is read.intervals.qtc_fridericia_ms is None
    assert read.intervals.not_measurable == dict.fromkeys(
        ("pr", "qrs", "qt", "axis"), INTERVAL_REASON
    )
    assert read.heart_rate.sdnn_ms is read.heart_rate.rmssd_ms is read.heart_rate.pnn50 is None
    assert {e.label for e in read.episodes} <= {rhythm.PACED, rhythm.PAUSE, rhythm.VF}
    assert read.strip is None or read.strip.label != "af"
    assert "atrial" not in read.rhythm_summary.lower()


@needs_mitdb
def test_record_107_reads_as_paced_not_as_atrial_fibrillation(
    record_107: Recording, unflagged_107: EcgAnalysis
) -> None:
    # Without the flag the read is wrong as the README says: AF at high risk.
    assert any(f.code == "AF" and f.risk == "high" for f in unflagged_107.findings)
    assert unflagged_107.main_finding.code == "AF"

    paced = analyze(record_107, pacemaker=True)
    _assert_paced(paced)
    assert "AF" not in [f.code for f in paced.findings]
    assert paced.main_finding.code == "PACED" and paced.main_finding.risk == "medium"
    assert paced.rhythm_summary == PACED_RHYTHM
    assert [e.label for e in paced.episodes] == [rhythm.PACED]
    # What the machine can still judge is kept as it was.
    assert np.array_equal(paced.beats.samples, unflagged_107.beats.samples)
    assert paced.heart_rate.mean_bpm == unflagged_107.heart_rate.mean_bpm
    assert paced.heart_rate.min_bpm == unflagged_107.heart_rate.min_bpm
    assert paced.heart_rate.max_bpm == unflagged_107.heart_rate.max_bpm
    assert paced.quality == unflagged_107.quality
    assert paced.intervals.rr_ms == unflagged_107.intervals.rr_ms
    # The post-processing alone gives the same read, once.
    assert paced_read(unflagged_107).to_dict() == paced.to_dict()
    assert paced_read(paced) is paced
    # Stored and read back, it is still a paced read.
    stored = json.loads(json.dumps(paced.to_dict()))
    assert stored["pacemaker"] is True
    again = EcgAnalysis.from_dict(stored)
    assert again.pacemaker and again.rhythm_summary == PACED_RHYTHM
    assert again.intervals.not_measurable == paced.intervals.not_measurable


@needs_mitdb
def test_chunked_read_of_107_is_paced_too(record_107: Recording) -> None:
    chunked = analyze_chunked(ArraySource(record_107), chunk_s=600, pacemaker=True)
    _assert_paced(chunked)
    assert chunked.rhythm_summary == PACED_RHYTHM
    assert chunked.main_finding.code == "PACED"


@needs_mitdb
def test_a_short_paced_strip_is_not_called_atrial_fibrillation(record_107: Recording) -> None:
    strip = Recording(FS_HZ, record_107.lead_names, record_107.signal_mv[: int(30 * FS_HZ)])
    paced = analyze(strip, pacemaker=True)
    _assert_paced(paced)
    assert paced.strip is not None and paced.strip.label == PACED_STRIP
    assert paced.strip.text == PACED_RHYTHM and paced.strip.af_probability is None
    assert paced.rhythm_summary == PACED_RHYTHM


def _one_lead(onsets_s: np.ndarray, duration_s: float) -> Recording:
    signal = synthetic_rhythm_mv(onsets_s, duration_s=duration_s, fs_hz=FS_HZ)
    return Recording(FS_HZ, ("II",), signal[:, None], source_format="synthetic")


def test_a_pause_stays_a_pause_with_the_flag() -> None:
    """A pause in a paced patient may be pacing failure: it is kept, and is the main
    finding (a 3.5-s pause: high risk), with the paced rhythm beside it."""
    before = np.arange(0.5, 40.0, 0.8)
    onsets = np.concatenate([before, before[-1] + 3.5 + np.arange(0.0, 40.0, 0.8)])
    recording = _one_lead(onsets, float(onsets[-1]) + 1.5)
    plain = analyze(recording)
    assert plain.main_finding.code == "PAUSE" and plain.main_finding.risk == "high"

    paced = analyze(recording, pacemaker=True)
    _assert_paced(paced)
    assert paced.main_finding.code == "PAUSE" and paced.main_finding.risk == "high"
    assert paced.main_finding.detail == plain.main_finding.detail
    assert [f.code for f in paced.findings] == ["PAUSE", "PACED"]
    pauses = [e for e in paced.episodes if e.label == rhythm.PAUSE]
    assert pauses == [e for e in plain.episodes if e.label == rhythm.PAUSE]
    assert len(pauses) == 1 and pauses[0].duration_s == pytest.approx(3.5, abs=0.05)
    assert paced.rhythm_summary == f"{PACED_RHYTHM} with pause"


def test_a_regular_read_has_no_pacemaker_flag() -> None:
    onsets = np.arange(0.5, 70.0, 0.8)
    read = analyze(_one_lead(onsets, 71.0))
    assert not read.pacemaker and NOTE not in read.notes
    assert read.to_dict()["pacemaker"] is False


def test_cardio_analyze_pacemaker_prints_a_paced_read(tmp_path: Path) -> None:
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=70), duration_s=20, fs_hz=250,
                                       leads=("I", "II", "III"))  # fmt: skip
    csv_path = write_csv(tmp_path / "paced.csv", recording)
    result = CliRunner().invoke(analyze_command, [str(csv_path), "--pacemaker", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["pacemaker"] is True and document["rhythm_summary"] == PACED_RHYTHM
    text = CliRunner().invoke(analyze_command, [str(csv_path), "--pacemaker"]).output
    assert f"Rhythm: {PACED_RHYTHM}" in text and NOTE in text


def test_a_strip_too_noisy_to_read_stays_unreadable_with_the_flag() -> None:
    """No rhythm is claimed for a strip the machine cannot read, paced or not; the request
    to repeat it stays the main finding, and the intervals are withdrawn all the same."""
    rng = np.random.default_rng(7)
    onsets = np.arange(0.5, 29.0, 0.8)
    signal = synthetic_rhythm_mv(onsets, duration_s=30.0, fs_hz=FS_HZ)
    noisy = signal + rng.normal(0, 0.6, signal.size) + 0.8 * np.sin(np.arange(signal.size) / 7)
    plain = analyze(Recording(FS_HZ, ("II",), noisy[:, None], source_format="synthetic"))
    assert plain.strip is not None and plain.strip.label == "unclassifiable"

    paced = paced_read(plain)
    _assert_paced(paced)
    assert paced.strip == plain.strip and paced.rhythm_summary == plain.rhythm_summary
    assert [f.code for f in paced.findings] == [f.code for f in plain.findings]
    assert paced.main_finding.code == "NOISY_STRIP"
