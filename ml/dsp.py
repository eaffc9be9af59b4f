"""The few signal-processing routines the analysis needs, in NumPy, equal to SciPy's to rounding
(`tests/ml/test_dsp.py` compares each with SciPy on MIT-BIH records).

Why not SciPy itself: importing `scipy.signal` takes about 1 s (it imports scipy.stats,
interpolate and optimize), half the 2-s budget of a cold `cardio analyze` (issue 17), and
`scipy.ndimage` another 0.2 s. Once a process has imported it, though, SciPy's compiled loops
are faster (our zero-phase filter does about seven times the arithmetic of a recursion), so
`sosfiltfilt`, `resample_poly` and `find_peaks` hand over to SciPy in such a process, and the
analysis of a long recording imports it first (`use_compiled_routines`): a second against
minutes. The read is the same either way, to rounding.

- `butter_sos`: a Butterworth design (scipy.signal.butter(..., output="sos")).
- `sosfiltfilt`: zero-phase filtering (scipy.signal.sosfiltfilt). The recursion runs in blocks
  of `BLOCK` samples: inside a block the output is a matrix product with the filter's impulse
  response, and only the filter's state is carried from block to block (a scan in log2 steps),
  so the work is in BLAS, not in a Python loop over samples.
- `resample_poly`: polyphase resampling with SciPy's Kaiser-window filter.
- `find_peaks`: local maxima at least `distance` apart, tallest first (scipy.signal.find_peaks).
- `savgol_derivative`: Savitzky-Golay first derivative (scipy.signal.savgol_filter, deriv=1).
- `window_max_at`, `rank_filter`, `mean_filter`: sliding-window filters with SciPy.ndimage's
  footprints and edge modes (maximum_filter1d, percentile_filter/median_filter,
  uniform_filter1d).
- `median`, `percentile`: np.median and np.percentile (linear) of a short 1-D array, the same
  number without NumPy's per-call overhead (20-60 us; a 24-h recording's AF window features
  take 70,000 medians, its sinus cycle 17,000 percentiles).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BLOCK = 64  # samples per block of the recursion: long enough for BLAS, short for precision
SMALL_PRODUCT = 65_536  # multiply-adds: OpenBLAS threads a product from 4 x 65,536 up
CARRY_NEGLIGIBLE = 1e-18  # a state carried further is multiplied by less: below rounding


def median(values: np.ndarray) -> float:
    """np.median of a non-empty 1-D array of finite values: the middle value, or the mean of
    the two middle values computed as np.median does ((a + b) / 2), so the number is identical."""
    ordered = np.sort(values)
    middle = ordered.size // 2
    if ordered.size % 2:
        return float(ordered[middle])
    return float((ordered[middle - 1] + ordered[middle]) / 2)


def percentile(values: np.ndarray, q: float) -> float:
    """np.percentile(values, q) (linear interpolation) of a non-empty 1-D array of finite
    values, with NumPy's arithmetic (its virtual index and two-sided lerp), so identical."""
    virtual = (values.size - 1) * (q / 100)
    if virtual >= values.size - 1:
        return float(np.max(values))
    below = math.floor(virtual)
    ordered = np.partition(values, (below, below + 1))
    a, b = float(ordered[below]), float(ordered[below + 1])
    gamma = virtual - below
    return b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma


def use_compiled_routines() -> None:
    """Import SciPy's signal package, so the routines below hand over to its compiled loops:
    worth its second of import for a long recording (and for every process forked from this
    one, such as the chunks of a Holter)."""
    import scipy.signal  # noqa: F401


def _compiled() -> Any:
    """SciPy's signal package if this process has already imported it."""
    return sys.modules.get("scipy.signal")


# --- Butterworth design -------------------------------------------------------------------


