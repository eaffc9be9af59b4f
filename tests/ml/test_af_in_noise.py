"""Irregular detections in noisy signal are no atrial fibrillation (`ml.rhythm._mostly_noisy`):
electrode-motion noise at 6 dB SNR over the sinus rhythm of MIT-BIH 118 and 119 (Noise
Stress Test Database) had read "Sinus rhythm with atrial fibrillation/flutter (2.2 min)" and
"(5.7 min)", AF the main finding, every minute of it inside stretches signal quality calls
noisy. AF that runs on through noise from readable signal stays AF."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.io import read_recording
from ml.quality import READ_FROM, Segment, noisy_spans_s
from ml.research.databases import data_root


def _irregular_beats(duration_s: float, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rr_s = np.random.default_rng(seed).uniform(0.45, 1.1, int(duration_s / 0.75))
    beat_s = np.concatenate([[1.0], 1.0 + np.cumsum(rr_s)])
    return beat_s, np.full(beat_s.size, "N")


def _af_s(beat_s: np.ndarray, classes: np.ndarray, noisy: list[tuple[float, float]]) -> float:
    episodes = rhythm.detect_rhythms(
        beat_s,
        classes,
        float(beat_s[-1]) + 1,
        np.full(beat_s.size, 0.05),  # no consistent P wave
        noisy_spans_s=noisy,
    )
    return sum(e.duration_s for e in episodes if e.label == rhythm.AF)


def test_irregular_beats_mostly_in_noise_are_no_af() -> None:
    beat_s, classes = _irregular_beats(120.0)
    end_s = float(beat_s[-1])
    assert _af_s(beat_s, classes, []) > 100
    assert _af_s(beat_s, classes, [(0.0, end_s + 1)]) == 0
    assert _af_s(beat_s, classes, [(0.0, 0.6 * end_s)]) == 0  # 60 % of it in noise


def test_af_running_on_through_noise_from_readable_signal_stays_af() -> None:
    beat_s, classes = _irregular_beats(120.0)
    end_s = float(beat_s[-1])
    assert _af_s(beat_s, classes, [(0.0, 0.4 * end_s)]) == _af_s(beat_s, classes, []) > 100


def test_a_dropped_beat_inside_noise_is_the_noise_but_a_pause_stays() -> None:
    """A missed detection in noise leaves a doubled interval; a pause may be real in any noise."""
    beat_s = np.arange(60) * 0.8 + 0.5
    beat_s = np.delete(beat_s, [30, 45, 46, 47])  # one interval doubled, one of 3.2 s
    classes = np.full(beat_s.size, "N")

    def labels(noisy: list[tuple[float, float]]) -> list[str]:
        episodes = rhythm.detect_rhythms(
            beat_s, classes, 50.0, np.full(beat_s.size, 0.9), noisy_spans_s=noisy
        )
        return [e.label for e in episodes if e.label in (rhythm.DROPPED, rhythm.PAUSE)]

    assert labels([]) == [rhythm.DROPPED, rhythm.PAUSE]
    assert labels([(20.0, 30.0), (35.0, 45.0)]) == [rhythm.PAUSE]


def test_noisy_spans_are_noisy_in_every_lead() -> None:
    segments = [
        Segment(0.0, 10.0, "good", ""),
        Segment(10.0, 20.0, "noisy", "beats differ from one to the next (artefact or noise)"),
        Segment(20.0, 30.0, "noisy", f"lead MLII noisy (motion artefact){READ_FROM}V1"),
        Segment(30.0, 40.0, "unusable", "flat line"),
        Segment(40.0, 50.0, "noisy", "muscle or mains noise"),
    ]
    assert noisy_spans_s(segments) == [(10.0, 20.0), (30.0, 40.0), (40.0, 50.0)]
    # Noisy only from fast noise its beats stand clear of: readable.
    assert noisy_spans_s(segments, [(40.0, 50.0)]) == [(10.0, 20.0), (30.0, 40.0)]


@pytest.mark.parametrize("name", ["118e06", "119e06"])
def test_sinus_rhythm_under_electrode_motion_noise_reads_no_af(name: str) -> None:
    analysis = analyze(read_recording([data_root() / "nstdb" / f"{name}.hea"]))
    assert rhythm.AF not in {e.label for e in analysis.episodes}
    assert analysis.rhythm_summary.startswith("Sinus rhythm")
    assert "AF" not in {f.code for f in analysis.findings}
    noisy = [s for s in analysis.quality if s.level != "good"]
    assert sum(s.end_s - s.start_s for s in noisy) >= 600  # the noise is still shown
