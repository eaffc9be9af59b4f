"""A strip outside 50-100 bpm whose only departure from sinus rhythm is its rate, with a P
wave before every QRS, reads sinus tachycardia or bradycardia, not "Other rhythm"
(`ml.sinus_strip`); an inverted P wave in lead II, a rate from 150 bpm, irregular intervals or
no measured PR keep the other-rhythm call. A strip called sinus rhythm whose P waves are
inverted in lead II (PR of high confidence) is another rhythm."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.intervals import not_measured
from ml.recording import Recording
from ml.research.synthetic import BeatTruth, beats_in_leads_mv, synthetic_recording
from ml.sinus_strip import (
    HIDDEN_BLOCK,
    INVERTED_P_REASON,
    not_sinus_with_inverted_p_waves,
    sinus_at_its_rate,
)
from ml.strip_rhythm import (
    LABEL_TEXT,
    MODEL_ALONE_REASON,
    OTHER,
    SINUS,
    SUCCESSIVE_FEATURE,
    StripCall,
    median_rate,
)


def _other_call(
    rate_bpm: float,
    reason: str | None = None,
    p_consistency: float = 0.9,
    successive: float = 0.01,
):
    slow_or_fast = "fast" if rate_bpm > 100 else "slow"
    return StripCall(
        OTHER,
        LABEL_TEXT[OTHER],
        reason or f"{slow_or_fast} ({median_rate(rate_bpm)})",
        0.01,
        {
            "log_rate_bpm": float(np.log(rate_bpm)),
            "p_wave_consistency": p_consistency,
            SUCCESSIVE_FEATURE: float(np.log(successive + 1e-3)),
        },
    )


MEASURED = dataclasses.replace(not_measured("-"), pr_ms=152.0)


@pytest.mark.parametrize("rate_bpm", [45.0, 118.0, 149.0])
def test_another_rhythm_for_its_rate_alone_with_p_waves_is_sinus(rate_bpm: float) -> None:
    call = sinus_at_its_rate(_other_call(rate_bpm), MEASURED, 1)
    assert call.label == SINUS
    hidden_block = HIDDEN_BLOCK if rate_bpm < 50 else ""
    assert call.reason == (
        f"regular, {median_rate(rate_bpm)}, a P wave before every QRS (PR 152 ms){hidden_block}"
    )


def test_the_models_opinion_alone_on_a_regular_strip_with_p_waves_is_sinus() -> None:
    """A strip of sinus rhythm with a bundle-branch block read "Other rhythm: the features
    together do not look like plain sinus rhythm to the model"."""
    call = sinus_at_its_rate(_other_call(68.0, MODEL_ALONE_REASON), MEASURED, 1)
    assert call.label == SINUS
    assert call.reason == "regular, median rate 68 bpm, a P wave before every QRS (PR 152 ms)"


def test_a_strip_of_sinus_rhythm_with_a_bundle_branch_block_reads_sinus_rhythm() -> None:
    """A minute of two leads at 61 bpm, QRS 145 ms, T waves discordant, intervals varying 1.5 %
    beat to beat, read "Other rhythm: the features together do not look like plain sinus
    rhythm to the model"."""
    rng = np.random.default_rng(0)
    truth = BeatTruth(hr_bpm=61.0, qrs_ms=145.0, t_mv=-0.3, qt_ms=440.0)
    onsets_s = 0.4 + np.cumsum(np.r_[0.0, 60 / 61.0 * (1 + rng.normal(0, 0.015, 59))])
    signal_mv = beats_in_leads_mv(
        [(onset_s, truth) for onset_s in onsets_s if onset_s < 59.2], 60.0, 500.0,
        ("II", "V1"), 0.015, 0,
    )  # fmt: skip
    analysis = analyze(Recording(500.0, ("II", "V1"), signal_mv, source_format="synthetic"))
    assert analysis.rhythm_summary == "Sinus rhythm"
    assert [f.code for f in analysis.findings] == ["WIDE_QRS"]


@pytest.mark.parametrize(
    ("call", "intervals", "lead_ii"),
    [
        (_other_call(68.0, MODEL_ALONE_REASON, successive=0.08), MEASURED, 1),  # irregular
        (_other_call(68.0, MODEL_ALONE_REASON, p_consistency=0.6), MEASURED, 1),
        (_other_call(118.0), MEASURED, -1),  # inverted in II: ectopic atrial or junctional
        (_other_call(155.0), MEASURED, 1),  # flutter with 2:1 conduction looks alike
        (_other_call(118.0, p_consistency=0.6), MEASURED, 1),
        (_other_call(118.0), not_measured("no P wave"), 1),
        (_other_call(118.0, "fast (median rate 118 bpm), irregular RR intervals"), MEASURED, 1),
        (_other_call(80.0, "12% ectopic beats"), MEASURED, 1),
    ],
)
def test_anything_else_keeps_the_other_rhythm_call(call, intervals, lead_ii) -> None:
    assert sinus_at_its_rate(call, intervals, lead_ii) == call


