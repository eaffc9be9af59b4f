"""A broad S wave's flat bottom is inside the QRS (`ml.intervals._qrs_end`). An
electrophysiologist's audit: MIT-BIH 118's right bundle branch block read a "high-confidence"
QRS of 83 ms and an ST level of -1.2 mV in II, the bottom of its S wave; the same beats
aligned one sample later read 136 ms."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml.analysis import analyze
from ml.intervals import DEFAULT_SETTINGS, _qrs_limits
from ml.recording import Recording
from ml.research.databases import default_data_dir

MITDB = default_data_dir()
FS_HZ = 250.0


def _rbbb_like_beat(s_bottom_ms: float) -> np.ndarray:
    """A QRS with an R wave, then an S wave that stays at its bottom for `s_bottom_ms` before
    rising back to the baseline (one lead, 0 at the R peak's sample 150)."""
    t_ms = (np.arange(400) - 150) * 1000 / FS_HZ
    beat = 1.4 * np.exp(-((t_ms / 12) ** 2))  # R
    fall = 0.5 * (1 + np.tanh((t_ms - 25) / 5))  # down into the S wave
    rise = 0.5 * (1 + np.tanh((t_ms - 30 - s_bottom_ms) / 5))  # back up: the end of the QRS
    beat = beat - 1.2 * (fall - rise)
    return beat[:, None]


@pytest.mark.parametrize("s_bottom_ms", [50.0, 60.0, 70.0])
def test_the_qrs_ends_after_the_upstroke_out_of_a_flat_s_wave(s_bottom_ms: float) -> None:
    onset, offset = _qrs_limits(_rbbb_like_beat(s_bottom_ms), FS_HZ, 150, DEFAULT_SETTINGS)
    assert offset.sample is not None and offset.confident
    end_ms = (offset.sample - 150) * 1000 / FS_HZ
    upstroke_ms = 30 + s_bottom_ms
    assert upstroke_ms <= end_ms <= upstroke_ms + 30, (end_ms, upstroke_ms)


@pytest.mark.skipif(not (MITDB / "118.hea").is_file(), reason="MIT-BIH not found")
def test_right_bundle_branch_block_reads_a_wide_qrs() -> None:
    record = wfdb.rdrecord(str(MITDB / "118"))  # 30 min: its first 5 read 136 ms before
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    qrs_ms = analysis.intervals.qrs_ms
    assert qrs_ms is not None and 120 <= qrs_ms <= 160, qrs_ms
    assert "WIDE_QRS" in {f.code for f in analysis.findings}
    st_mv = analysis.intervals.st_mv
    assert st_mv is not None and abs(st_mv["II"]) < 0.3, st_mv  # not the S wave's bottom
