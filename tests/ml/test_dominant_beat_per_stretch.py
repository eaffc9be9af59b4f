"""A long recording's beats are compared with the dominant beat of their own stretch (31 min
around their 5-min block, `ml.features.beat_stretches`), not of the whole recording. A Holter
audit: MIT-BIH 119 followed by an hour of itself with both channels inverted (electrodes
re-applied) read 962 V calls in its upright first half for 444 PVCs, with VT as the main
finding, every upright beat unlike the recording's dominant (inverted) beat."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml.analysis import analyze
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.stretches import STRETCH_BLOCK_S, STRETCH_MIN_BEATS, STRETCH_WINDOW_S, beat_stretches

MITDB = default_data_dir()


def test_up_to_31_minutes_is_one_stretch_as_trained() -> None:
    """Every training and test record (MIT-BIH's 30 min 6 s at most) keeps its one dominant
    beat, so the model's inputs for them are unchanged."""
    beat_s = np.arange(0.0, 30 * 60 + 6, 0.8)
    assert beat_stretches(beat_s) == [(slice(0, beat_s.size), slice(0, beat_s.size))]


def test_longer_recordings_have_a_stretch_per_block_inside_the_recording() -> None:
    beat_s = np.concatenate([np.arange(0.0, 1800.0, 1.0), np.arange(2700.0, 7200.0, 1.0)])
    stretches = beat_stretches(beat_s)
    covered = np.concatenate([np.arange(b.start, b.stop) for b, _ in stretches])
    assert np.array_equal(covered, np.arange(beat_s.size))  # every beat once, in order
    assert len(stretches) == 24 - 3  # 2 h of 5-min blocks, less the 15 min with no beat
    for block, around in stretches:
        assert around.start <= block.start and block.stop <= around.stop
        span_s = beat_s[around.stop - 1] - beat_s[around.start]
        assert span_s <= STRETCH_WINDOW_S
    first, last = stretches[0][1], stretches[-1][1]
    assert beat_s[first.start] == 0.0 and beat_s[last.stop - 1] == beat_s[-1]  # clipped, shifted
    assert beat_s[first.stop - 1] >= STRETCH_WINDOW_S - STRETCH_BLOCK_S


@pytest.mark.skipif(not (MITDB / "119.hea").is_file(), reason="MIT-BIH not found")
def test_electrodes_reapplied_inverted_halfway_read_each_half_like_the_record() -> None:
    path = str(MITDB / "119")
    record = wfdb.rdrecord(path)
    reference = wfdb.rdann(path, "atr")
    pvcs = int(sum(symbol == "V" for symbol in reference.symbol))
    upright = record.p_signal
    analysis = analyze(Recording(360.0, ("MLII", "V1"), np.vstack([upright, -upright])))
    classes, samples = np.asarray(analysis.beats.classes), analysis.beats.samples
    halves = samples < upright.shape[0], samples >= upright.shape[0]
    v_calls = [int((classes[half] == "V").sum()) for half in halves]
    assert pvcs == 444
    # Before: one half's beats were all unlike the dominant beat (962 V calls in the
    # upright half of the helper's 90-min version).
    assert all(abs(calls - pvcs) <= 10 for calls in v_calls), v_calls
    assert analysis.main_finding.code != "VT"


def test_a_block_between_gaps_borrows_the_nearest_beats() -> None:
    """A window holding fewer than STRETCH_MIN_BEATS beats widens to the beats nearest its
    block: 50 s of beats between two 16-min gaps were their own dominant beat."""
    beat_s = np.concatenate(
        [np.arange(0.0, 1800.0, 0.8), np.arange(2790.0, 2840.0, 0.4), np.arange(3830, 5630, 0.8)]
    )
    lonely = np.flatnonzero((beat_s >= 2790.0) & (beat_s < 2840.0))
    [(block, around)] = [(b, a) for b, a in beat_stretches(beat_s) if b.start <= lonely[0] < b.stop]
    assert around.stop - around.start == STRETCH_MIN_BEATS
    assert around.start < lonely[0] and lonely[-1] < around.stop  # the run and its neighbours
    # A window that holds enough beats is as before: by time.
    assert all(
        beat_s[a.stop - 1] - beat_s[a.start] <= STRETCH_WINDOW_S
        for b, a in beat_stretches(beat_s)
        if not (b.start <= lonely[0] < b.stop)
    )


@pytest.mark.skipif(not (MITDB / "223.hea").is_file(), reason="MIT-BIH not found")
def test_ventricular_tachycardia_between_two_lead_off_gaps_stays_ventricular() -> None:
    """A review of the round: 50 s of MIT-BIH 223's VT (578.5-628.5 s, every beat V) between
    two 16.5-min gaps in a Holter of 100 and 103 read "ventricular bigeminy" and lost the VT,
    half the run called N against a dominant beat made of the run itself."""
    fs_hz = 360.0

    def part(record: str, start_s: float, end_s: float) -> np.ndarray:
        signal = wfdb.rdrecord(str(MITDB / record), sampfrom=round(start_s * fs_hz),
                               sampto=round(end_s * fs_hz)).p_signal  # fmt: skip
        return np.asarray(signal, dtype=float)

    gap = np.full((round(16.5 * 60 * fs_hz), 2), np.nan)
    run = part("223", 578.5, 628.5)
    signal = np.vstack([part("100", 0, 1805), gap, run, gap, part("103", 0, 600)])
    analysis = analyze(Recording(fs_hz, ("MLII", "V5"), signal))
    run_start_s = (1805 * fs_hz + gap.shape[0]) / fs_hz
    beat_s = analysis.beats.samples / fs_hz
    in_run = (beat_s > run_start_s + 1.0) & (beat_s < run_start_s + 49.0)
    classes = np.asarray(analysis.beats.classes)[in_run]
    classified = classes[classes != "Q"]  # beside the gaps' edges some are left unclassified
    assert classified.size > 40 and (classified == "V").mean() > 0.9, "".join(classes)
    assert any(f.code == "VT" for f in analysis.findings)
