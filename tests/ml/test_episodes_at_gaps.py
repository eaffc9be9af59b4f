"""No rhythm episode runs through signal every lead misses (`ml.rhythm._apart_at_missing`):
it ends at the gap and starts again after it. A Holter audit: MIT-BIH 221 (AF throughout)
three times over, both leads lead-off from 40:00 to 60:00, read one AF episode 0:00:00-1:30:15
and 90.2 min of AF in 70 min of readable signal: the machine cannot know the rhythm during 20
min without signal."""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.analysis import analyze
from ml.recording import Recording
from ml.research.synthetic import sinus_or_af_mv

GAP_S = (600.0, 900.0)


def _beats(rr_s: np.ndarray) -> np.ndarray:
    """Beats every `rr_s` from 1 s, none inside `GAP_S` (the signal is missing there)."""
    beat_s = 1.0 + np.concatenate([[0.0], np.cumsum(rr_s)])
    return beat_s[(beat_s < GAP_S[0]) | (beat_s > GAP_S[1])]


def _through_the_gap(episodes: list[rhythm.Episode]) -> list[rhythm.Episode]:
    return [e for e in episodes if e.start_s < GAP_S[1] and GAP_S[0] < e.end_s]


def _episodes(beat_s: np.ndarray, classes: np.ndarray, **kwargs: object) -> list[rhythm.Episode]:
    return rhythm.detect_rhythms(
        beat_s, classes, float(beat_s[-1]) + 1, missing_spans_s=[GAP_S], **kwargs
    )


def test_af_ends_at_the_gap_and_starts_again_after_it() -> None:
    rr_s = np.random.default_rng(5).uniform(0.45, 1.1, 2000)
    beat_s = _beats(rr_s)
    classes = np.full(beat_s.size, "N")
    episodes = _episodes(beat_s, classes, p_wave_consistency=np.full(beat_s.size, 0.05))
    af = [e for e in episodes if e.label == rhythm.AF]
    assert not _through_the_gap(episodes), _through_the_gap(episodes)
    assert len(af) == 2
    assert af[0].end_s == beat_s[beat_s < GAP_S[0]][-1]
    assert af[1].start_s == beat_s[beat_s > GAP_S[1]][0]
    assert sum(e.n_beats for e in af) == beat_s.size


def test_sinus_bradycardia_and_bigeminy_end_at_the_gap_too() -> None:
    brady = _beats(np.full(1500, 1.2))  # 50 bpm
    episodes = _episodes(brady, np.full(brady.size, "N"))
    assert {e.label for e in episodes} == {rhythm.BRADY}
    assert len(episodes) == 2 and not _through_the_gap(episodes)
    bigeminy = _beats(np.tile([0.5, 1.0], 1000))  # N V N V ...
    classes = np.array(["N", "V"] * (bigeminy.size // 2 + 1))[: bigeminy.size]
    patterns = [e for e in _episodes(bigeminy, classes) if e.label == rhythm.BIGEMINY]
    assert len(patterns) == 2 and not _through_the_gap(patterns)


def test_af_with_every_lead_off_for_five_minutes_is_two_episodes() -> None:
    """The audit's recording in small: 15 min of AF, every lead a lead-off line (5 uV of
    noise) from 5 to 10 min."""
    fs_hz = 250.0
    rr_s = np.random.default_rng(7).uniform(0.45, 1.1, 1300)
    lead_mv, _ = sinus_or_af_mv(rr_s[np.cumsum(rr_s) < 900], af=True, fs_hz=fs_hz, seed=2)
    signal = np.column_stack([lead_mv, 0.6 * lead_mv])
    off = slice(round(300 * fs_hz), round(600 * fs_hz))
    signal[off] = np.random.default_rng(1).normal(0, 0.005, (off.stop - off.start, 2))
    analysis = analyze(Recording(fs_hz, ("II", "V1"), signal))
    af = [e for e in analysis.episodes if e.label == rhythm.AF]
    assert len(af) == 2, af
    assert af[0].end_s <= 300 and af[1].start_s >= 600, af
    assert not [e for e in analysis.episodes if e.start_s < 600 and e.end_s > 300]
    holter = analysis.holter
    assert holter is not None and holter.readable_hours is not None
    assert holter.af_minutes <= 60 * holter.readable_hours
