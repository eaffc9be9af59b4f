"""The stretches of a long recording: what each beat is compared with. Up to 31 min (every
training and test record: MIT-BIH's 30 min 6 s) the whole recording; longer, the 31 min
centred on the beat's 5-min block, so a Holter whose QRS, gain or electrodes change partway
is judged against its own stretch, not against hours of another one (`beat_stretches`,
`local_median`)."""

from __future__ import annotations

import numpy as np

# A long recording's beats are compared with the dominant beat and QRS amplitude of the 31 min
# centred on their 5-min block, not of the whole recording: where the QRS changes partway
# (electrodes re-applied, an intermittent bundle-branch block) the beats unlike the whole
# recording's dominant beat were called V (MIT-BIH 119 then itself inverted: 962 V calls in its
# upright half for 444 PVCs). Longer than any training record (MIT-BIH: 30 min 6 s), so
# theirs, and any recording up to 31 min, keep their one dominant beat (pre-registered round).
STRETCH_WINDOW_S = 31 * 60.0
STRETCH_BLOCK_S = 5 * 60.0
# A window holding fewer beats widens to the STRETCH_MIN_BEATS beats nearest its block: 50 s of
# VT between two 16-min gaps (electrodes off) was its own window's dominant beat, and half the
# run, compared with itself, was called N (the VT lost; a review of the round). 31 min holds
# over 1,000 beats at any rate above 33 bpm, so windows without a gap are unchanged.
STRETCH_MIN_BEATS = 1000


def beat_stretches(t_s: np.ndarray) -> list[tuple[slice, slice]]:
    """(a block's beats, the beats its dominant beat and amplitude come from) for beats at
    sorted times `t_s`: one stretch, the whole recording, up to STRETCH_WINDOW_S; else each
    STRETCH_BLOCK_S block with the STRETCH_WINDOW_S centred on it, kept inside the recording,
    or the STRETCH_MIN_BEATS beats nearest the block where that window holds fewer."""
    whole = slice(0, t_s.size)
    start_s, end_s = float(t_s[0]), float(t_s[-1])
    if end_s - start_s <= STRETCH_WINDOW_S:
        return [(whole, whole)]
    blocks = int(np.ceil((end_s - start_s) / STRETCH_BLOCK_S))
    edges = np.searchsorted(t_s, start_s + STRETCH_BLOCK_S * np.arange(blocks + 1))
    edges[-1] = t_s.size
    stretches = []
    for k in range(blocks):
        if edges[k] == edges[k + 1]:
            continue  # no beat in the block (a lead-off hour): nothing to compare
        centre_s = start_s + (k + 0.5) * STRETCH_BLOCK_S
        low_s = min(max(centre_s - STRETCH_WINDOW_S / 2, start_s), end_s - STRETCH_WINDOW_S)
        around = slice(
            int(np.searchsorted(t_s, low_s)),
            int(np.searchsorted(t_s, low_s + STRETCH_WINDOW_S, side="right")),
        )
        if around.stop - around.start < STRETCH_MIN_BEATS:
            around = _nearest_beats(t_s.size, (int(edges[k]) + int(edges[k + 1])) // 2)
        stretches.append((slice(int(edges[k]), int(edges[k + 1])), around))
    return stretches


def _nearest_beats(n_beats: int, centre: int) -> slice:
    """The STRETCH_MIN_BEATS beats around beat `centre` (all of them, if fewer)."""
    first = min(max(centre - STRETCH_MIN_BEATS // 2, 0), max(n_beats - STRETCH_MIN_BEATS, 0))
    return slice(first, min(first + STRETCH_MIN_BEATS, n_beats))


def local_median(
    values: np.ndarray, t_s: np.ndarray, at_s: np.ndarray, *, block_only: bool = False
) -> np.ndarray:
    """At each time in `at_s`, the median of `values` (at sorted times `t_s`) over the window
    of the block it falls in (`beat_stretches`), or over the block itself (`block_only`: a
    heart rate changes within minutes, a QRS's size seldom): the whole recording's median up
    to STRETCH_WINDOW_S, so a recording that short reads exactly as before. NaN without
    values."""
    at_s = np.asarray(at_s, dtype=float)
    if values.size == 0:
        return np.full(at_s.size, np.nan)
    stretches = beat_stretches(t_s)
    if len(stretches) == 1:
        return np.full(at_s.size, float(np.median(values)))
    medians = np.array(
        [float(np.median(values[block if block_only else around])) for block, around in stretches]
    )
    starts_s = np.array([t_s[block.start] for block, _ in stretches])
    block = np.clip(np.searchsorted(starts_s, at_s, side="right") - 1, 0, len(stretches) - 1)
    return np.asarray(medians[block])
