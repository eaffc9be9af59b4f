"""Second-degree AV block held at 2:1 from a recording's start (`ml.two_to_one`): the P wave
halfway between the beats, answered by no QRS, is found and said; sinus bradycardia with U
waves, atrial flutter and a Wenckebach block never read so.

Before: two minutes of it read "Sinus bradycardia", its strips "Other rhythm: slow".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ml import analysis as analysis_module
from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.chunked import analyze_chunked
from ml.io.sources import ArraySource
from ml.recording import Recording
from ml.research.synthetic import (
    BeatTruth,
    atrial_flutter_mv,
    beats_in_leads_mv,
    second_degree_block_mv,
    synthetic_rhythm_mv,
)
from ml.two_to_one import BlockedPWaves, two_to_one_spans

FS_HZ = 250.0


def _two_to_one(duration_s: float, atrial_bpm: float = 80.0, seed: int = 2) -> Recording:
    signal_mv, _, _ = second_degree_block_mv(
        duration_s, fs_hz=FS_HZ, atrial_bpm=atrial_bpm, conducted=1, pr_ms=(180.0,), seed=seed
    )
    return Recording(FS_HZ, ("II",), signal_mv[:, None], source_format="synthetic")


def _said_as_two_to_one(analysis: EcgAnalysis) -> None:
    blocks = [f for f in analysis.findings if f.code == "AV_BLOCK_2"]
    assert blocks, [f.code for f in analysis.findings]
    assert "P waves at 80 /min, every other one not conducted" in blocks[0].detail
    assert "BRADY" not in [f.code for f in analysis.findings]  # the block's rate, not sinus


def test_two_minutes_read_as_sinus_rhythm_with_the_block_whole_and_chunked() -> None:
    recording = _two_to_one(120.0)
    whole = analyze(recording)
    chunked = analyze_chunked(ArraySource(recording), chunk_s=60, overlap_s=10)
    for analysis in (whole, chunked):
        _said_as_two_to_one(analysis)
        assert analysis.heart_rate.sdnn_ms is None  # two sinus cycles per interval: no HRV
        # From its first blocked interval to its last (the last beat's R-R is not read).
        assert analysis.rhythm_summary == (
            "Sinus rhythm with second-degree AV block, 2:1 conduction (1.9 min)"
        )
    assert whole.episodes == chunked.episodes


def test_a_strip_says_the_block_as_its_reason() -> None:
    analysis = analyze(_two_to_one(30.0))
    assert analysis.strip is not None
    assert "every other one not conducted" in analysis.strip.reason
    _said_as_two_to_one(analysis)


def test_sinus_bradycardia_with_u_waves_is_no_block() -> None:
    """A U wave after the T wave comes near halfway at 40-50 bpm; it is wider than the P wave
    and begins at the T wave's end."""
    onsets = np.arange(0.5, 118.0, 60.0 / 45.0)
    sinus = BeatTruth(hr_bpm=45.0, qt_ms=500.0, t_mv=0.35)
    u_wave = BeatTruth(hr_bpm=45.0, r_mv=0.0, p_mv=0.0, t_mv=0.15, qt_ms=680.0, t_duration_ms=170)
    signal_mv = beats_in_leads_mv(
        [(o, sinus) for o in onsets] + [(o, u_wave) for o in onsets], 120.0, FS_HZ, ("II",)
    )
    analysis = analyze(Recording(FS_HZ, ("II",), signal_mv, source_format="synthetic"))
    assert rhythm.TWO_TO_ONE not in [e.label for e in analysis.episodes]
    assert "AV_BLOCK_2" not in [f.code for f in analysis.findings]


@pytest.mark.parametrize("conduction", [(4,), (2, 4)])
def test_atrial_flutter_is_no_block(conduction: tuple[int, ...]) -> None:
    signal_mv, _ = atrial_flutter_mv(60.0, fs_hz=FS_HZ, conduction=conduction, seed=3)
    signal_mv = signal_mv if signal_mv.ndim == 2 else signal_mv[:, None]
    analysis = analyze(Recording(FS_HZ, ("II",), signal_mv, source_format="synthetic"))
    assert rhythm.TWO_TO_ONE not in [e.label for e in analysis.episodes]


