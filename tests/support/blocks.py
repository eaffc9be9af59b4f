"""A synthetic AV block's one-lead signal as a recording of one or two leads."""

from __future__ import annotations

import numpy as np

from ml.recording import Recording, validated


def block_recording(signal_mv: np.ndarray, fs_hz: float, leads: int = 1) -> Recording:
    """`signal_mv` as lead II, and with `leads=2` also as V1 (inverted, 0.6 times as tall)."""
    names = ("II", "V1")[:leads]
    columns = [signal_mv, -0.6 * signal_mv][:leads]
    return validated(Recording(fs_hz, names, np.column_stack(columns)))
