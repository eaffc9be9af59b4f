"""`ml.dsp` against SciPy, which it replaces in the analysis (SciPy's signal package costs a
second to import). Each NumPy routine on MIT-BIH signals and on edge cases: equal to rounding.
(This module imports SciPy, so in this process `ml.dsp` itself hands over to SciPy; the NumPy
routines are called by name, and the last test reads a record in a fresh process.)"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal

from ml import dsp
from ml.io import read_recording
from ml.research.databases import data_root

MITDB = data_root() / "mitdb"

pytestmark = pytest.mark.skipif(not (MITDB / "100.hea").exists(), reason="needs MIT-BIH")


@pytest.fixture(scope="module")
def lead_mv() -> np.ndarray:
    recording = read_recording(MITDB / "208.hea")
    return recording.signal_mv[: 360 * 300, 0]  # 5 min of MLII: PVCs, noise, baseline


@pytest.mark.parametrize(
    ("cutoff_hz", "btype", "fs_hz"),
    [
        ((0.5, 40.0), "bandpass", 360.0),
        ((5.0, 15.0), "bandpass", 128.0),
        ((0.5, 15.0), "bandpass", 1000.0),
        (40.0, "highpass", 360.0),
        (0.5, "highpass", 250.0),
        (40.0, "lowpass", 360.0),
    ],
)
def test_butterworth_filtering_equals_scipy(
    lead_mv: np.ndarray, cutoff_hz: float | tuple[float, float], btype: str, fs_hz: float
) -> None:
    ours = dsp.butter_sos(2, cutoff_hz, btype, fs_hz)
    theirs = signal.butter(2, cutoff_hz, btype=btype, fs=fs_hz, output="sos")
    _, response_ours = signal.sosfreqz(ours, worN=512, fs=fs_hz)
    _, response_theirs = signal.sosfreqz(theirs, worN=512, fs=fs_hz)
    assert np.allclose(ours, theirs, rtol=1e-12, atol=0)  # SciPy's layout, to rounding
    assert np.allclose(response_ours, response_theirs, rtol=0, atol=1e-9)
    expected = signal.sosfiltfilt(theirs, lead_mv)
    scale = np.abs(expected).max()
    assert np.abs(dsp.numpy_sosfiltfilt(ours, lead_mv) - expected).max() < 1e-9 * scale
    assert np.abs(dsp.numpy_sosfiltfilt(theirs, lead_mv) - expected).max() < 1e-9 * scale


def test_filtering_along_an_axis_short_signals_and_too_short_ones() -> None:
    sos = signal.butter(2, (0.5, 40.0), btype="bandpass", fs=360.0, output="sos")
    x = np.random.default_rng(0).standard_normal((500, 3)).cumsum(axis=0)
    assert np.allclose(dsp.numpy_sosfiltfilt(sos, x, axis=0), signal.sosfiltfilt(sos, x, axis=0))
    short = x[:16, 0]  # one block, just over the padding
    assert np.allclose(dsp.numpy_sosfiltfilt(sos, short), signal.sosfiltfilt(sos, short))
    with pytest.raises(ValueError, match="padlen"):
        dsp.numpy_sosfiltfilt(sos, x[:15, 0])  # SciPy's padding for two sections is 15


@pytest.mark.parametrize(("up", "down"), [(45, 16), (18, 25), (36, 25), (3, 1), (1, 2)])
def test_resampling_equals_scipy(lead_mv: np.ndarray, up: int, down: int) -> None:
    expected = signal.resample_poly(lead_mv, up, down)
    ours = dsp.numpy_resample_poly(lead_mv, up, down)
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() < 1e-9
    two_leads = np.column_stack([lead_mv[:4000], -lead_mv[:4000]])
    assert np.allclose(
        dsp.numpy_resample_poly(two_leads, up, down, axis=0),
        signal.resample_poly(two_leads, up, down, axis=0),
        atol=1e-12,
    )


def test_peaks_equal_scipy_with_plateaus_ends_and_spacing(lead_mv: np.ndarray) -> None:
    envelope = np.abs(np.diff(lead_mv))
    for distance in (1, 72, 90.5):
        expected, _ = signal.find_peaks(envelope, distance=distance)
        assert np.array_equal(dsp.numpy_find_peaks(envelope, distance), expected)
    plateaus = np.array([3.0, 1, 2, 2, 2, 1, 5, 5, 0, 4, 4, 4, 4, 1, 2, 3, 3])
    for distance in (1, 3, 6):
        expected, _ = signal.find_peaks(plateaus, distance=distance)
        assert np.array_equal(dsp.numpy_find_peaks(plateaus, distance), expected)
    assert dsp.numpy_find_peaks(np.ones(10), 3).size == 0


def test_savitzky_golay_derivative_equals_scipy(lead_mv: np.ndarray) -> None:
    for window, trace in ((5, lead_mv[:400]), (11, lead_mv[1000:1600]), (17, lead_mv[:17])):
        expected = signal.savgol_filter(trace, window, polyorder=2, deriv=1)
        assert np.allclose(dsp.savgol_derivative(trace, window, 2), expected, atol=1e-12)


def test_window_filters_equal_ndimage(lead_mv: np.ndarray) -> None:
    x = lead_mv[:5000]
    at = np.array([0, 1, 17, 2500, 4998, 4999])
    for size in (1, 5, 37, 101):
        assert np.array_equal(dsp.window_max_at(x, size, at), ndimage.maximum_filter1d(x, size)[at])
    rr = np.abs(np.diff(x[::90]))
    for size in (1, 4, 21, 80):
        assert np.array_equal(
            dsp.rank_filter(rr, size, 40.0),
            ndimage.percentile_filter(rr, 40.0, size=size, mode="nearest"),
        )
        assert np.array_equal(
            dsp.rank_filter(rr, size), ndimage.median_filter(rr, size=size, mode="nearest")
        )
        assert np.allclose(
            dsp.mean_filter(rr, size),
            ndimage.uniform_filter1d(rr, size, mode="nearest"),
            atol=1e-12,
        )


def test_median_and_percentile_are_numpys_to_the_last_bit(lead_mv: np.ndarray) -> None:
    rng = np.random.default_rng(7)
    for size in (1, 2, 3, 4, 7, 40, 41, 1000):
        for values in (rng.normal(0.8, 0.2, size), lead_mv[:size], np.full(size, 0.1)):
            assert dsp.median(values) == np.median(values)
            for q in (0.0, 10.0, 50.0, 80.0, 97.5, 100.0):
                assert dsp.percentile(values, q) == np.percentile(values, q)


def test_the_analysis_imports_no_scipy_and_reads_as_it_did_with_scipy(tmp_path) -> None:
    """A fresh process analyses a 128-Hz svdb record (resampled to the model's rate) without
    importing SciPy; its whole read equals the read made here, with SciPy's routines."""
    import json
    import subprocess
    import sys

    from ml.analysis import analyze, default_classifier

    record = data_root() / "svdb" / "841.hea"
    if not record.exists():
        pytest.skip("needs svdb")
    code = (
        "import json, sys; from ml.analysis import analyze; from ml.io import read_recording; "
        "read = analyze(read_recording(sys.argv[1])).to_dict(); "
        "json.dump([read, sorted(m for m in sys.modules if m.startswith('scipy'))], sys.stdout)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(record)], capture_output=True, text=True, check=True
    )
    read, scipy_modules = json.loads(out.stdout)
    assert scipy_modules == []

    assert "scipy.signal" in sys.modules  # here ml.dsp hands over to SciPy
    with_scipy = analyze(read_recording(record), default_classifier()).to_dict()
    assert json.loads(json.dumps(with_scipy)) == read


def test_a_worker_warms_up_with_scipys_filters_and_a_one_off_read_does_not() -> None:
    """`ml.analysis.warm_up` (the portal's job worker calls it before its first job) imports
    SciPy's signal package, so every read after uses its compiled filters; importing the
    engine alone, as `cardio analyze` does, leaves SciPy out."""
    import subprocess
    import sys

    code = (
        "import sys; from ml import analysis; before = 'scipy.signal' in sys.modules; "
        "analysis.warm_up(); print(before, 'scipy.signal' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