def test_a_wenckebach_block_keeps_its_own_name() -> None:
    signal_mv, _, _ = second_degree_block_mv(
        120.0, fs_hz=FS_HZ, atrial_bpm=80.0, conducted=3, pr_ms=(180.0, 250.0, 285.0)
    )
    analysis = analyze(Recording(FS_HZ, ("II",), signal_mv[:, None], source_format="synthetic"))
    assert rhythm.TWO_TO_ONE not in [e.label for e in analysis.episodes]
    assert any("Mobitz I" in f.detail for f in analysis.findings if f.code == "AV_BLOCK_2")


def test_a_p_wave_on_the_t_wave_is_not_judged() -> None:
    """Where the blocked P wave would begin before the T wave ends, it is not looked for: a
    hump there is the T wave as often as a P wave."""
    window = BlockedPWaves(0.0, 30.0, np.full(10, 0.30), np.ones(10, dtype=bool), 42.0)
    assert two_to_one_spans([window], t_end_ms=380.0) == []
    assert two_to_one_spans([window], t_end_ms=None) == []
    (found,) = two_to_one_spans([window], t_end_ms=200.0)
    assert found.atrial_bpm == pytest.approx(84.0)


def test_the_strip_call_and_the_block_finding_name_one_atrial_rate() -> None:
    """An on-call audit: a minute of MIT-BIH 231's 2:1 block said "P waves at 73 /min" in the
    strip's call and "at 80 /min" in the AV-block finding (twice the QRS rate over episodes
    that began in 1:1 conduction)."""
    import re

    import wfdb

    from ml.analysis import analyze
    from ml.recording import Recording
    from ml.research.databases import default_data_dir

    path = default_data_dir() / "231"
    if not path.with_suffix(".hea").is_file():
        pytest.skip("MIT-BIH not found")
    record = wfdb.rdrecord(str(path), sampfrom=90 * 360, sampto=150 * 360)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    assert analysis.strip is not None
    block = next(f for f in analysis.findings if f.code == "AV_BLOCK_2")
    said = re.findall(r"P waves at (\d+) /min", analysis.strip.reason + " " + (block.detail or ""))
    assert len(said) == 2 and said[0] == said[1], said


def _one_to_one_then_two_to_one(block_from_s: float, duration_s: float = 90.0) -> Recording:
    """P waves at 73 /min, each conducted until `block_from_s`, every other one after."""
    truth = BeatTruth(hr_bpm=73.0)
    p_starts_s = np.arange(0.3, duration_s - 1.0, 60.0 / 73.0)
    conducted = (p_starts_s < block_from_s) | (np.arange(p_starts_s.size) % 2 == 0)
    signal_mv = synthetic_rhythm_mv(
        p_starts_s[conducted] + 0.18, duration_s=duration_s, fs_hz=FS_HZ, truth=truth,
        p_waves=False,
    )  # fmt: skip
    t_s = np.arange(signal_mv.size) / FS_HZ
    for start_s in p_starts_s:
        signal_mv += truth.p_mv * np.where(
            (t_s >= start_s) & (t_s <= start_s + 0.1), np.sin(np.pi * (t_s - start_s) / 0.1), 0.0
        )
    return Recording(FS_HZ, ("II",), signal_mv[:, None], source_format="synthetic")


def test_a_block_spans_its_blocked_intervals_not_the_whole_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QT Database sel231 600-900 s: 19 s of 1:1 conduction with rate-dependent RBBB (called V:
    "Idioventricular rhythm 6.2-19.3 s"), then 2:1, inside one 30-s window; the block read
    "2:1 conduction 0.6-29.7 s, 27 beats", over the idioventricular rhythm in the same table.
    Now it runs from its first blocked interval to its last."""
    classify = analysis_module.classify_beats

    def one_to_one_v(*args: Any) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        probabilities, classes, leads = classify(*args)
        return probabilities, np.where(args[2] / FS_HZ < 19.0, "V", classes), leads

    monkeypatch.setattr(analysis_module, "classify_beats", one_to_one_v)
    analysis = analyze(_one_to_one_then_two_to_one(19.0))
    (block,) = [e for e in analysis.episodes if e.label == rhythm.TWO_TO_ONE]
    (ivr,) = [e for e in analysis.episodes if e.label == rhythm.IVR]
    assert 18.0 < block.start_s < 19.5 and block.start_s >= ivr.end_s
    assert block.n_beats == 43
