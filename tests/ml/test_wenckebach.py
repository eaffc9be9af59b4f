"""Second-degree AV block, Mobitz I (Wenckebach): found by its P waves, and never read as
atrial fibrillation, a first-degree block or atrial premature beats (`ml.wenckebach`)."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.atrial import P_BAND_HZ
from ml.chunked import analyze_chunked
from ml.filters import bandpass_mv
from ml.io.sources import ArraySource
from ml.recording import Recording
from ml.research.synthetic import (
    R_AFTER_ONSET_S,
    second_degree_block_mv,
    sinus_or_af_mv,
    synthetic_rhythm_mv,
)
from ml.wenckebach import NONE, STRIP_REASON, mobitz_i
from tests.support.blocks import block_recording

FS_HZ = 250.0
WENCKEBACH_PR_MS = {2: (180.0, 260.0), 3: (180.0, 250.0, 285.0), 4: (170.0, 230.0, 260.0, 275.0)}


def _found(signal_mv: np.ndarray, onsets_s: np.ndarray, classes: str = "N") -> list:
    p_band = bandpass_mv(signal_mv, FS_HZ, P_BAND_HZ)
    beat_s = onsets_s + R_AFTER_ONSET_S
    return mobitz_i(p_band, FS_HZ, beat_s, np.full(beat_s.size, classes)).cycles_s


@pytest.mark.parametrize("conducted", [2, 3, 4])
@pytest.mark.parametrize("atrial_bpm", [60.0, 80.0])
def test_every_dropped_beat_of_a_wenckebach_block_is_found(
    conducted: int, atrial_bpm: float
) -> None:
    signal_mv, onsets_s, blocked_s = second_degree_block_mv(
        60.0, fs_hz=FS_HZ, atrial_bpm=atrial_bpm, conducted=conducted,
        pr_ms=WENCKEBACH_PR_MS[conducted],
    )  # fmt: skip
    cycles = _found(signal_mv, onsets_s)
    # Each long cycle holds one P wave not conducted; the first and last may lack the steady
    # P waves on both sides that the rule asks for.
    holding = [sum(start < p < end for p in blocked_s) for start, end in cycles]
    assert holding == [1] * len(cycles)
    assert len(cycles) >= len(blocked_s) - 2


def test_a_block_with_a_constant_pr_is_no_mobitz_i() -> None:
    """Mobitz II (or sinoatrial block) drops beats without the PR lengthening first."""
    signal_mv, onsets_s, _ = second_degree_block_mv(60.0, fs_hz=FS_HZ, pr_ms=(180.0,) * 3)
    assert _found(signal_mv, onsets_s) == []


@pytest.mark.parametrize(
    "rr_s",
    [
        # sinus arrhythmia: the cycle swings by +-25 % with breathing, the PR stays
        0.9 * (1 + 0.25 * np.sin(2 * np.pi * np.arange(70) * 0.9 / 4.0)),
        # an atrial premature beat every fourth beat, then a compensatory pause
        np.tile([0.85, 0.85, 0.55, 1.25], 18),
    ],
    ids=["sinus arrhythmia", "atrial premature beats"],
)
def test_sinus_rhythms_with_long_cycles_are_no_mobitz_i(rr_s: np.ndarray) -> None:
    onsets_s = 0.5 + np.concatenate([[0.0], np.cumsum(rr_s)])
    signal_mv = synthetic_rhythm_mv(onsets_s, duration_s=onsets_s[-1] + 1.5, fs_hz=FS_HZ)
    assert _found(signal_mv, onsets_s) == []


def test_atrial_fibrillation_is_no_mobitz_i() -> None:
    rr_s = np.random.default_rng(3).uniform(0.45, 1.3, 90)
    signal_mv, beat_s = sinus_or_af_mv(rr_s, af=True, fs_hz=FS_HZ)
    assert _found(signal_mv, beat_s - R_AFTER_ONSET_S) == []
    assert mobitz_i(signal_mv, FS_HZ, beat_s[:4], np.full(4, "N")) == NONE  # too few beats


def _read(duration_s: float, leads: int = 1, seed: int = 0) -> Recording:
    signal_mv, _, _ = second_degree_block_mv(duration_s, fs_hz=FS_HZ, atrial_bpm=80.0, seed=seed)
    return block_recording(signal_mv, FS_HZ, leads)


def test_a_wenckebach_holter_reads_as_the_block_whole_and_chunked() -> None:
    """Before: "sinus rhythm" with dozens of atrial premature beats, or AF, no block."""
    recording = _read(240.0, seed=1)
    whole = analyze(recording)
    chunked = analyze_chunked(ArraySource(recording), chunk_s=60, overlap_s=10)
    for analysis in (whole, chunked):
        codes = [f.code for f in analysis.findings]
        assert "AV_BLOCK_2" in codes and not {"AF", "PAC", "AV_BLOCK_1", "DROPPED_BEAT"} & set(
            codes
        )
        block = next(f for f in analysis.findings if f.code == "AV_BLOCK_2")
        assert block.label == rhythm.MOBITZ_I
        assert "each after the PR lengthened beat by beat" in block.detail
        dropped = int(block.detail.split()[0])
        assert dropped >= 70  # 80 P waves a minute, every fourth not conducted: 80 in 4 min
        assert (
            analysis.rhythm_summary
            == f"Sinus rhythm with {rhythm.MOBITZ_I[0].lower()}" + (rhythm.MOBITZ_I[1:])
        )
        assert analysis.intervals.pr_ms is None
        assert "Mobitz I" in analysis.intervals.not_measurable["pr"]
        assert analysis.beat_counts["S"] == 0
    assert [f.detail for f in whole.findings] == [f.detail for f in chunked.findings]


def test_a_wenckebach_strip_is_no_atrial_fibrillation() -> None:
    analysis = analyze(_read(30.0, leads=2, seed=2))
    assert analysis.strip is not None and analysis.strip.label != "af"
    assert analysis.strip.label == "sinus" or analysis.strip.reason == STRIP_REASON
    codes = [f.code for f in analysis.findings]
    assert "AV_BLOCK_2" in codes and "AF" not in codes


def test_mobitz_i_cycles_replace_dropped_beats_and_rule_af_out() -> None:
    beat_s = np.arange(0.0, 60.0, 0.8)
    classes = np.full(beat_s.size, "N")
    cycles = [(10.0, 11.6), (20.0, 21.6)]
    episodes = rhythm.detect_rhythms(
        beat_s, classes, 60.0, af_windows_s=[(0.0, 60.0)], mobitz_i_cycles_s=cycles
    )
    labels = [e.label for e in episodes]
    assert labels.count(rhythm.MOBITZ_I) == 2 and rhythm.AF not in labels
    one_cycle = rhythm.detect_rhythms(
        beat_s, classes, 60.0, af_windows_s=[(0.0, 60.0)], mobitz_i_cycles_s=cycles[:1]
    )
    assert rhythm.AF in [e.label for e in one_cycle]  # one cycle is not enough against AF


def test_the_groups_s_calls_are_found_by_time_whatever_the_rounding() -> None:
    """A chunked read gives each chunk's times from its start, shifted after (`local / fs +
    start / fs`), which differ from the whole read's `(local + start) / fs` in the last bit for
    some beats; the S calls of the groups are matched all the same."""
    from ml.wenckebach import BlockCycles, conducted_sinus

    fs_hz, start = 360.0, 648000
    local = np.arange(1000, 200000, 173)
    beat_s = (local + start) / fs_hz
    shifted_s = local / fs_hz + start / fs_hz
    assert (beat_s != shifted_s).any()  # the case this guards against
    block = BlockCycles([(float(beat_s[10]), float(beat_s[500]))], shifted_s)
    classes = np.full(beat_s.size, "S")
    near = (beat_s >= beat_s[10] - 5.0) & (beat_s <= beat_s[500] + 5.0)
    assert np.array_equal(conducted_sinus(beat_s, classes, block), near)
