"""A dropped beat doubles the cycle the premature beats' short couplings do not set: MIT-BIH
201's atrial premature beats, called N, set the rhythm around them at about 0.5 s, and the
1.0-s return cycle after two of them (1554.52-1555.53 s: N, A, A, N) read "Dropped beat
(possible second-degree AV block)", nothing blocked (a Holter audit)."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import default_data_dir

MITDB = default_data_dir()


def _dropped(rr_s: list[float]) -> list[tuple[float, float]]:
    beat_s = np.concatenate([[0.0], np.cumsum(rr_s)])
    classes = np.array(["N"] * len(beat_s))  # premature beats the classifier called N
    episodes = rhythm.detect_rhythms(beat_s, classes, float(beat_s[-1] + 1))
    return [(e.start_s, e.end_s) for e in episodes if e.label == rhythm.DROPPED]


def test_a_return_cycle_among_atrial_couplets_is_no_dropped_beat() -> None:
    """Sinus at 1.05 s with pairs of premature beats (0.5, 0.37, then a 1.05-s return)."""
    rr_s = [1.05, 1.05] + [0.5, 0.37, 1.05] * 6 + [1.05, 1.05]
    assert _dropped(rr_s) == []


def test_a_doubled_sinus_cycle_is_still_a_dropped_beat() -> None:
    rr_s = [0.8] * 10 + [1.6] + [0.8] * 10
    assert len(_dropped(rr_s)) == 1
    rr_s = [0.8, 0.8, 0.5, 1.1] * 3 + [0.8, 1.6, 0.8, 0.8] + [0.8, 0.8, 0.5, 1.1] * 3
    assert len(_dropped(rr_s)) == 1  # among a premature beat every fourth


@pytest.mark.skipif(not (MITDB / "201.hea").is_file(), reason="mitdb not found")
def test_mitdb_201s_return_cycle_is_no_dropped_beat() -> None:
    whole = read_recording(MITDB / "201.hea")
    fs_hz = whole.fs_hz
    cut = whole.signal_mv[int(1500 * fs_hz) : int(1600 * fs_hz)]
    read = analyze(Recording(fs_hz, whole.lead_names, cut))
    dropped = [e for e in read.episodes if e.label == rhythm.DROPPED]
    assert not [e for e in dropped if 53.0 < e.start_s < 56.0], dropped  # 1554.52 s
    assert not [e for e in dropped if 45.0 < e.start_s < 47.0], dropped  # sinus 1.95 s
