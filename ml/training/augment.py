"""Training-time augmentation: gain changes, baseline wander and real electrode/muscle noise.

The noise comes from the Noise Stress Test Database's pure-noise recordings (`bw`, `em`, `ma`),
added at a chosen signal-to-noise ratio defined as nstdb defines it: signal power is the
squared peak-to-peak QRS amplitude over 8, noise power the noise's mean square. It is only
ever added to *training* records, never to a record that is then reported as a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.filters import resample

GAIN_RANGE = (0.5, 2.0)  # electrode placement and amplifier gain vary about 2x either way
WANDER_SNR_DB = (0.0, 12.0)  # baseline wander is large but slow (the band-pass removes most)
MOTION_SNR_DB = (6.0, 24.0)  # electrode motion or muscle noise: from light to heavy
QRS_HALF_WIDTH_S = 0.05


@dataclass(frozen=True)
class NoiseBank:
    """The three nstdb noise recordings, two channels each, at `fs_hz`."""

    fs_hz: float
    wander_mv: np.ndarray  # [n, 2]
    motion_mv: np.ndarray  # [n, 2] electrode motion
    muscle_mv: np.ndarray  # [n, 2]

    @classmethod
    def load(cls, nstdb_dir: Path | str) -> NoiseBank:
        import wfdb

        signals = [
            np.nan_to_num(wfdb.rdrecord(str(Path(nstdb_dir) / name)).p_signal)
            for name in ("bw", "em", "ma")
        ]
        fs = float(wfdb.rdheader(str(Path(nstdb_dir) / "bw")).fs)
        return cls(fs, *signals)

    def at_rate(self, fs_hz: float) -> NoiseBank:
        if abs(fs_hz - self.fs_hz) < 1e-9:
            return self
        return NoiseBank(
            fs_hz,
            *(
                resample(x, self.fs_hz, fs_hz)
                for x in (self.wander_mv, self.motion_mv, self.muscle_mv)
            ),
        )


def qrs_signal_power(signal_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray) -> float:
    """nstdb's signal power: (median peak-to-peak amplitude around the R peaks) ** 2 / 8."""
    half = max(int(QRS_HALF_WIDTH_S * fs_hz), 1)
    peaks = np.clip(np.asarray(r_peaks, dtype=np.int64), half, max(signal_mv.size - half - 1, half))
    rows = signal_mv[peaks[:, None] + np.arange(-half, half + 1)[None, :]]
    peak_to_peak = float(np.median(rows.max(axis=1) - rows.min(axis=1))) if len(rows) else 1.0
    return peak_to_peak**2 / 8.0


def scaled_noise(
    noise_mv: np.ndarray, n_samples: int, power: float, snr_db: float, rng: np.random.Generator
) -> np.ndarray:
    """A stretch of `noise_mv` (random channel and start, wrapping) scaled to `snr_db`."""
    channel = noise_mv[:, rng.integers(noise_mv.shape[1])]
    start = int(rng.integers(channel.size))
    piece = np.take(channel, np.arange(start, start + n_samples), mode="wrap")
    piece = piece - piece.mean()
    mean_square = max(float(np.mean(piece**2)), 1e-12)
    return piece * np.sqrt(power / 10 ** (snr_db / 10) / mean_square)


def augmented_mv(
    signal_mv: np.ndarray,
    fs_hz: float,
    r_peaks: np.ndarray,
    noise: NoiseBank,
    rng: np.random.Generator,
) -> np.ndarray:
    """One augmented copy of a single lead: random gain, baseline wander, then electrode-motion
    or muscle noise, each at a random SNR from the ranges above."""
    bank = noise.at_rate(fs_hz)
    gain = float(np.exp(rng.uniform(np.log(GAIN_RANGE[0]), np.log(GAIN_RANGE[1]))))
    x = np.nan_to_num(np.asarray(signal_mv, dtype=np.float64)) * gain
    power = qrs_signal_power(x, fs_hz, r_peaks)
    x = x + scaled_noise(bank.wander_mv, x.size, power, rng.uniform(*WANDER_SNR_DB), rng)
    artefact = bank.motion_mv if rng.random() < 0.5 else bank.muscle_mv
    return x + scaled_noise(artefact, x.size, power, rng.uniform(*MOTION_SNR_DB), rng)