def _strip(rate_bpm: float, p_mv: float, leads: tuple[str, ...] | None = None):
    truth = BeatTruth(hr_bpm=rate_bpm, qt_ms=400 * np.sqrt(60 / rate_bpm), t_duration_ms=150)
    truth = dataclasses.replace(truth, p_mv=p_mv)
    kwargs = {} if leads is None else {"leads": leads}
    recording, _ = synthetic_recording(truth, duration_s=10.0, fs_hz=500.0, seed=3, **kwargs)
    return analyze(recording)


@pytest.mark.parametrize(
    ("rate_bpm", "name"), [(120.0, "Sinus tachycardia"), (45.0, "Sinus bradycardia")]
)
def test_a_12_lead_strip_of_sinus_tachycardia_or_bradycardia_is_named_so(
    rate_bpm: float, name: str
) -> None:
    analysis = _strip(rate_bpm, 0.15)
    assert analysis.strip is not None and analysis.strip.text == name
    assert analysis.rhythm_summary == name
    assert "OTHER_RHYTHM" not in {f.code for f in analysis.findings}
    assert "a P wave before every QRS" in analysis.strip.reason


def test_an_inverted_p_wave_in_lead_ii_stays_another_rhythm_and_says_why() -> None:
    """It read "fast (median rate 120 bpm)" alone, where the same strip with upright P waves
    reads sinus tachycardia."""
    analysis = _strip(120.0, -0.15)
    assert analysis.strip is not None and analysis.strip.label == OTHER
    assert analysis.strip.reason == f"fast ({median_rate(120.0)}), {INVERTED_P_REASON}"
    assert "OTHER_RHYTHM" in {f.code for f in analysis.findings}


@pytest.mark.parametrize("rate_bpm", [70.0, 120.0])
def test_no_sinus_episode_under_a_call_of_inverted_p_waves(rate_bpm: float) -> None:
    """The episode table listed "Sinus rhythm 1.3-9.3 s" below the strip's call "Other rhythm
    ... P waves inverted in lead II" (an audit of the 12-lead path)."""
    analysis = _strip(rate_bpm, -0.15)
    assert analysis.strip is not None and INVERTED_P_REASON in analysis.strip.reason
    labels = {e.label for e in analysis.episodes}
    assert not labels & {rhythm.SINUS, rhythm.BRADY, rhythm.TACHY}, labels


@pytest.mark.parametrize(
    ("call", "intervals", "reason"),
    [
        (_other_call(118.0), None, f"fast ({median_rate(118.0)}), {INVERTED_P_REASON}"),
        (_other_call(45.0), None, f"slow ({median_rate(45.0)}), {INVERTED_P_REASON}"),
        (_other_call(68.0, MODEL_ALONE_REASON), None, f"{median_rate(68.0)}, {INVERTED_P_REASON}"),
        (_other_call(118.0), MEASURED, None),  # a P onset of low confidence: unchanged
        (_other_call(155.0), None, None),  # flutter or another SVT looks alike: unchanged
        (_other_call(80.0, "12% ectopic beats"), None, None),
    ],
)
def test_a_confident_inverted_p_wave_is_the_reason_of_an_other_call_for_its_rate(
    call, intervals, reason
) -> None:
    read = not_sinus_with_inverted_p_waves(call, intervals or HIGH, -1)
    assert read.label == OTHER and read.reason == (reason or call.reason)


def test_a_12_lead_strip_with_p_waves_inverted_in_lead_ii_is_not_sinus_rhythm() -> None:
    """An ectopic atrial rhythm at 75 bpm read "Sinus rhythm", "No significant arrhythmia"."""
    ectopic, sinus = _strip(75.0, -0.15), _strip(75.0, 0.15)
    assert ectopic.strip is not None and ectopic.strip.label == OTHER
    assert ectopic.strip.reason == f"median rate 75 bpm, {INVERTED_P_REASON}"
    assert [f.code for f in ectopic.findings] == ["OTHER_RHYTHM"]
    assert sinus.strip is not None and sinus.strip.label == SINUS
    assert [f.code for f in sinus.findings] == ["NORMAL"]


SINUS_CALL = StripCall(
    SINUS,
    LABEL_TEXT[SINUS],
    "regular, median rate 75 bpm",
    0.01,
    {"log_rate_bpm": float(np.log(75.0)), "p_wave_consistency": 0.9},
)
HIGH = dataclasses.replace(MEASURED, confidence={"pr": "high"})


@pytest.mark.parametrize(
    ("intervals", "lead_ii", "stays"),
    [(HIGH, -1, False), (HIGH, 1, True), (HIGH, None, True), (MEASURED, -1, True)],
)
def test_only_a_confident_inverted_p_wave_undoes_a_sinus_call(intervals, lead_ii, stays) -> None:
    """One lead's P onset can be a T wave's end (MIT-BIH 109, LBBB: low confidence)."""
    assert (not_sinus_with_inverted_p_waves(SINUS_CALL, intervals, lead_ii) == SINUS_CALL) == stays
