"""The two-lead check of a long recording judges each beat against the levels of its own
stretch (`ml.stretches.local_median`), not the whole recording's. A Holter audit: MIT-BIH 232,
201, 207, 203, 119 and 208 end to end (3 h) lost two clean normal QRS complexes of 208's part,
which the check judged small beside the other parts' larger echoes, and read a high-risk
"Second-degree AV block, Mobitz II" that 208 read alone does not have."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml.analysis import analyze
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.stretches import beat_stretches, local_median

MITDB = default_data_dir()
PARTS = ("232", "201", "207", "203", "119", "208")


def test_up_to_31_minutes_the_median_is_the_whole_recordings() -> None:
    t_s = np.arange(0.0, 1800.0, 0.8)
    values = np.random.default_rng(0).normal(size=t_s.size)
    assert np.array_equal(local_median(values, t_s, t_s), np.full(t_s.size, np.median(values)))
    assert np.isnan(local_median(np.zeros(0), np.zeros(0), np.array([1.0]))).all()


def test_a_long_recording_takes_the_median_of_each_beats_own_stretch() -> None:
    t_s = np.arange(0.0, 7200.0, 1.0)
    values = np.where(t_s < 3600.0, 1.0, 5.0)  # a part with five times the level
    at = local_median(values, t_s, t_s)
    assert (at[t_s < 3000.0] == 1.0).all() and (at[t_s >= 4200.0] == 5.0).all()
    blocks = local_median(values, t_s, t_s, block_only=True)
    assert (blocks[t_s < 3600.0] == 1.0).all() and (blocks[t_s >= 3600.0] == 5.0).all()
    assert len(beat_stretches(t_s)) == 24


@pytest.mark.skipif(
    not all((MITDB / f"{r}.hea").is_file() for r in PARTS), reason="MIT-BIH not found"
)
def test_a_three_hour_holter_keeps_the_beats_of_its_part_that_read_alone_keeps() -> None:
    parts = [np.asarray(wfdb.rdrecord(str(MITDB / r)).p_signal, dtype=float) for r in PARTS]
    fs_hz = 360.0
    analysis = analyze(Recording(fs_hz, ("MLII", "V1"), np.vstack(parts)))
    start_208_s = sum(p.shape[0] for p in parts[:-1]) / fs_hz
    beat_s = analysis.beats.samples / fs_hz - start_208_s
    # 208 at 881.4 s: a tall, narrow normal beat (reference N), which 208 read alone keeps.
    assert np.any(np.abs(beat_s - 881.43) < 0.05)
    assert all(f.code != "AV_BLOCK_2" for f in analysis.findings)
