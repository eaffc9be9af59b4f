"""A lead that is noise throughout (an electrode off that still picks up noise) is not read
while another lead's QRS complexes stand clear (`ml.analysis.readable_leads`): lead II was
read as the standard rhythm lead even when it was pure noise, and the read said
"Unclassifiable: too noisy" of an ECG whose other leads were clean."""

from __future__ import annotations

import numpy as np
import pytest

import ml.analysis as analysis_module
from ml import lead_vote
from ml.analysis import analyze
from ml.chunked import analyze_chunked
from ml.filters import bandpass_mv
from ml.io.sources import ArraySource
from ml.recording import Recording
from ml.research.synthetic import BeatTruth, synthetic_recording

HR_BPM = 72.0


def _lead_ii_off(leads: tuple[str, ...], duration_s: float) -> Recording:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=HR_BPM), duration_s=duration_s, fs_hz=250.0, leads=leads
    )
    signal_mv = recording.signal_mv.copy()
    ii = [i for i, name in enumerate(leads) if name in ("II", "MLII")][0]
    signal_mv[:, ii] = np.random.default_rng(3).normal(0, 0.4, signal_mv.shape[0])
    return Recording(250.0, leads, signal_mv)


@pytest.mark.parametrize(
    ("leads", "duration_s"),
    [(("MLII", "V1"), 30.0), (("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V5"), 30.0)],
    ids=["two-lead", "eight-lead"],
)
def test_a_lead_that_is_noise_throughout_is_not_read(
    leads: tuple[str, ...], duration_s: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = _lead_ii_off(leads, duration_s)
    read = analyze(recording)
    off = leads[[i for i, name in enumerate(leads) if name in ("II", "MLII")][0]]
    assert read.analysis_lead != off
    assert off not in read.classification_leads
    assert any(note.startswith(f"Lead(s) {off} not read") for note in read.notes)
    assert read.rhythm_summary.startswith("Sinus")
    assert read.heart_rate.mean_bpm == pytest.approx(HR_BPM, abs=2)
    # Read piece by piece (a long file), the same choice.
    chunked = analyze_chunked(ArraySource(recording), chunk_s=10)
    assert chunked.analysis_lead == read.analysis_lead
    assert chunked.notes.count(next(n for n in read.notes if n.startswith("Lead(s)"))) == 1
    # Before, lead II was read (with three leads or more, the vote of `ml.lead_vote` now sets
    # it aside too); kept so, it is still no rhythm lead: unreadable throughout, the rhythm
    # is read on another (`analysis._rhythm_lead_instead`).
    monkeypatch.setattr(analysis_module, "NOISE_LIKE_PEAKINESS", 0.0)
    monkeypatch.setattr(lead_vote, "MIN_LEADS", 99)
    before = analyze(recording)
    assert off in before.classification_leads and before.analysis_lead != off
    assert f"lead {off}, the usual one, is unreadable throughout" in before.notes[0]


def test_no_lead_is_set_aside_when_none_stands_clear() -> None:
    """A single noisy lead, or leads all alike: nothing to prefer, the read goes on as ever."""
    peakiness = np.array([4.0, 5.0, 7.9])
    assert analysis_module.readable_leads(("I", "II", "V1"), [0, 1, 2], peakiness) == (
        [0, 1, 2],
        [],
    )
    kept, note = analysis_module.readable_leads(
        ("I", "II", "V1"), [0, 1, 2], np.array([30, 4.0, 9])
    )
    assert kept == [0, 2] and note and "II" in note[0]


@pytest.mark.parametrize("hr_bpm", [80.0, 90.0, 100.0])
def test_a_clean_lead_at_right_angles_to_the_axis_is_read_at_any_rate(hr_bpm: float) -> None:
    """A 12-lead audit: at 80-100 bpm lead III (axis +30, its QRS near flat, its P and T waves
    clean) was set aside as "an electrode off?", its peakiness lowered by the rate, so lead I
    inverted read "Right axis deviation, QRS axis +150°" unchecked by Einthoven's law."""
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=hr_bpm, axis_deg=30, qt_ms=360), duration_s=10.0
    )
    signal_mv = recording.signal_mv.copy()
    signal_mv[:, 0] *= -1  # lead I upside down
    read = analyze(Recording(recording.fs_hz, recording.lead_names, signal_mv))
    assert not [note for note in read.notes if "not read" in note]
    assert read.intervals.qrs_axis_deg is None
    assert "do not add up" in read.intervals.not_measurable["axis"]
    assert "RIGHT_AXIS" not in [f.code for f in read.findings]
    chunked = analyze_chunked(
        ArraySource(Recording(recording.fs_hz, recording.lead_names, signal_mv)), chunk_s=10
    )
    assert not [note for note in chunked.notes if "not read" in note]


def test_beat_coherence_tells_a_repeating_lead_from_noise() -> None:
    """Lead III at right angles to the axis repeats at every beat; a lead of noise does not, and
    stays set aside (`test_a_lead_that_is_noise_throughout_is_not_read`)."""
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=90, axis_deg=30, qt_ms=360), duration_s=10.0
    )
    band_mv = bandpass_mv(recording.signal_mv, recording.fs_hz, (5.0, 15.0))
    band_mv[:, 8] = np.random.default_rng(1).normal(0, 0.02, band_mv.shape[0])  # V2 noise
    _, peakiness = analysis_module.qrs_band_levels(band_mv)
    coherence = analysis_module.beat_coherence(band_mv, recording.fs_hz, peakiness)
    iii, v2 = recording.lead_names.index("III"), 8
    assert peakiness[iii] < analysis_module.NOISE_LIKE_PEAKINESS  # before: set aside
    assert coherence[iii] >= analysis_module.MIN_BEAT_COHERENCE > coherence[v2]
