"""Second-degree AV block, Mobitz II: P waves at a steady rate, one suddenly not conducted,
the PR the same before and after the dropped beat.

Found by what defines it, beat by beat, on the long cycles the Mobitz I rule reads
(`ml.wenckebach.marching_cycles`: P to P across the long cycle about two atrial cycles, steady
on either side): the PR before the long cycle within `PR_ALIKE_S` of the PR after it, and
halfway between the two P waves a wave of their shape and size, the blocked P wave, with
no wave of their shape a quarter of the way on (where a flutter wave would be; of any size
the P waves are located at, `wenckebach.P_SIZE`: a synthetic flutter with 2:1 and 4:1
conduction had one there at 0.55 times the conducted flutter wave's size). A sinoatrial block
drops a whole cycle too but leaves no P wave in it; a blocked atrial premature beat comes
early, so the P to P across its pause is no double.

Why: 30 synthetic Mobitz II blocks (3:2 to 7:6, atrial 55-100 /min, 10-120 s, one lead) each
read "Sinus rhythm" with dozens of "atrial premature beats" and no AV-block finding (the
beats after each dropped beat look early against the mean interval), a block that may need a
pacemaker read as benign ectopy.
"""

from __future__ import annotations

import numpy as np

from ml.strip_rhythm import AF, OTHER, StripCall, another_rhythm
from ml.two_to_one import WIDE_S, p_wave_at
from ml.wenckebach import (
    NONE,
    P_SIZE,
    BlockCycles,
    MarchingCycles,
    block_cycles,
    marching_cycles,
    mobitz_i_of,
)

PR_ALIKE_S = 0.03  # the PR before the dropped beat minus the PR after it, at most (either way)

STRIP_REASON = (
    "P waves at a steady rate, one suddenly not conducted with the PR unchanged: "
    "second-degree AV block, Mobitz II"
)


def mobitz_ii(
    p_band_mv: np.ndarray, fs_hz: float, beat_s: np.ndarray, classes: np.ndarray
) -> BlockCycles:
    """Mobitz II conduction around the long cycles (`NONE` when fewer than
    `wenckebach.MIN_CYCLES` show it, or they are under `wenckebach.CYCLE_SHARE` of the long
    cycles between the first and last that do). `p_band_mv`: the analysis lead band-passed
    to the P band."""
    return mobitz_ii_of(marching_cycles(p_band_mv, fs_hz, beat_s, classes), p_band_mv, fs_hz)


def second_degree_blocks(
    p_band_mv: np.ndarray, fs_hz: float, beat_s: np.ndarray, classes: np.ndarray
) -> tuple[BlockCycles, BlockCycles]:
    """(Mobitz I, Mobitz II) from one reading of the long cycles: the P-wave match over every
    beat is the costly part, and both rules read the same one."""
    march = marching_cycles(p_band_mv, fs_hz, beat_s, classes)
    return mobitz_i_of(march), mobitz_ii_of(march, p_band_mv, fs_hz)


def mobitz_ii_of(march: MarchingCycles | None, p_band_mv: np.ndarray, fs_hz: float) -> BlockCycles:
    """`mobitz_ii` from the long cycles already read (`marching_cycles`) in `p_band_mv`."""
    if march is None:
        return NONE
    wide = round(WIDE_S * fs_hz)
    at = march.p_at
    own = march.found & (at - wide >= 0) & (at + wide < p_band_mv.size)
    if not own.any():
        return NONE
    template = np.mean(p_band_mv[at[own, None] + np.arange(-wide, wide + 1)], axis=0)
    template = template - template.mean()
    chosen = []
    for i in march.marching:
        halfway = (at[i] + at[i + 1]) // 2
        quarter = at[i + 1] - (at[i + 1] - at[i]) // 4
        if (
            abs(march.pr_s[i] - march.pr_s[i + 1]) <= PR_ALIKE_S
            and p_wave_at(p_band_mv, fs_hz, halfway, template)
            and not p_wave_at(p_band_mv, fs_hz, quarter, template, size=P_SIZE)
        ):
            chosen.append(i)
    return block_cycles(chosen, march)


def strip_call_with_mobitz_ii(call: StripCall, found: BlockCycles) -> StripCall:
    """A strip called AF or another rhythm whose P waves march through Mobitz II cycles is
    another rhythm, said as the block (synthetic 3:2 blocks read "Other rhythm")."""
    if not found.cycles_s or call.label not in (AF, OTHER):
        return call
    return another_rhythm(call, STRIP_REASON)
