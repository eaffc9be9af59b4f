"""The one recording type every reader returns and every analysis step takes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np

from ml.errors import DurationError, SamplingRateError, UnusableSignalError

MIN_FS_HZ, MAX_FS_HZ = 50.0, 2000.0
MIN_DURATION_S, MAX_DURATION_S = 10.0, 48 * 3600.0
FLAT_STD_MV = 0.005  # below this a lead carries no ECG (an electrode off or a dead channel)
CLIPPED_FRACTION = 0.2  # this share of samples pinned at the extremes: the amplifier saturated
STANDARD_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


@dataclass(frozen=True)
class Recording:
    """An ECG: `signal_mv[n_samples, n_leads]` in millivolts at `fs_hz`."""

    fs_hz: float
    lead_names: tuple[str, ...]
    signal_mv: np.ndarray
    source_format: str = "array"
    source_name: str | None = None
    start_time: dt.datetime | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def n_samples(self) -> int:
        return int(self.signal_mv.shape[0])

    @property
    def n_leads(self) -> int:
        return int(self.signal_mv.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    def lead(self, name: str) -> np.ndarray:
        return self.signal_mv[:, self.lead_names.index(name)]


def canonical_lead_name(name: str) -> str:
    """'ML II', 'lead ii', 'ECG II', 'MLII' -> 'II'; 'avf' -> 'aVF'; unknown names unchanged."""
    cleaned = re.sub(r"^(ecg|lead|ml)\s*", "", name.strip(), flags=re.IGNORECASE).strip()
    cleaned = cleaned.replace(" ", "")
    for standard in STANDARD_LEADS:
        if cleaned.lower() == standard.lower():
            return standard
    return name.strip()


def validated(recording: Recording) -> Recording:
    """The recording, if an analysis of it can be trusted; otherwise a RecordingError."""
    if not MIN_FS_HZ <= recording.fs_hz <= MAX_FS_HZ:
        raise SamplingRateError(
            f"The sampling rate is {recording.fs_hz:g} Hz; the analysis needs "
            f"{MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz."
        )
    if recording.signal_mv.ndim != 2 or recording.n_leads == 0:
        raise UnusableSignalError("The recording holds no ECG lead.")
    if recording.duration_s < MIN_DURATION_S:
        raise DurationError(
            f"The recording lasts {recording.duration_s:.1f} s; at least "
            f"{MIN_DURATION_S:g} s are needed."
        )
    if recording.duration_s > MAX_DURATION_S:
        raise DurationError(
            f"The recording lasts {recording.duration_s / 3600:.1f} hours; at most "
            f"{MAX_DURATION_S / 3600:g} hours can be analysed."
        )
    signal = recording.signal_mv
    nan_counts = np.isnan(signal).sum(axis=0)
    if nan_counts.any():
        lead = recording.lead_names[int(np.argmax(nan_counts))]
        first = int(np.argmax(np.isnan(signal).any(axis=1)))
        raise UnusableSignalError(
            f"Lead {lead} has {int(nan_counts.max())} missing samples (gaps), the first at "
            f"{first / recording.fs_hz:.1f} s. Export the recording without gaps."
        )
    usable = [i for i in range(recording.n_leads) if _lead_problem(signal[:, i]) is None]
    if not usable:
        problems = {_lead_problem(signal[:, i]) for i in range(recording.n_leads)}
        raise UnusableSignalError(
            "No lead carries a usable ECG: " + "; ".join(sorted(p for p in problems if p)) + "."
        )
    return recording


def _lead_problem(lead_mv: np.ndarray) -> str | None:
    if float(np.std(lead_mv)) < FLAT_STD_MV:
        return "the signal is a flat line (electrode off or channel dead)"
    low, high = float(lead_mv.min()), float(lead_mv.max())
    pinned = np.mean((lead_mv <= low) | (lead_mv >= high))
    if pinned > CLIPPED_FRACTION:
        return f"{pinned:.0%} of the samples are clipped at the amplifier's limits"
    return None


def usable_leads(recording: Recording) -> list[int]:
    return [i for i in range(recording.n_leads) if _lead_problem(recording.signal_mv[:, i]) is None]