def butter_sos(
    order: int, cutoff_hz: float | Sequence[float], btype: str, fs_hz: float
) -> np.ndarray:
    """Second-order sections of a digital Butterworth filter ("lowpass", "highpass" or
    "bandpass"): the analogue prototype, prewarped, frequency-transformed and mapped by the
    bilinear transform, as scipy.signal.butter does. Even orders (all poles complex)."""
    edges = 4.0 * np.tan(np.pi * np.atleast_1d(np.asarray(cutoff_hz, float)) / fs_hz)
    poles = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    zeros = np.zeros(0, complex)
    gain = 1.0
    if btype == "lowpass":
        poles, gain = poles * edges[0], gain * edges[0] ** order
    elif btype == "highpass":
        gain *= float(np.real(1.0 / np.prod(-poles)))
        zeros, poles = np.zeros(order, complex), edges[0] / poles
    elif btype == "bandpass":
        bandwidth, centre = edges[1] - edges[0], math.sqrt(edges[0] * edges[1])
        half = poles * bandwidth / 2
        root = np.sqrt(half**2 - centre**2)
        poles = np.concatenate((half + root, half - root))
        zeros, gain = np.zeros(order, complex), gain * bandwidth**order
    else:
        raise ValueError(f"unknown filter type {btype!r}")
    # Bilinear transform (sampling rate 2 after normalising, as SciPy does).
    gain *= float(np.real(np.prod(4.0 - zeros) / np.prod(4.0 - poles)))
    zeros = np.concatenate(((4.0 + zeros) / (4.0 - zeros), -np.ones(poles.size - zeros.size)))
    poles = (4.0 + poles) / (4.0 - poles)
    return _sections(zeros, poles, gain)


def _sections(zeros: np.ndarray, poles: np.ndarray, gain: float) -> np.ndarray:
    """Sections laid out as SciPy's zpk2sos ("nearest") lays out a Butterworth design: pole
    pairs (each with its conjugate) farthest from the unit circle first, each with the two
    zeros nearest it (chosen from the pair nearest the circle down), the gain in the first."""
    upper = poles[poles.imag > 0]
    if 2 * upper.size != poles.size:
        raise ValueError("only filters whose poles are all complex are supported")
    upper = upper[np.argsort(-np.abs(1.0 - np.abs(upper)), kind="stable")]
    left = np.asarray(zeros)
    sos = np.zeros((upper.size, 6))
    for i in reversed(range(upper.size)):
        nearest = np.argsort(np.abs(left - upper[i]), kind="stable")[:2]
        pair, left = left[nearest], np.delete(left, nearest)
        sos[i, :3] = [1.0, -np.real(pair[0] + pair[1]), np.real(pair[0] * pair[1])]
        sos[i, 3:] = [1.0, -2.0 * upper[i].real, abs(upper[i]) ** 2]
    sos[0, :3] *= gain
    return sos


# --- Zero-phase filtering -----------------------------------------------------------------


