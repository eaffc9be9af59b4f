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
from ml.features import STRETCH_BLOCK_S, STRETCH_WINDOW_S, beat_stretches
from ml.recording import Recording
from ml.research.databases import default_data_dir

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
