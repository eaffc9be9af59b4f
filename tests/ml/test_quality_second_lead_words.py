"""The quality lines say whose beats were read where the analysis lead is worse than another,
good, lead (`ml.quality.combine_leads`, `ml.analysis.quality_words`). A noise audit: MIT-BIH 116
with electrode-motion noise on MLII only read a false 1-s VT and bigeminy from MLII's beats,
while every segment said "lead MLII noisy (...); read from lead V1" and the page "3 % of the
recording is of good quality", though V1 was clean throughout. Only where the analysis lead is
unusable are the other lead's beats read (`ml.analysis._follow_readable_lead`)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ml.analysis import analyze, quality_words
from ml.quality import (
    Segment,
    another_lead_good,
    combine_leads,
    good_in_another_lead,
    noisy_spans_s,
)
from ml.research.synthetic import BeatTruth, synthetic_recording


def test_a_noisy_analysis_lead_is_checked_against_the_good_lead_not_read_from_it() -> None:
    analysis_lead = [
        Segment(0.0, 10.0, "noisy", "muscle or mains noise"),
        Segment(10.0, 20.0, "unusable", "heavy artefact"),
        Segment(20.0, 30.0, "good"),
        Segment(30.0, 40.0, "noisy", "muscle or mains noise"),
    ]
    other_lead = [Segment(s.start_s, s.end_s, "good") for s in analysis_lead[:3]]
    other_lead.append(Segment(30.0, 40.0, "noisy", "motion artefact"))
    combined = combine_leads({"MLII": analysis_lead, "V1": other_lead})
    assert [s.reason for s in combined] == [
        "lead MLII noisy (muscle or mains noise); lead V1 good: beats checked against it",
        "lead MLII unusable (heavy artefact); read from lead V1",
        "",
        "muscle or mains noise",
    ]
    assert [another_lead_good(s) for s in combined] == [True, True, False, False]
    assert good_in_another_lead(combined) == {"V1": 0.5}
    assert noisy_spans_s(combined) == [(30.0, 40.0)]  # both lead-worse segments count as read


def test_the_quality_line_says_where_another_lead_is_good() -> None:
    assert quality_words(0.25, []) == "25 % of the recording is of good quality."
    assert quality_words(0.03, [], {"V1": 0.97}) == (
        "3 % of the recording is of good quality in the lead analysed; "
        "lead V1 is good over a further 97 %."
    )
    assert quality_words(0.0, [], {"V1": 0.001}).endswith("a further 1 %.")
    assert quality_words(0.0, [], {"V1": 0.9999}).endswith("a further 99 %.")


def test_muscle_noise_on_the_analysis_lead_alone_is_said_as_read() -> None:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=72), duration_s=60, fs_hz=250, leads=("II", "V1"), seed=3
    )
    signal = recording.signal_mv.copy()
    signal[:, 0] += np.random.default_rng(0).normal(0, 0.1, len(signal))
    read = analyze(dataclasses.replace(recording, signal_mv=signal))
    reasons = {s.reason for s in read.flagged_segments}
    assert reasons == {
        "lead II noisy (muscle or mains noise); lead V1 good: beats checked against it"
    }
    assert read.quality_words == (
        "0 % of the recording is of good quality in the lead analysed; "
        "lead V1 is good over a further 100 %."
    )
    assert read.beat_counts["V"] == 0 and read.beat_counts["N"] >= 68, read.beat_counts