def sosfiltfilt(sos: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Forward-backward filtering with odd extension and steady-state initial conditions,
    as scipy.signal.sosfiltfilt (default padding): SciPy's if imported, else ours."""
    compiled = _compiled()
    if compiled is not None:
        return np.asarray(compiled.sosfiltfilt(sos, x, axis=axis))
    return numpy_sosfiltfilt(sos, x, axis)


def numpy_sosfiltfilt(sos: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
    """`sosfiltfilt` in NumPy: the recursion in blocks of BLOCK samples (module docstring)."""
    sos = np.asarray(sos, dtype=np.float64)
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    trivial = min(int(np.sum(sos[:, 2] == 0)), int(np.sum(sos[:, 5] == 0)))
    edge = 3 * (2 * len(sos) + 1 - trivial)
    if x.shape[-1] <= edge:
        raise ValueError(
            f"The length of the input vector x must be greater than padlen, which is {edge}."
        )
    operators = _block_operators(sos.tobytes(), len(sos))
    out = np.empty_like(x)
    for index in np.ndindex(x.shape[:-1]):
        lane = x[index]
        extended = np.concatenate(
            (2 * lane[0] - lane[edge:0:-1], lane, 2 * lane[-1] - lane[-2 : -edge - 2 : -1])
        )
        forward = operators.filter(extended, extended[0])
        backward = operators.filter(forward[::-1], forward[-1])[::-1]
        out[index] = backward[edge:-edge]
    return np.moveaxis(out, -1, axis)


class _BlockOperators:
    """The cascade as one state space (transposed direct form II, as SciPy's sosfilt), and
    what filtering a block of BLOCK samples does: `respond` maps the block's input and the
    state before it to its output (the impulse response and the state's free response),
    `collect` maps the block's input to the state after it, `carry` the state before it to
    the state after it; `steady` is the state a constant unit input settles to."""

    def __init__(self, sos: np.ndarray) -> None:
        n = 2 * len(sos)
        a = np.zeros((n, n))
        b = np.zeros(n)
        c_in, d_in = np.zeros(n), 1.0  # the current section's input: c_in . state + d_in u
        for i, (b0, b1, b2, a0, a1, a2) in enumerate(sos):
            b0, b1, b2, a1, a2 = b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0
            drive = np.array([b1 - a1 * b0, b2 - a2 * b0])
            a[2 * i : 2 * i + 2] += np.outer(drive, c_in)
            a[2 * i, 2 * i : 2 * i + 2] += [-a1, 1.0]
            a[2 * i + 1, 2 * i] += -a2
            b[2 * i : 2 * i + 2] = drive * d_in
            c_out = b0 * c_in
            c_out[2 * i] += 1.0
            c_in, d_in = c_out, b0 * d_in
        powers = [np.eye(n)]
        for _ in range(BLOCK):
            powers.append(a @ powers[-1])
        response = np.array([d_in] + [c_in @ powers[m - 1] @ b for m in range(1, BLOCK)])
        impulse = np.zeros((BLOCK, BLOCK))
        for j in range(BLOCK):
            impulse[j, j:] = response[: BLOCK - j]
        free = np.array([c_in @ powers[k] for k in range(BLOCK)]).T
        self.respond = np.vstack((impulse, free))
        self.collect = np.array([powers[BLOCK - 1 - j] @ b for j in range(BLOCK)])
        self.carry = powers[BLOCK].T
        self.steady = np.linalg.solve(np.eye(n) - a, b)

    def filter(self, x: np.ndarray, settled_at: float) -> np.ndarray:
        """`x` filtered from the steady state of a constant input `settled_at`."""
        n_blocks = -(-x.size // BLOCK)
        n = self.carry.shape[0]
        samples = np.zeros(n_blocks * BLOCK)
        samples[: x.size] = x
        inputs = np.empty((n_blocks, BLOCK + n))  # each block's samples, then its start state
        inputs[:, :BLOCK] = samples.reshape(n_blocks, BLOCK)
        state = _product(inputs[:, :BLOCK], self.collect)  # each block's end state, alone
        state[0] += (self.steady * settled_at) @ self.carry
        carry, shift = self.carry, 1
        # Scan: add what earlier blocks' states carry in, until it no longer reaches.
        while shift < n_blocks and np.abs(carry).max() > CARRY_NEGLIGIBLE:
            state[shift:] += _small_product(state[:-shift], carry)
            carry, shift = carry @ carry, 2 * shift
        inputs[0, BLOCK:] = self.steady * settled_at
        inputs[1:, BLOCK:] = state[:-1]
        return _product(inputs, self.respond).ravel()[: x.size]


def _small_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for a few columns of `a` (the state): elementwise, faster than BLAS there."""
    out = a[:, :1] * b[0]
    for k in range(1, b.shape[0]):
        out += a[:, k : k + 1] * b[k]
    return out


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b as a stack of products of at most SMALL_PRODUCT multiply-adds, which OpenBLAS
    runs on the calling thread: its threads spin between calls, and with two chunk processes
    and the classifier's threads on two cores that doubled the CPU time of a 24-h analysis."""
    rows = max(1, SMALL_PRODUCT // (a.shape[1] * b.shape[1]))
    whole = a.shape[0] - a.shape[0] % rows
    if whole == 0:
        return a @ b
    stacked = a[:whole].reshape(-1, rows, a.shape[1]) @ b
    return np.concatenate((stacked.reshape(whole, b.shape[1]), a[whole:] @ b))


@lru_cache(maxsize=64)
def _block_operators(sos_bytes: bytes, n_sections: int) -> _BlockOperators:
    return _BlockOperators(np.frombuffer(sos_bytes).reshape(n_sections, 6))


# --- Resampling ---------------------------------------------------------------------------


def resample_poly(x: np.ndarray, up: int, down: int, axis: int = 0) -> np.ndarray:
    """Upsample by `up`, low-pass (Kaiser window, beta 5, 10 zero crossings each side) and
    keep every `down`-th sample, as scipy.signal.resample_poly with its defaults: SciPy's if
    imported, else ours."""
    compiled = _compiled()
    if compiled is not None:
        return np.asarray(compiled.resample_poly(x, up, down, axis=axis))
    return numpy_resample_poly(x, up, down, axis)


def numpy_resample_poly(x: np.ndarray, up: int, down: int, axis: int = 0) -> np.ndarray:
    """`resample_poly` in NumPy, polyphase."""
    common = math.gcd(up, down)
    up, down = up // common, down // common
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    if up == down == 1:
        return np.moveaxis(x.copy(), 0, axis)
    n_in = x.shape[0]
    n_out = -(-n_in * up // down)
    rate = max(up, down)
    half = 10 * rate
    taps = np.arange(2 * half + 1) - half
    h = np.sinc(taps / rate) / rate * np.kaiser(2 * half + 1, 5.0)
    h = h / h.sum() * up
    pre = down - half % down
    first = (half + pre) // down
    h = np.concatenate((np.zeros(pre), h))
    # Output k is upfirdn's sample (first + k) * down: the sum over j of h[p + up * j] *
    # x[q - j], with q, p = divmod((first + k) * down, up). Outputs k, k + up, k + 2 up, ...
    # share p and step q by `down`: one strided matrix product per residue k < up.
    n_taps = -(-h.size // up)
    phases = np.zeros((up, n_taps))
    for phase in range(up):
        phases[phase, : h[phase::up].size] = h[phase::up]
    padding = np.zeros((n_taps, *x.shape[1:]))
    padded = np.concatenate((padding[1:], x, padding))  # x[i] at i + n_taps - 1
    windows = sliding_window_view(padded, n_taps, axis=0)  # window q ends at x[q]
    out = np.empty((n_out, *x.shape[1:]))
    for k in range(min(up, n_out)):
        q, p = divmod((first + k) * down, up)
        count = len(range(k, n_out, up))
        out[k::up] = windows[q : q + down * count : down] @ phases[p, ::-1]
    return np.moveaxis(out, 0, axis)


# --- Peaks and derivatives -----------------------------------------------------------------


def find_peaks(x: np.ndarray, distance: float = 1) -> np.ndarray:
    """Indices of local maxima (the middle of a flat top; not at either end), keeping the
    tallest and dropping any closer than `distance` samples to one kept before it, as
    scipy.signal.find_peaks(x, distance=...): SciPy's if imported, else ours."""
    compiled = _compiled()
    if compiled is not None:
        return np.asarray(compiled.find_peaks(x, distance=distance)[0])
    return numpy_find_peaks(x, distance)


def numpy_find_peaks(x: np.ndarray, distance: float = 1) -> np.ndarray:
    """`find_peaks` in NumPy (the spacing rule in a loop over the candidates)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 3:
        return np.zeros(0, np.intp)
    steps = np.diff(x)
    if steps.all():  # no flat tops: the usual case for a filtered signal
        peaks = np.flatnonzero((steps[:-1] > 0) & (steps[1:] < 0)) + 1
    else:  # runs of equal values; a top is a run higher than both its neighbours
        changes = np.flatnonzero(steps != 0)
        starts, ends = np.r_[0, changes + 1], np.r_[changes, x.size - 1]
        inner = (starts >= 1) & (ends <= x.size - 2)
        starts, ends = starts[inner], ends[inner]
        top = (x[starts - 1] < x[starts]) & (x[ends + 1] < x[ends])
        peaks = (starts[top] + ends[top]) // 2
    spacing = math.ceil(distance)
    if peaks.size < 2 or spacing <= 1:
        return peaks
    keep = bytearray(b"\x01") * peaks.size
    first = np.searchsorted(peaks, peaks - spacing, side="right").tolist()
    last = np.searchsorted(peaks, peaks + spacing, side="left").tolist()
    for j in np.argsort(x[peaks])[::-1].tolist():
        if keep[j]:
            keep[first[j] : j] = bytes(j - first[j])
            keep[j + 1 : last[j]] = bytes(last[j] - j - 1)
    return peaks[np.frombuffer(keep, dtype=np.uint8).astype(bool)]


def savgol_derivative(x: np.ndarray, window: int, polyorder: int) -> np.ndarray:
    """First derivative (per sample) by Savitzky-Golay least squares over an odd `window`,
    the edges from a polynomial fitted to the first and last window, as
    scipy.signal.savgol_filter(x, window, polyorder, deriv=1)."""
    x = np.asarray(x, dtype=np.float64)
    half = window // 2
    positions = np.arange(-half, window - half, dtype=np.float64)
    design = positions[None, :] ** np.arange(polyorder + 1)[:, None]
    target = np.zeros(polyorder + 1)
    target[1] = 1.0
    coefficients = np.linalg.lstsq(design, target, rcond=None)[0]
    out = np.convolve(x, coefficients[::-1], mode="same")
    for start, where in ((0, np.arange(half)), (x.size - window, np.arange(window - half, window))):
        fit = np.polyder(np.polyfit(np.arange(window), x[start : start + window], polyorder))
        out[start + where] = np.polyval(fit, where)
    return out


# --- Sliding-window filters (ndimage footprints: size s covers i - s//2 .. i + (s-1)//2) --


def window_max_at(x: np.ndarray, size: int, at: np.ndarray) -> np.ndarray:
    """The maximum of `x` over the `size` samples around each index in `at`, the ends mirrored
    (scipy.ndimage.maximum_filter1d(x, size)[at], mode "reflect")."""
    left = size // 2
    padded = np.pad(np.asarray(x, dtype=np.float64), (left, size - 1 - left), mode="symmetric")
    return sliding_window_view(padded, size)[np.asarray(at, dtype=np.intp)].max(axis=1)


def rank_filter(x: np.ndarray, size: int, percentile: float | None = None) -> np.ndarray:
    """The `percentile` (the median when None) of the `size` values around each one, the ends
    extended with the end values; the element of rank int(size * percentile / 100), not an
    interpolation (scipy.ndimage.percentile_filter / median_filter, mode "nearest")."""
    if percentile is None:
        rank = size // 2
    else:
        rank = size - 1 if percentile == 100 else int(float(size) * percentile / 100.0)
    windows = _windows_nearest(x, size)
    return np.partition(windows, rank, axis=1)[:, rank]


def mean_filter(x: np.ndarray, size: int) -> np.ndarray:
    """The mean of the `size` values around each one, the ends extended with the end values
    (scipy.ndimage.uniform_filter1d, mode "nearest")."""
    return _windows_nearest(x, size).mean(axis=1)


def _windows_nearest(x: np.ndarray, size: int) -> np.ndarray:
    left = size // 2
    padded = np.pad(np.asarray(x, dtype=np.float64), (left, size - 1 - left), mode="edge")
    return sliding_window_view(padded, size)
