"""A stretch with no QRS complex is a pause, also one running to the recording's end, and
what the detector picks up in it (noise, P waves) is no beat (`ml.standstill`)."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.chunked import analyze_chunked
from ml.io.sources import ArraySource
from ml.recording import Recording, validated
from ml.research.synthetic import standstill_mv
from ml.standstill import FAINT_SHARE, silences
from ml.strip_rhythm import OTHER

FS_HZ = 250.0


def _read(signal_mv: np.ndarray, leads: tuple[str, ...]) -> EcgAnalysis:
    return analyze(validated(Recording(FS_HZ, leads, signal_mv)))


def _pause(analysis: EcgAnalysis) -> str:
    finding = next(f for f in analysis.findings if f.code == "PAUSE")
    assert finding.risk == "high"
    return finding.detail


@pytest.mark.parametrize("p_waves_go_on", [False, True])
def test_a_recording_ending_in_asystole_reads_a_pause_to_its_end(p_waves_go_on: bool) -> None:
    """Before: 2 minutes whose last 40 s have no QRS complex read "Sinus rhythm" (with a PAC
    at low risk), the flat line's noise or the P waves going on alone detected as beats."""
    leads = ("MLII", "V1")
    signal, onsets_s = standstill_mv(
        120.0, (80.0, 120.0), fs_hz=FS_HZ, leads=leads, bpm=72.0, p_waves_go_on=p_waves_go_on
    )
    analysis = _read(signal, leads)
    detail = _pause(analysis)
    assert "to the end of the recording" in detail
    said = "while P waves go on: ventricular standstill" if p_waves_go_on else "asystole, or the"
    assert said in detail
    assert analysis.rhythm_summary == "Sinus rhythm with pause"
    beat_s = analysis.beats.samples / FS_HZ
    assert beat_s.max() < onsets_s[-1] + 0.2  # nothing in the silence counted as a beat
    assert analysis.heart_rate.mean_bpm == pytest.approx(72.0, abs=2.0)
    pause = next(e for e in analysis.episodes if e.label == rhythm.PAUSE)
    assert pause.end_s == pytest.approx(120.0) and pause.start_s == pytest.approx(
        onsets_s[-1], abs=0.15
    )


def test_a_long_sinus_arrest_is_one_pause_and_the_chunked_read_agrees() -> None:
    """A 14-s arrest: the detector's relearnt thresholds find "beats" in the noise, which
    split it into short intervals, none a pause."""
    leads = ("MLII", "V1")
    signal, onsets_s = standstill_mv(
        240.0, (100.0, 114.0), fs_hz=FS_HZ, leads=leads, bpm=70.0, noise_mv=0.02, seed=3
    )
    whole = _read(signal, leads)
    chunked = analyze_chunked(ArraySource(Recording(FS_HZ, leads, signal)), chunk_s=60)
    for analysis in (whole, chunked):
        pauses = [e for e in analysis.episodes if e.label == rhythm.PAUSE]
        assert [(round(e.start_s), round(e.end_s)) for e in pauses] == [(99, 114)]
        assert "longest 14." in _pause(analysis)
    assert whole.episodes == chunked.episodes


def test_a_ten_second_strip_half_silent_reads_its_pause_not_too_noisy() -> None:
    """Before: "Unclassifiable: too noisy; fewer than 7 beats could be found"."""
    leads = ("II",)
    signal, _ = standstill_mv(10.0, (5.2, 10.0), fs_hz=FS_HZ, leads=leads, bpm=60.0)  # 5 beats
    analysis = _read(signal, leads)
    assert analysis.strip is not None and analysis.strip.label == OTHER
    assert analysis.strip.reason.startswith(
        "a pause of at least 5.3 s, 5 beats"
    ) or analysis.strip.reason.startswith("a pause of at least 5.4 s, 5 beats")
    assert "to the end of the recording" in _pause(analysis)


def _silences(sizes: list[float], readable: list[bool] | None = None, **kw: object) -> list:
    beat_s = np.arange(len(sizes), dtype=float)  # one detection a second
    flags = np.ones(len(sizes), bool) if readable is None else np.array(readable)
    found, not_beats = silences(beat_s, np.array(sizes), flags, float(len(sizes)), **kw)  # type: ignore[arg-type]
    return [(q.start_s, q.end_s, q.open_end) for q in found] + [not_beats.nonzero()[0].tolist()]


def test_faint_detections_make_a_silence_only_over_a_pause_between_readable_beats() -> None:
    faint = FAINT_SHARE / 2
    # One faint detection between two full beats 2 s apart: a beat all the same.
    assert _silences([1, 1, faint, 1, 1]) == [[]]
    # Three faint ones, 4 s between full beats: a silence, its detections no beats.
    assert _silences([1, 1, faint, faint, faint, 1, 1]) == [(1.0, 5.0, False), [2, 3, 4]]
    # To the end (8 s long): open; an open one from 3 s only (its true length is unknown).
    assert _silences([1, 1, 1, 1, 1, 1, faint, faint]) == [[]]
    assert _silences([1, 1, 1, faint, faint, faint, faint, faint]) == [
        (2.0, 8.0, True),
        [3, 4, 5, 6, 7],
    ]
    # Bounded by a detection in unusable signal (it may be artefact): nothing claimed.
    assert _silences([1, 1, faint, faint, faint, 1], [True, False, *[True] * 4]) == [[]]
    # Nor across missing signal or ventricular fibrillation.
    assert _silences([1, 1, faint, faint, faint, 1], unread_s=[(2.5, 3.0)]) == [[]]
