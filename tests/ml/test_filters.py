"""`ml.filters.each_band_once`: inside an analysis each lead is band-passed once per band, and
what is reused is exactly what filtering again would give."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import ml.filters
from ml.analysis import analyze, default_classifier
from ml.filters import bandpass_mv, each_band_once
from ml.io import read_recording
from ml.research.databases import data_root
from ml.research.synthetic import synthetic_recording

MITDB = data_root() / "mitdb"


def test_a_lead_filtered_again_in_a_band_comes_back_read_only_and_equal() -> None:
    signal_mv = synthetic_recording(duration_s=20.0, fs_hz=360.0)[0].signal_mv
    fresh = bandpass_mv(signal_mv[:, 1], 360.0)
    with each_band_once(signal_mv):
        first = bandpass_mv(signal_mv[:, 1], 360.0)
        assert bandpass_mv(signal_mv[:, 1], 360.0) is first  # a new view of the same lead
        assert not first.flags.writeable  # shared: no reader may change it
        with pytest.raises(ValueError):
            first[0] = 1.0
        np.testing.assert_array_equal(first, fresh)
        assert bandpass_mv(signal_mv[:, 1], 360.0, (0.5, 15.0)) is not first  # another band
        assert bandpass_mv(signal_mv[:, 2], 360.0) is not first  # another lead
        # An array computed from the samples is not the samples: never kept.
        derived = signal_mv[:, 1] - 0.1
        assert bandpass_mv(derived, 360.0) is not bandpass_mv(derived, 360.0)
        assert bandpass_mv(derived, 360.0).flags.writeable
    outside = bandpass_mv(signal_mv[:, 1], 360.0)
    assert outside is not first and outside.flags.writeable


def test_results_beyond_the_budget_are_not_kept() -> None:
    signal_mv = synthetic_recording(duration_s=20.0, fs_hz=360.0)[0].signal_mv
    with each_band_once(signal_mv, budget_bytes=signal_mv[:, 0].nbytes):
        kept = bandpass_mv(signal_mv[:, 0], 360.0)
        assert bandpass_mv(signal_mv[:, 0], 360.0) is kept
        over = bandpass_mv(signal_mv[:, 1], 360.0)  # no room left
        assert over.flags.writeable and bandpass_mv(signal_mv[:, 1], 360.0) is not over


@pytest.mark.skipif(not (MITDB / "100.hea").exists(), reason="needs MIT-BIH")
def test_an_analysis_band_passes_no_lead_twice_in_one_band(monkeypatch) -> None:
    """Record 100 read whole: every band-pass of the analysis has a different input or band
    (before, the 0.5-40 Hz band of MLII was computed four times and its P-wave band twice)."""
    filtered: list[tuple[str, bytes]] = []
    plain = ml.filters.sosfiltfilt

    def recorded(sos: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
        digest = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest()
        filtered.append((digest, sos.tobytes()))
        return plain(sos, x, axis=axis)

    monkeypatch.setattr(ml.filters, "sosfiltfilt", recorded)
    recording = read_recording(MITDB / "100.hea")
    analyze(recording, default_classifier())
    assert len(filtered) >= 8  # the analysis does filter: this counts its band-passes
    assert len(set(filtered)) == len(filtered)
