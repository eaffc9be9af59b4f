"""Second-degree AV block, Mobitz II: found by its P waves (a blocked P wave halfway through
each long cycle, the PR the same either side), never read as sinus rhythm with atrial
premature beats, and not made of a Wenckebach block, a sinoatrial block, sinus arrhythmia or
atrial flutter (`ml.mobitz_ii`)."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.atrial import P_BAND_HZ
from ml.chunked import analyze_chunked
from ml.filters import bandpass_mv
from ml.io.sources import ArraySource
from ml.mobitz_ii import STRIP_REASON, mobitz_ii
from ml.recording import Recording, validated
from ml.research.synthetic import (
    R_AFTER_ONSET_S,
    atrial_flutter_mv,
    second_degree_block_mv,
    synthetic_rhythm_mv,
)
from ml.wenckebach import mobitz_i
from tests.support.blocks import block_recording

FS_HZ = 250.0


def _found(signal_mv: np.ndarray, beat_s: np.ndarray) -> list[tuple[float, float]]:
    p_band = bandpass_mv(signal_mv, FS_HZ, P_BAND_HZ)
    return mobitz_ii(p_band, FS_HZ, beat_s, np.full(beat_s.size, "N")).cycles_s


@pytest.mark.parametrize("conducted", [2, 3, 5])
@pytest.mark.parametrize("atrial_bpm", [60.0, 85.0])
def test_every_dropped_beat_of_a_mobitz_ii_block_is_found(
    conducted: int, atrial_bpm: float
) -> None:
    signal_mv, onsets_s, blocked_s = second_degree_block_mv(
        60.0, fs_hz=FS_HZ, atrial_bpm=atrial_bpm, conducted=conducted, pr_ms=(180.0,) * conducted
    )
    cycles = _found(signal_mv, onsets_s + R_AFTER_ONSET_S)
    # Each long cycle holds one P wave not conducted; the first and last may lack the steady
    # P waves on both sides that the rule asks for.
    assert [sum(start < p < end for p in blocked_s) for start, end in cycles] == [1] * len(cycles)
    assert len(cycles) >= len(blocked_s) - 2


def test_a_wenckebach_block_is_mobitz_i_not_ii() -> None:
    signal_mv, onsets_s, _ = second_degree_block_mv(60.0, fs_hz=FS_HZ)  # PR 180, 250, 285 ms
    beat_s = onsets_s + R_AFTER_ONSET_S
    assert _found(signal_mv, beat_s) == []
    p_band = bandpass_mv(signal_mv, FS_HZ, P_BAND_HZ)
    assert mobitz_i(p_band, FS_HZ, beat_s, np.full(beat_s.size, "N")).cycles_s


def _cycles_dropped(every: int, cycle_s: float = 0.8, duration_s: float = 60.0) -> np.ndarray:
    """QRS onsets of a rhythm at `cycle_s` with every `every`-th cycle left out whole."""
    onsets_s = np.arange(0.5, duration_s - 1.5, cycle_s)
    return onsets_s[np.arange(onsets_s.size) % every != every - 1]


@pytest.mark.parametrize(
    "onsets_s",
    [
        # sinoatrial exit block: a whole cycle dropped, no P wave in the pause
        _cycles_dropped(4),
        # sinus arrhythmia: the cycle swings by +-25 % with breathing
        0.5 + np.cumsum(0.9 * (1 + 0.25 * np.sin(2 * np.pi * np.arange(65) * 0.9 / 4.0))),
    ],
    ids=["sinoatrial block", "sinus arrhythmia"],
)
def test_sinus_rhythms_with_long_cycles_are_no_mobitz_ii(onsets_s: np.ndarray) -> None:
    signal_mv = synthetic_rhythm_mv(onsets_s, duration_s=onsets_s[-1] + 1.5, fs_hz=FS_HZ)
    assert _found(signal_mv, onsets_s + R_AFTER_ONSET_S) == []


def test_atrial_flutter_with_2_to_4_conduction_is_no_mobitz_ii() -> None:
    """Flutter waves march, and conduction stepping from 2:1 to 4:1 doubles the interval at
    the same flutter-wave-to-QRS time: a wave of the P waves' shape a quarter of the way tells
    them apart, whatever its size (there at 0.55 times the conducted wave's)."""
    for duration_s, seed in ((10.0, 0), (30.0, 1)):  # each read 2 and 9 such cycles once
        signal_mv, onsets_s = atrial_flutter_mv(
            duration_s, fs_hz=FS_HZ, flutter_per_min=300.0, conduction=(2, 4), seed=seed
        )
        assert _found(signal_mv[:, 0], onsets_s + R_AFTER_ONSET_S) == []


def _read(duration_s: float, leads: int = 1, seed: int = 0) -> Recording:
    signal_mv, _, _ = second_degree_block_mv(
        duration_s, fs_hz=FS_HZ, atrial_bpm=75.0, pr_ms=(170.0,) * 3, seed=seed
    )
    return block_recording(signal_mv, FS_HZ, leads)


def test_a_mobitz_ii_holter_reads_as_the_block_whole_and_chunked() -> None:
    """Before: "Sinus rhythm" with 75 "atrial premature beats" and no AV-block finding."""
    recording = _read(240.0, seed=1)
    whole = analyze(recording)
    chunked = analyze_chunked(ArraySource(recording), chunk_s=60, overlap_s=10)
    for analysis in (whole, chunked):
        codes = [f.code for f in analysis.findings]
        assert "AV_BLOCK_2" in codes and not {"AF", "PAC", "AV_BLOCK_1"} & set(codes)
        block = next(f for f in analysis.findings if f.code == "AV_BLOCK_2")
        assert block.label == rhythm.MOBITZ_II and block.risk == "high"
        assert "with the PR unchanged before and after (Mobitz II)" in block.detail
        dropped = int(block.detail.split()[0])
        assert dropped >= 65  # 75 P waves a minute, every fourth not conducted: 75 in 4 min
        assert analysis.rhythm_summary == (
            f"Sinus rhythm with {rhythm.MOBITZ_II[0].lower()}{rhythm.MOBITZ_II[1:]}"
        )
        assert analysis.intervals.pr_ms is not None  # the PR is steady: it is measured
        assert abs(analysis.intervals.pr_ms - 170.0) <= 30.0
        assert analysis.beat_counts["S"] == 0
    assert [f.detail for f in whole.findings] == [f.detail for f in chunked.findings]


def test_a_mobitz_ii_strip_says_the_block() -> None:
    signal_mv, _, _ = second_degree_block_mv(
        10.0, fs_hz=FS_HZ, atrial_bpm=90.0, conducted=2, pr_ms=(160.0, 160.0), seed=5
    )
    analysis = analyze(validated(Recording(FS_HZ, ("II",), signal_mv[:, None])))
    assert analysis.strip is not None and analysis.strip.label != "af"
    assert analysis.strip.label == "sinus" or analysis.strip.reason == STRIP_REASON
    codes = [f.code for f in analysis.findings]
    assert "AV_BLOCK_2" in codes and not {"AF", "PAC"} & set(codes)


def test_mobitz_ii_cycles_replace_dropped_beats_and_rule_af_out() -> None:
    beat_s = np.arange(0.0, 60.0, 0.8)
    classes = np.full(beat_s.size, "N")
    cycles = [(10.0, 11.6), (20.0, 21.6)]
    episodes = rhythm.detect_rhythms(
        beat_s, classes, 60.0, af_windows_s=[(0.0, 60.0)], mobitz_ii_cycles_s=cycles
    )
    labels = [e.label for e in episodes]
    assert labels.count(rhythm.MOBITZ_II) == 2
    assert rhythm.AF not in labels and rhythm.MOBITZ_I not in labels
