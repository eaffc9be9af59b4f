"""A short strip gets one rhythm call; long recordings get consolidated episodes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from ml import quality, rhythm, strip_rhythm
from ml.analysis import analyze
from ml.filters import bandpass_mv
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import data_root
from ml.research.synthetic import (
    BeatTruth,
    sinus_or_af_mv,
    synthetic_recording,
    synthetic_rhythm_mv,
)
from ml.strip_rhythm import (
    AF,
    AF_EXCLUDING_P_WAVE_CONSISTENCY,
    LINEAR,
    OTHER,
    QUADRATIC,
    RULE_FILE,
    SINUS,
    STRIP_FEATURE_NAMES,
    SUCCESSIVE_FEATURE,
    UNCLASSIFIABLE,
    StripRule,
    WindowGates,
    call_strip,
    quadratic_terms,
)
from ml.training.strips import fit_logistic, fit_weights

FS_HZ = 300.0


def _strip(af: bool, seconds: float = 30.0, seed: int = 3) -> Recording:
    rng = np.random.default_rng(seed)
    n = int(seconds / 0.75)
    rr_s = rng.uniform(0.45, 1.1, n) if af else 0.85 + rng.normal(0, 0.01, n)
    signal_mv, _ = sinus_or_af_mv(rr_s, af=af, fs_hz=FS_HZ, seed=seed)
    return Recording(FS_HZ, ("I",), signal_mv[: int(seconds * FS_HZ), None])


@pytest.mark.parametrize("seed", [1, 2])
def test_short_af_strip_is_called_af_for_the_whole_strip(seed: int) -> None:
    analysis = analyze(_strip(af=True, seed=seed))
    assert analysis.strip is not None and analysis.strip.label == AF
    assert analysis.rhythm_summary == "Atrial fibrillation/flutter"
    assert analysis.main_finding.code == "AF"
    af = [e for e in analysis.episodes if e.label == rhythm.AF]
    assert len(af) == 1 and af[0].duration_s > 25
    assert not any(e.label in (rhythm.DROPPED, rhythm.SINUS) for e in analysis.episodes)
    # HRV describes sinus rhythm only; there is none here.
    assert analysis.heart_rate.sdnn_ms is None


def test_a_strip_keeps_bigeminy_or_trigeminy_not_both() -> None:
    beat_s = np.arange(0.5, 30.0, 0.8)
    bigeminy = rhythm.Episode(rhythm.BIGEMINY, 2.0, 9.0, 10)
    trigeminy = rhythm.Episode(rhythm.TRIGEMINY, 15.0, 19.0, 6)
    sinus = rhythm.Episode(rhythm.SINUS, 0.5, 29.7, 37)
    kept = rhythm.strip_episodes([sinus, bigeminy, trigeminy], "other", beat_s)
    assert bigeminy in kept and trigeminy not in kept and sinus in kept
    longer = rhythm.Episode(rhythm.TRIGEMINY, 12.0, 26.0, 18)
    kept = rhythm.strip_episodes([sinus, bigeminy, longer], "sinus", beat_s)
    assert longer in kept and bigeminy not in kept


def test_an_af_strip_lists_no_other_rhythm_beside_its_af() -> None:
    """One call, one rhythm: an AF strip had listed a 7-s "Paced or unclassifiable rhythm"
    inside its AF (found by fuzzing analyze() with spikes); VF and pauses stay."""
    beat_s = np.arange(0.5, 30.0, 0.7)
    paced = rhythm.Episode(rhythm.PACED, 3.0, 10.0, 10)
    pause = rhythm.Episode(rhythm.PAUSE, 12.0, 14.5, 2)
    vf = rhythm.Episode(rhythm.VF, 20.0, 26.0, 0)
    kept = rhythm.strip_episodes([paced, pause, vf], "af", beat_s)
    assert {e.label for e in kept} == {rhythm.AF, rhythm.PAUSE, rhythm.VF}
    # The AF runs around the VF, not over it: from the first beat to the last of each part.
    af = [(e.start_s, e.end_s) for e in kept if e.label == rhythm.AF]
    before, after = beat_s[beat_s < 20.0], beat_s[beat_s > 26.0]
    assert af == [(0.5, pytest.approx(before[-1])), (pytest.approx(after[0]), pytest.approx(29.9))]


def test_a_60_s_strip_that_runs_a_little_over_is_still_one_strip() -> None:
    """Handheld recorders' 60-s recordings run a fraction of a second over (cinc2017: 60.2-60.6
    s); they get the whole-strip call, and a recording past 61 s is read as episodes."""
    strip = analyze(_strip(af=False, seconds=60.6))
    assert strip.strip is not None and strip.strip.label == SINUS
    longer = analyze(_strip(af=False, seconds=61.5))
    assert longer.strip is None
    assert longer.rhythm_summary == "Sinus rhythm"


def test_a_sinus_strip_is_named_by_its_rate_only_where_both_rates_agree() -> None:
    def call(label: str, strip_bpm: float) -> strip_rhythm.StripCall:
        features = {"log_rate_bpm": float(np.log(strip_bpm))}
        return strip_rhythm.StripCall(label, strip_rhythm.LABEL_TEXT[label], "", 0.1, features)

    assert strip_rhythm.named_by_rate(call(SINUS, 55.0), 56.0).text == "Sinus bradycardia"
    assert strip_rhythm.named_by_rate(call(SINUS, 75.0), 74.0).text == "Sinus rhythm"
    # The reason says 58 bpm, the page a mean of 61 (ectopic or extra beats): neither name
    # may contradict what the doctor reads beside it.
    assert strip_rhythm.named_by_rate(call(SINUS, 58.0), 61.0).text == "Sinus rhythm"
    assert strip_rhythm.named_by_rate(call(SINUS, 59.6), 59.0).text == "Sinus rhythm"  # "60 bpm"
    other = call(strip_rhythm.OTHER, 45.0)
    assert strip_rhythm.named_by_rate(other, 45.0) == other


def test_a_strip_called_sinus_bradycardia_lists_no_sinus_rhythm_episode() -> None:
    """A 10-s strip's stretch is always shorter than the 10 s a stretch needs to be named by
    its own rate, so its table read "Sinus rhythm" under "Sinus bradycardia (regular, median
    rate 48 bpm)" (MIT-BIH 124, 60-70 s; an audit): it takes the call's name."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=48.0), duration_s=10.0, leads=("II",))
    analysis = analyze(recording)
    assert analysis.strip is not None and analysis.strip.text == rhythm.BRADY
    assert [e.label for e in analysis.episodes] == [rhythm.BRADY]


def test_a_short_strip_called_sinus_tachycardia_finds_sinus_tachycardia() -> None:
    """Its stretch was named after the findings read it as sinus rhythm: 10-s strips of MIT-BIH
    215 at 109-112 bpm read "No significant arrhythmia", prefilled as a "Normal ECG" that the
    signing rule refuses at that rate (an audit)."""
    qt_ms = 400.0 * np.sqrt(60.0 / 110.0)  # QTc 400 ms: the T wave ends before the P wave
    truth = BeatTruth(hr_bpm=110.0, qt_ms=qt_ms, t_duration_ms=qt_ms - 130.0)
    recording, _ = synthetic_recording(truth, duration_s=10.0, leads=("I", "II", "III"))
    analysis = analyze(recording)
    assert analysis.strip is not None and analysis.strip.text == rhythm.TACHY
    assert analysis.main_finding.code == "TACHY"
    assert "NORMAL" not in [f.code for f in analysis.findings]


def test_a_strip_call_names_its_short_sinus_stretches_only() -> None:
    tachycardia = rhythm.Episode(rhythm.TACHY, 1.0, 40.0, 79)
    short = rhythm.Episode(rhythm.SINUS, 41.0, 48.0, 15)  # joins the tachycardia before it
    named = rhythm.named_as_the_strip([tachycardia, short], rhythm.TACHY)
    assert named == [rhythm.Episode(rhythm.TACHY, 1.0, 48.0, 94)]
    long_sinus = rhythm.Episode(rhythm.SINUS, 42.0, 59.0, 35)  # named by its own rate
    assert rhythm.named_as_the_strip([tachycardia, long_sinus], rhythm.TACHY) == [
        tachycardia,
        long_sinus,
    ]
    assert rhythm.named_as_the_strip([short], rhythm.SINUS) == [short]


def test_a_strip_called_another_rhythm_names_its_short_sinus_stretch_by_its_nn_rate() -> None:
    # MIT-BIH 209, 420-430 s: atrial tachycardia called N at 161 bpm, "Other rhythm ... fast".
    beat_s = 1.6 + 0.373 * np.arange(22)
    classes = np.array(["N"] * 22)
    stretch = rhythm.Episode(rhythm.SINUS, float(beat_s[0]), float(beat_s[-1]), 22)
    other = "Other rhythm (not normal sinus rhythm, not atrial fibrillation)"
    named = rhythm.named_as_the_strip([stretch], other, beat_s, classes)
    assert [e.label for e in named] == [rhythm.TACHY]
    # Too few NN intervals (every other beat ventricular): no rate name.
    alternating = np.array(["N", "V"] * 11)
    assert rhythm.named_as_the_strip([stretch], other, beat_s, alternating) == [stretch]
    # A sinus call keeps its own rule: its text already weighed the strip's rates.
    assert rhythm.named_as_the_strip([stretch], rhythm.SINUS, beat_s, classes) == [stretch]


@pytest.mark.parametrize("seed", [1, 2])
def test_short_sinus_strip_is_called_sinus(seed: int) -> None:
    analysis = analyze(_strip(af=False, seed=seed))
    assert analysis.strip is not None and analysis.strip.label == SINUS
    assert analysis.rhythm_summary == "Sinus rhythm"
    assert not any(e.label == rhythm.AF for e in analysis.episodes)
    # HRV norms are for at least 5 minutes; a strip gives the rate and says why no HRV.
    assert analysis.heart_rate.sdnn_ms is None and analysis.heart_rate.mean_bpm is not None
    assert "HRV needs a recording of about 5 minutes" in (analysis.heart_rate.hrv_reason or "")


def test_a_strip_drowned_in_noise_is_unclassifiable_with_no_beat_findings() -> None:
    clean = _strip(af=False)
    rng = np.random.default_rng(0)
    noisy_mv = clean.signal_mv + np.cumsum(rng.normal(0, 0.4, clean.signal_mv.shape), axis=0) * 0.05
    noisy_mv += rng.normal(0, 1.0, noisy_mv.shape)
    analysis = analyze(Recording(FS_HZ, ("I",), noisy_mv))
    assert analysis.strip is not None and analysis.strip.label == UNCLASSIFIABLE
    assert analysis.main_finding.code == "NOISY_STRIP"
    assert "repeat" in analysis.main_finding.detail
    assert {f.code for f in analysis.findings} <= {"NOISY_STRIP", "VF"}


def test_too_few_beats_is_unclassifiable_not_a_guess() -> None:
    call = call_strip(np.zeros(3000), FS_HZ, np.array([100, 400, 700]), np.array(list("NNN")))
    assert call.label == UNCLASSIFIABLE and "beats" in call.reason


def test_a_clean_strip_with_a_beat_every_4_s_is_slow_not_noisy() -> None:
    """Eight beats in 30 s of clean signal: too few to judge the rhythm, but no noise either.
    It read "Unclassifiable: too noisy; repeat the recording" at medium risk, with its 4-s
    pauses withheld; now it is a slow other rhythm with its pauses, high risk."""
    signal_mv, _ = sinus_or_af_mv(np.full(7, 4.0), af=False, fs_hz=FS_HZ)
    analysis = analyze(Recording(FS_HZ, ("I",), signal_mv[:, None]))
    assert analysis.strip is not None and analysis.strip.label == OTHER
    assert analysis.strip.reason.startswith("slow (median rate 15 bpm), 8 beats")
    assert analysis.main_finding.code == "PAUSE" and analysis.main_finding.risk == "high"
    # Intervals of 4 s are beyond what a rate is counted from elsewhere (2.5 s: longer ones
    # are missed beats), but this call vouched for the signal: the rate is the strip's, 15 bpm,
    # where it read "not measurable" beside "slow (15 bpm)", and the marked bradycardia is said.
    rate = analysis.heart_rate
    assert rate.mean_bpm == pytest.approx(15.0, abs=0.5) and rate.rate_reason is None
    assert rate.min_bpm == pytest.approx(15.0, abs=0.5) and rate.sdnn_ms is None
    assert "Average heart rate 15 bpm (range 15-15)." in analysis.notes
    [other] = [f for f in analysis.findings if f.code == "OTHER_RHYTHM"]
    assert other.risk == "high" and "marked bradycardia, mean 15 bpm" in other.detail
    # Few beats at a normal rate (a short strip), or in poor signal, stay unclassifiable.
    beats = np.array([300, 600, 900])
    good = [(0.0, 10.0)]
    assert call_strip(
        np.zeros(3000), FS_HZ, beats, np.array(list("NNN")), None, None, good
    ).label == (UNCLASSIFIABLE)
    slow = np.array([300, 1500, 2700])
    half = [(0.0, 5.0)]
    assert call_strip(
        np.zeros(3000), FS_HZ, slow, np.array(list("NNN")), None, None, half
    ).label == (UNCLASSIFIABLE)
    assert call_strip(
        np.zeros(3000), FS_HZ, slow, np.array(list("NNN")), None, None, good
    ).label == (OTHER)


def test_a_clean_strip_with_a_pause_and_few_beats_shows_its_pause_not_noise() -> None:
    """Seven beats at 71 bpm around a 3.6-s pause on a clean 10-s strip: too few intervals to
    judge the rhythm, but neither slow nor noisy. It read "Unclassifiable: too noisy; repeat
    the recording", its pause withheld; now another rhythm whose reason and finding say the
    pause, with the strip's rate."""
    rr_s = np.array([0.85, 0.85, 0.85, 3.6, 0.85, 0.85])
    signal_mv, _ = sinus_or_af_mv(rr_s, af=False, fs_hz=FS_HZ)
    analysis = analyze(Recording(FS_HZ, ("II",), signal_mv[:, None]))
    assert analysis.strip is not None and analysis.strip.label == OTHER
    assert analysis.strip.reason == "a pause of 3.6 s, 7 beats: too few to judge the rhythm"
    assert analysis.main_finding.code == "PAUSE" and analysis.main_finding.risk == "high"
    assert "longest 3.6 s" in analysis.main_finding.detail
    assert "NOISY_STRIP" not in {f.code for f in analysis.findings}
    assert analysis.heart_rate.mean_bpm is not None
    # The same beats in poor signal stay unclassifiable: the pause could be missed beats.
    beats = np.round(np.cumsum([0.5, *rr_s]) * FS_HZ).astype(int)
    poor = [(0.0, 4.0)]
    call = call_strip(np.zeros(3600), FS_HZ, beats, np.array(list("NNNNNNN")), None, None, poor)
    assert call.label == UNCLASSIFIABLE


def test_a_marked_bradycardia_under_fast_noise_is_slow_not_too_noisy() -> None:
    """Six beats at 38 bpm on a 10-s strip at 1000 Hz with 0.04 mV of broadband noise: at so
    few QRS complexes that noise flags the strip "muscle or mains noise", and it read
    "Unclassifiable: too noisy, repeat the recording", the marked bradycardia unsaid. The
    beats stand clear of the noise (nothing between them comes near), so they are all there
    is: a slow other rhythm with its bradycardia."""
    fs_hz = 1000.0
    onsets_s = np.arange(0.5, 9.6, 60 / 38)
    truth = BeatTruth(hr_bpm=38, qt_ms=480)
    signal_mv = synthetic_rhythm_mv(
        onsets_s, duration_s=10, fs_hz=fs_hz, truth=truth, noise_mv=0.04, seed=3
    )
    analysis = analyze(Recording(fs_hz, ("II",), signal_mv[:, None]))
    assert [s.reason for s in analysis.quality] == ["muscle or mains noise"]
    assert analysis.strip is not None and analysis.strip.label == OTHER
    assert analysis.strip.reason.startswith("slow (median rate 38 bpm), 6 beats: too few")
    assert "NOISY_STRIP" not in {f.code for f in analysis.findings}
    [other] = [f for f in analysis.findings if f.code == "OTHER_RHYTHM"]
    assert "marked bradycardia, mean 38 bpm" in other.detail
    # A beat the detector missed (or noise that could hide one) stands out between the beats.
    beats = analysis.beats.samples
    assert strip_rhythm.beats_stand_clear(signal_mv, fs_hz, beats)
    assert not strip_rhythm.beats_stand_clear(signal_mv, fs_hz, np.delete(beats, 2))
    call = call_strip(
        signal_mv, fs_hz, np.delete(beats, 2), np.array(list("NNNNN")), None, None, [],
        None, [(0.0, 10.0)],
    )  # fmt: skip
    assert call.label == UNCLASSIFIABLE


@pytest.mark.parametrize("rr_s", [0.65, 0.75])
def test_a_clean_sinus_strip_with_one_pause_is_not_atrial_fibrillation(rr_s: float) -> None:
    """Regular sinus beats with a P wave before each, and one 3.5-s pause, on a 10-s strip:
    the rule's intervals, and the beats around the pause the classifier calls S, read
    "Atrial fibrillation/flutter" at high risk. A P wave that consistent rules AF out."""
    onsets_s = 0.45 + np.cumsum([0.0] + [rr_s] * 4 + [3.5] + [rr_s] * 3)
    signal_mv = synthetic_rhythm_mv(onsets_s[onsets_s < 9.2], duration_s=10.0, fs_hz=FS_HZ)
    analysis = analyze(Recording(FS_HZ, ("II",), signal_mv[:, None]))
    assert analysis.strip is not None and analysis.strip.label == SINUS
    assert analysis.strip.features["p_wave_consistency"] >= AF_EXCLUDING_P_WAVE_CONSISTENCY
    assert analysis.main_finding.code == "PAUSE"
    assert "AF" not in {f.code for f in analysis.findings}
    assert not any(e.label == rhythm.AF for e in analysis.episodes)


def test_regular_intervals_rule_af_out_on_a_strip_but_not_in_a_window() -> None:
    """A 15-s sinus strip at 100 Hz under noise with one 4.2-s pause (fuzzer case): P-wave
    consistency 0.78, successive differences 3 % of the RR, but half its beats called S, and
    the rule said AF at 0.99. Its own words call those intervals regular: not AF. A long
    recording's 30-s windows keep their own gates (`WindowGates`)."""
    features = {
        "log_pattern_irregularity": -3.479,
        "log_rmssd_over_rr": -3.254,
        "log_median_successive_difference_over_rr": -3.471,
        "p_wave_consistency": 0.784,
        "ectopic_share": 0.5,
        "log_rate_bpm": 4.502,
        "coefficient_of_sample_entropy": 3.812,
        "share_of_successive_differences_over_50ms": 0.0,
        "log_beat_residual": -1.302,
        "log_p_wave_snr": 1.417,
        "log_p_wave_over_qrs": -1.954,
        "premature_then_pause_share": 0.0,
        "ventricular_share": 0.0,
        "supraventricular_share": 0.5,
    }
    rule = strip_rhythm.shipped_rule()
    call = strip_rhythm.call_strip_from_features(features, rule)
    assert call.label != AF and call.af_probability is not None
    assert call.af_probability >= rule.af_threshold  # the rule alone says AF
    assert strip_rhythm.call_strip_from_features(features, rule, whole_strip=False).label == AF
    irregular = {**features, "log_median_successive_difference_over_rr": float(np.log(0.08))}
    assert strip_rhythm.call_strip_from_features(irregular, rule).label == AF


def test_the_rule_file_carries_its_out_of_fold_figures() -> None:
    card = json.loads(RULE_FILE.read_text())
    assert card["out_of_fold"]["n_recordings"] >= 1000
    assert 0 < card["out_of_fold"]["af"]["se"] <= 1
    assert 0 < card["rule"]["af_threshold"] < 1


def test_a_quadratic_rule_reads_its_fitted_terms_and_survives_its_file() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 1.0, -2.0, 5.0]
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    target = ((z[:, 0] * z[:, 1] + z[:, 2] ** 2 + rng.normal(0, 0.3, 400)) > 1).astype(float)
    mean, scale, coef, intercept = fit_weights(x, target, QUADRATIC, l2=1.0)
    features = STRIP_FEATURE_NAMES[:4]
    rule = StripRule(mean, scale, coef, intercept, 0.5, 1.0, features, QUADRATIC)
    # The folded weights give the probabilities of the logistic fitted on the standardised
    # terms, and the file keeps the terms.
    terms = quadratic_terms((x - mean) / scale)
    t_mean, t_scale, t_coef, t_intercept = fit_logistic(terms, target, l2=1.0)
    expected = 1 / (1 + np.exp(-(((terms - t_mean) / t_scale) @ t_coef + t_intercept)))
    assert np.allclose(rule.af_probability(x), expected, atol=1e-9)
    assert coef.size == 4 + 4 + 6
    again = StripRule.from_dict(json.loads(json.dumps(rule.to_dict())))
    assert again.terms == QUADRATIC and np.allclose(again.af_probability(x), expected, atol=1e-9)
    # A linear model cannot read an interaction: the quadratic one separates it better.
    linear = StripRule(*fit_weights(x, target, LINEAR, l2=1.0), 0.5, 1.0, features)
    accuracy = {
        name: float(np.mean((r.af_probability(x) >= 0.5) == target.astype(bool)))
        for name, r in (("linear", linear), ("quadratic", rule))
    }
    assert accuracy["quadratic"] > accuracy["linear"] + 0.1


def test_adjacent_episodes_merge_and_short_rate_stretches_read_as_sinus() -> None:
    episodes = [
        rhythm.Episode(rhythm.SINUS, 0, 100, 100),
        rhythm.Episode(rhythm.TACHY, 100, 101.4, 3),  # 1.4 s of "tachycardia"
        rhythm.Episode(rhythm.SINUS, 101.4, 200, 100),
        rhythm.Episode(rhythm.BRADY, 200, 260, 50),
        rhythm.Episode(rhythm.AF, 300, 400, 150),
        rhythm.Episode(rhythm.DROPPED, 350, 352, 2),  # inside AF: every interval is irregular
        rhythm.Episode(rhythm.AF, 401, 500, 150),
    ]
    merged = rhythm.consolidate(episodes)
    labels = [(e.label, e.start_s, e.end_s) for e in merged]
    assert (rhythm.SINUS, 0, 200) in labels
    assert (rhythm.BRADY, 200, 260) in labels  # 60 s: a real bradycardia
    assert (rhythm.AF, 300, 500) in labels
    assert not any(e.label in (rhythm.TACHY, rhythm.DROPPED) for e in merged)


def test_short_sinus_rhythm_inside_a_bradycardia_or_tachycardia_is_part_of_it() -> None:
    """A rate hovering at 60 bpm crosses back for a few beats; that ends no bradycardia."""
    episodes = [
        rhythm.Episode(rhythm.SINUS, 0, 100, 100),
        rhythm.Episode(rhythm.BRADY, 100, 130, 28),
        rhythm.Episode(rhythm.SINUS, 130, 134, 4),  # 4 s at 60-62 bpm
        rhythm.Episode(rhythm.BRADY, 134, 160, 25),
        rhythm.Episode(rhythm.SINUS, 160, 175, 16),  # 15 s: sinus rhythm in its own right
        rhythm.Episode(rhythm.BRADY, 175, 200, 24),
        rhythm.Episode(rhythm.SINUS, 200, 205, 5),  # between bradycardia and tachycardia
        rhythm.Episode(rhythm.TACHY, 205, 230, 45),
        rhythm.Episode(rhythm.SINUS, 230, 236, 9),
        rhythm.Episode(rhythm.TACHY, 236, 260, 45),
        rhythm.Episode(rhythm.PAUSE, 131, 133.5, 2),  # another layer: untouched
    ]
    labels = [(e.label, e.start_s, e.end_s) for e in rhythm.consolidate(episodes)]
    assert labels == [
        (rhythm.SINUS, 0, 100),
        (rhythm.BRADY, 100, 160),
        (rhythm.PAUSE, 131, 133.5),
        (rhythm.SINUS, 160, 175),
        (rhythm.BRADY, 175, 200),
        (rhythm.SINUS, 200, 205),
        (rhythm.TACHY, 205, 260),
    ]
    bridged = next(e for e in rhythm.consolidate(episodes) if e.start_s == 100)
    assert bridged.n_beats == 28 + 4 + 25 - 2  # the beats where the stretches meet, once


def test_overview_lists_at_most_twenty_and_counts_the_rest() -> None:
    episodes = [rhythm.Episode(rhythm.SINUS, 0, 3000, 3000)] + [
        rhythm.Episode(rhythm.SVT, 10 * i, 10 * i + 2, 4) for i in range(30)
    ]
    view = rhythm.overview(episodes)
    assert len(view["listed"]) == 20
    assert view["more_by_label"] == {rhythm.SVT: 10, rhythm.SINUS: 1}  # arrhythmias first
    assert view["listed"] == sorted(view["listed"])


def test_headline_names_the_main_finding_when_it_is_not_the_dominant_rhythm() -> None:
    episodes = [
        rhythm.Episode(rhythm.BRADY, 0, 1200, 900),
        rhythm.Episode(rhythm.AF, 1200, 1800, 700),
    ]
    assert rhythm.headline(episodes, rhythm.AF) == (
        "Sinus bradycardia with atrial fibrillation/flutter (10.0 min)"
    )
    # AF of 30 s or more beside another main finding is named too (`rhythm._af_beside`).
    assert rhythm.headline(episodes, rhythm.BRADY) == (
        "Sinus bradycardia with atrial fibrillation/flutter (10.0 min)"
    )
    assert rhythm.headline(episodes[:1], rhythm.BRADY) == "Sinus bradycardia"


def test_mostly_af_with_stretches_of_sinus_rhythm_names_both() -> None:
    # Paroxysmal AF the other way round (MIT-BIH 219): the sinus stretches, at any rate, are
    # named once they add up to the minimum an AF episode needs (30 s).
    af, sinus, brady = rhythm.AF, rhythm.SINUS, rhythm.BRADY
    episodes = [
        rhythm.Episode(af, 0, 900, 1100),
        rhythm.Episode(sinus, 900, 1010, 130),
        rhythm.Episode(brady, 1010, 1100, 80),
        rhythm.Episode(af, 1100, 1800, 900),
    ]
    assert (
        rhythm.headline(episodes, af) == "Atrial fibrillation/flutter with sinus rhythm (3.3 min)"
    )
    short = [rhythm.Episode(af, 0, 1780, 2000), rhythm.Episode(sinus, 1780, 1800, 25)]
    assert rhythm.headline(short, af) == "Atrial fibrillation/flutter"
    # Another main finding keeps the headline's other form.
    assert rhythm.headline(episodes, rhythm.PAUSE) == "Atrial fibrillation/flutter with pause"


def test_sinus_rhythm_at_any_rate_is_one_rhythm_against_af() -> None:
    # 1.5 min of sinus rhythm and 1.3 min of sinus bradycardia outlast 2.3 min of AF.
    episodes = [
        rhythm.Episode(rhythm.AF, 0, 140, 170),
        rhythm.Episode(rhythm.SINUS, 140, 230, 110),
        rhythm.Episode(rhythm.BRADY, 230, 310, 70),
    ]
    assert rhythm.dominant_rhythm(episodes)[0] == rhythm.SINUS
    assert rhythm.dominant_rhythm(episodes)[1] == pytest.approx(170 / 310)
    assert rhythm.headline(episodes, rhythm.AF) == (
        "Sinus rhythm with atrial fibrillation/flutter (2.3 min)"
    )


def test_af_in_the_middle_of_a_long_recording_is_found_by_its_windows() -> None:
    rng = np.random.default_rng(7)
    sinus = 0.85 + rng.normal(0, 0.01, 140)
    af = rng.uniform(0.45, 1.1, 240)
    rr_s = np.concatenate([sinus, af, sinus])
    onsets_s = 0.5 + np.concatenate([[0.0], np.cumsum(rr_s)])
    sinus_mv, _ = sinus_or_af_mv(rr_s, af=False, fs_hz=FS_HZ, seed=7)
    af_mv, _ = sinus_or_af_mv(rr_s, af=True, fs_hz=FS_HZ, seed=7)
    start_s, end_s = onsets_s[140], onsets_s[380]
    signal = sinus_mv.copy()
    span = slice(int(start_s * FS_HZ) - 60, int(end_s * FS_HZ) - 60)
    signal[span] = af_mv[span]
    analysis = analyze(Recording(FS_HZ, ("I",), signal[:, None]))
    assert analysis.strip is None  # over 60 s: episodes, not one call
    af_episodes = [e for e in analysis.episodes if e.label == rhythm.AF]
    assert af_episodes
    found_s = sum(max(0.0, min(e.end_s, end_s) - max(e.start_s, start_s)) for e in af_episodes)
    assert found_s > 0.8 * (end_s - start_s)
    assert sum(e.duration_s for e in af_episodes) < 1.3 * (end_s - start_s)
    assert analysis.main_finding.code == "AF"
    assert "atrial fibrillation" in analysis.rhythm_summary.lower()


def test_a_regular_rhythm_without_p_waves_is_not_called_af() -> None:
    # A paced or junctional rhythm: no P waves (the atrial activity is unrelated), RR steady.
    rng = np.random.default_rng(11)
    rr_s = 0.84 + rng.normal(0, 0.01, 360)
    signal_mv, _ = sinus_or_af_mv(rr_s, af=True, fs_hz=FS_HZ, seed=11)
    analysis = analyze(Recording(FS_HZ, ("I",), signal_mv[:, None]))
    assert not [e for e in analysis.episodes if e.label == rhythm.AF]
    gates = WindowGates(min_successive_difference=-3.0)
    steady = {"ectopic_share": 0.0, SUCCESSIVE_FEATURE: float(np.log(0.02 + 1e-3))}
    irregular = {"ectopic_share": 0.0, SUCCESSIVE_FEATURE: float(np.log(0.2 + 1e-3))}
    assert not gates.admit(steady) and gates.admit(irregular)
    assert WindowGates().admit(steady)  # no gate: every call counts


def test_the_irregularity_gate_drops_steady_windows_of_a_paced_record(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # MIT-BIH 107 (paced, outside DS1 and DS2): no P waves, RR varying by about 6 %.
    recording = read_recording([data_root() / "mitdb" / "107.hea"])
    analysis = analyze(recording)
    lead_mv = recording.signal_mv[:, recording.lead_names.index(analysis.analysis_lead)]
    args = (lead_mv, recording.fs_hz, analysis.beats.samples, analysis.beats.classes)
    gated = strip_rhythm.af_window_spans_s(*args)
    monkeypatch.setattr(strip_rhythm, "window_gates", lambda: WindowGates())
    ungated = strip_rhythm.af_window_spans_s(*args)
    assert set(gated) < set(ungated) and len(gated) <= 0.6 * len(ungated)


def test_normal_beat_irregularity_sees_through_frequent_ectopy() -> None:
    """AF round 3's input: sinus rhythm with a premature ventricular beat every third beat is
    irregular over all intervals but regular between normal beats; AF is irregular in both;
    with too few normal-to-normal intervals the figure falls back to all intervals."""
    from ml.strip_rhythm import nn_irregularity

    fs = 250.0
    rng = np.random.default_rng(0)
    sinus_rr = np.tile([0.8, 0.8, 0.5], 12) + rng.normal(0, 0.005, 36)  # every 3rd beat early
    beats = np.round(np.cumsum(np.r_[0.5, sinus_rr]) * fs).astype(int)
    classes = np.array(["N"] + ["N", "N", "V"] * 12)  # the early beats are V
    af = np.round(np.cumsum(np.r_[0.5, rng.uniform(0.4, 1.0, 36)]) * fs).astype(int)
    assert nn_irregularity(beats, classes, fs) < np.log(0.05)
    assert nn_irregularity(af, np.array(["N"] * af.size), fs) > np.log(0.15)
    mostly_v = np.array(["V"] * beats.size)
    rr = np.diff(beats / fs)
    expected = np.log(np.median(np.abs(np.diff(rr))) / np.median(rr) + 1e-3)
    assert nn_irregularity(beats, mostly_v, fs) == pytest.approx(expected)


def test_premature_then_pause_marks_ectopy_whatever_the_beats_are_called() -> None:
    """AF round 4's input: every third beat early and followed by a compensatory pause gives
    a third of the intervals; sinus rhythm none; AF some, without the pattern's regularity.
    It reads the intervals alone, so it is the same when the classifier calls every beat N."""
    from ml.strip_rhythm import PAUSE_FEATURE, premature_then_pause, strip_features

    rng = np.random.default_rng(1)
    ectopy_rr = np.tile([0.8, 0.5, 1.1], 12) + rng.normal(0, 0.005, 36)
    sinus_rr = 0.8 + rng.normal(0, 0.01, 36)
    af_rr = rng.uniform(0.4, 1.0, 2000)
    assert premature_then_pause(ectopy_rr) == pytest.approx(12 / 35)
    assert premature_then_pause(sinus_rr) == 0.0
    assert 0.05 < premature_then_pause(af_rr) < 0.25  # about P(short) x P(long): patternless

    fs = 360.0
    signal_mv, beat_s = sinus_or_af_mv(ectopy_rr, af=False, fs_hz=fs)
    beats = np.round(beat_s * fs).astype(int)
    features = strip_features(signal_mv, fs, beats, np.array(["N"] * beats.size))
    assert features is not None
    assert features[PAUSE_FEATURE] == pytest.approx(12 / 35)


def test_strip_features_split_the_ectopic_share_by_beat_type() -> None:
    """Strip round 8's features: V (and F) calls over all beats, S calls over all beats;
    together they are the one ectopic share the earlier rounds read."""
    fs = 360.0
    rr = 0.8 + np.random.default_rng(2).normal(0, 0.01, 30)
    signal_mv, beat_s = sinus_or_af_mv(rr, af=False, fs_hz=fs)
    beats = np.round(beat_s * fs).astype(int)
    classes = np.array(["N"] * beats.size)
    classes[[3, 9, 15]] = "S"
    classes[[5, 20]] = ["V", "F"]
    features = strip_rhythm.strip_features(signal_mv, fs, beats, classes)
    assert features is not None
    assert features["ventricular_share"] == pytest.approx(2 / beats.size)
    assert features["supraventricular_share"] == pytest.approx(3 / beats.size)
    split = features["ventricular_share"] + features["supraventricular_share"]
    assert split == pytest.approx(features["ectopic_share"])


def test_a_candidate_without_the_ectopic_share_is_called_out_of_fold() -> None:
    """Strip round 8's second candidate reads the split shares, not `ectopic_share`; its calls
    still say why (the reasons name the ectopic share), and V-heavy strips that are not AF
    stay apart from AF strips whose beats the classifier calls S."""
    from ml.research.strips_eval import af_scores
    from ml.training.strips import ROUND_8_CANDIDATES, out_of_fold_calls

    rng = np.random.default_rng(11)
    n = 600
    x = rng.normal(size=(n, len(STRIP_FEATURE_NAMES)))
    column = STRIP_FEATURE_NAMES.index
    x[:, column("log_rate_bpm")] = np.log(70.0) + rng.normal(0, 0.1, n)
    x[:, column("log_beat_residual")] = rng.normal(-1, 0.3, n)
    x[:, column("p_wave_consistency")] = rng.uniform(0, 0.6, n)  # under AF's exclusion
    af = x[:, 0] > 1.0
    x[:, column("supraventricular_share")] = np.where(af, 0.3, 0.02) + rng.uniform(0, 0.02, n)
    x[:, column("ventricular_share")] = rng.uniform(0, 0.3, n)
    x[:, column("ectopic_share")] = (
        x[:, column("supraventricular_share")] + x[:, column("ventricular_share")]
    )
    y = np.where(af, "A", "N")
    split = list(ROUND_8_CANDIDATES.values())[1]
    assert "ectopic_share" not in split.features
    calls = out_of_fold_calls(x, y, split)
    scores = af_scores(calls == strip_rhythm.AF, y == "A")
    assert scores["se"] > 0.9 and scores["ppv"] > 0.9


def _features(**changes: float) -> dict[str, float]:
    """A plain sinus strip's features at 70 bpm, with `changes`."""
    sinus = {name: 0.0 for name in STRIP_FEATURE_NAMES}
    sinus.update(
        {
            "log_rate_bpm": float(np.log(70.0)),
            SUCCESSIVE_FEATURE: float(np.log(0.02)),
            "p_wave_consistency": 0.9,
            "log_beat_residual": -1.0,
        }
    )
    return {**sinus, **changes}


def _rule_with_other_model(rate_limits: bool) -> StripRule:
    """AF never; another rhythm when the premature-then-pause share is high (a linear model
    reading that feature alone, threshold 0.5)."""
    from ml.strip_rhythm import PAUSE_FEATURE, OtherRhythmModel

    k = len(STRIP_FEATURE_NAMES)
    af_never = np.zeros(k)
    other_coef = np.zeros(k)
    other_coef[STRIP_FEATURE_NAMES.index(PAUSE_FEATURE)] = 40.0
    other = OtherRhythmModel(
        np.zeros(k), np.ones(k), other_coef, -4.0, 0.5, STRIP_FEATURE_NAMES, LINEAR, rate_limits
    )
    return StripRule(
        np.zeros(k), np.ones(k), af_never, -20.0, 0.5, 1.0, STRIP_FEATURE_NAMES, LINEAR, other
    )


def test_an_other_rhythm_model_decides_sinus_or_other_and_says_why() -> None:
    """Strip round 6: the model, not a fixed share of ectopic beats, tells another rhythm from
    sinus; the reason names what departs from sinus in a clinician's words."""
    from ml.strip_rhythm import OTHER, PAUSE_FEATURE, call_strip_from_features

    rule = _rule_with_other_model(rate_limits=True)
    sinus = call_strip_from_features(_features(ectopic_share=0.15), rule)
    # 15 % beats called ectopic, yet the intervals say sinus: the model's call stands.
    assert sinus.label == SINUS and sinus.reason == "regular, median rate 70 bpm"
    ectopy = call_strip_from_features(
        _features(**{PAUSE_FEATURE: 0.3, SUCCESSIVE_FEATURE: float(np.log(0.2))}), rule
    )
    assert ectopy.label == OTHER
    assert ectopy.reason == "premature beats followed by pauses, irregular RR intervals"
    # Over the threshold with no single feature departing: the model's word, with no number.
    assert rule.other is not None
    eager = dataclasses.replace(rule, other=dataclasses.replace(rule.other, threshold=0.01))
    quiet = call_strip_from_features(_features(), eager)
    assert quiet.label == OTHER
    assert quiet.reason == "the features together do not look like plain sinus rhythm to the model"
    slow = call_strip_from_features(_features(log_rate_bpm=float(np.log(42.0))), rule)
    assert slow.label == OTHER and slow.reason == "slow (median rate 42 bpm)"
    # Without the rate limits the model alone decides: a regular 42 bpm strip reads sinus.
    alone = _rule_with_other_model(rate_limits=False)
    assert call_strip_from_features(_features(log_rate_bpm=float(np.log(42.0))), alone).label == (
        SINUS
    )


def test_a_rule_with_an_other_rhythm_model_survives_its_file() -> None:
    rule = _rule_with_other_model(rate_limits=False)
    again = StripRule.from_dict(json.loads(json.dumps(rule.to_dict())))
    assert again.other is not None and rule.other is not None
    assert again.other.threshold == 0.5 and not again.other.rate_limits
    assert np.array_equal(again.other.coef, rule.other.coef)
    assert again.other.features == rule.other.features and again.other.terms == LINEAR
    # A rule file written before round 6 has no such model: the fixed rule applies.
    before = {k: v for k, v in rule.to_dict().items() if k != "other"}
    assert StripRule.from_dict(before).other is None


def test_fitting_an_other_rhythm_model_chooses_its_threshold_out_of_fold() -> None:
    """On synthetic features where another rhythm is an interaction of two features, the
    fitted model tells other from normal recordings it was not fitted on, and the threshold
    comes from the inner folds."""
    from ml.research.strips_eval import challenge_f1
    from ml.training.strips import Candidate, out_of_fold_calls

    rng = np.random.default_rng(7)
    n = 900
    x = rng.normal(size=(n, len(STRIP_FEATURE_NAMES)))
    x[:, STRIP_FEATURE_NAMES.index("log_rate_bpm")] = np.log(70.0) + rng.normal(0, 0.1, n)
    x[:, STRIP_FEATURE_NAMES.index("log_beat_residual")] = rng.normal(-1, 0.3, n)
    a, b = x[:, 0], x[:, 1]
    y = np.where(a > 1.2, "A", np.where(a * b > 0.3, "O", "N"))
    fixed = Candidate(terms=QUADRATIC, l2=10.0)
    model = Candidate(terms=QUADRATIC, l2=10.0, other_terms=QUADRATIC, rate_limits=True)
    scores = {
        name: challenge_f1(y, out_of_fold_calls(x, y, c))
        for name, c in (("fixed", fixed), ("model", model))
    }
    assert scores["model"] is not None and scores["fixed"] is not None
    # The fixed rule sees no ectopic beats or odd rates here, so it calls every strip sinus.
    assert scores["model"]["other rhythm"] > 0.7 > 0.4 > scores["fixed"]["other rhythm"]
    assert scores["model"]["AF"] == scores["fixed"]["AF"]  # the AF model is the same
    assert scores["model"]["mean"] > scores["fixed"]["mean"] + 0.15


def test_rr_intervals_in_good_signal_leave_out_the_artefact_at_a_strips_start() -> None:
    """Strip round 7's reading: false beats in 3 s of motion artefact give intervals of
    0.3-0.5 s among a sinus rhythm's 0.9 s; read from good signal only, they are gone, and
    with too few clean intervals every interval is read as before."""
    from ml.strip_rhythm import MIN_BEATS, rr_intervals_s

    artefact_s = [0.2, 0.6, 0.9, 1.4, 2.0, 2.3]
    sinus_s = list(np.arange(3.0, 30.0, 0.9))
    beat_s = np.array(artefact_s + sinus_s)
    every = rr_intervals_s(beat_s)
    clean = rr_intervals_s(beat_s, [(10.0, 30.0)])
    assert every.size == beat_s.size - 1 and every.min() < 0.35
    assert np.allclose(clean, 0.9) and clean.size == sum(s >= 10.0 for s in sinus_s) - 1
    few = [(25.0, 30.0)]  # 5 clean intervals: fewer than MIN_BEATS
    assert sum(s >= 25.0 for s in sinus_s) - 1 < MIN_BEATS
    assert np.array_equal(rr_intervals_s(beat_s, few), every)


def test_rr_intervals_between_readable_beats_leave_out_detections_the_read_doubts() -> None:
    """Strip round 10's reading: the read's own per-beat judgement (Q for unusable signal,
    the strip's edges and calls taken back) instead of 10-s quality segments."""
    from ml.strip_rhythm import MIN_BEATS, rr_intervals_s

    artefact_s = [0.2, 0.6, 0.9, 1.4, 2.0, 2.3]
    sinus_s = list(np.arange(3.0, 30.0, 0.9))
    beat_s = np.array(artefact_s + sinus_s)
    readable = np.array([False] * len(artefact_s) + [True] * len(sinus_s))
    assert np.allclose(rr_intervals_s(beat_s, readable=readable), 0.9)
    assert rr_intervals_s(beat_s, readable=readable).size == len(sinus_s) - 1
    few = np.zeros(len(beat_s), dtype=bool)
    few[-MIN_BEATS:] = True  # MIN_BEATS - 1 readable intervals: every interval is read
    assert np.array_equal(rr_intervals_s(beat_s, readable=few), rr_intervals_s(beat_s))


def test_a_rule_reads_rr_intervals_in_good_signal_only_when_its_file_says_so() -> None:
    rule = strip_rhythm.shipped_rule()
    assert StripRule.from_dict(rule.to_dict()).rr_from_good_signal == rule.rr_from_good_signal
    legacy = {k: v for k, v in rule.to_dict().items() if k != "rr_from_good_signal"}
    assert StripRule.from_dict(legacy).rr_from_good_signal is False
    # A sinus strip with false beats in its first 3 s: the good-signal reading drops them.
    fs = 300.0
    signal_mv, beat_s = sinus_or_af_mv(np.full(33, 0.9), af=False, fs_hz=fs)
    beat_s = np.sort(np.r_[beat_s, 0.35, 1.25, 2.1])
    beats = np.round(beat_s * fs).astype(int)
    classes = np.array(["N"] * beats.size)
    good = [(10.0, 30.0)]
    reads = {
        flag: strip_rhythm.call_strip(
            signal_mv,
            fs,
            beats,
            classes,
            dataclasses.replace(rule, rr_from_good_signal=flag),
            good_spans_s=good,
        ).features
        for flag in (False, True)
    }
    assert reads[True]["log_rmssd_over_rr"] < reads[False]["log_rmssd_over_rr"] - 1.0
    assert reads[False] == strip_rhythm.strip_features(signal_mv, fs, beats, classes)


@pytest.mark.skipif(
    not (data_root() / "cinc2017" / "A00136.hea").is_file(), reason="cinc2017 not found"
)
def test_a_strip_called_another_rhythm_says_so_as_its_main_finding() -> None:
    """cinc2017 A00136 (reference: other rhythm): 112 bpm with no consistent P wave, and no
    beat-based finding. Its headline says "Other rhythm"; its main finding used to say "No
    significant arrhythmia" beside it, and now carries the call and why. No stretch of it is
    listed as sinus tachycardia, as one was under a call that says no consistent P wave."""
    strip = data_root() / "cinc2017" / "A00136.hea"
    analysis = analyze(read_recording(strip, uncalibrated_ok=True))
    assert analysis.strip is not None and analysis.strip.label == strip_rhythm.OTHER
    assert analysis.rhythm_summary.startswith("Other rhythm")
    main = analysis.main_finding
    assert (main.code, main.risk) == ("OTHER_RHYTHM", "low")
    assert main.label.startswith("Other rhythm") and main.detail == analysis.strip.reason
    assert "no consistent P wave" in main.detail
    assert [f.code for f in analysis.findings] == ["OTHER_RHYTHM"]
    assert not {e.label for e in analysis.episodes} & set(rhythm.SINUS_RATES)


def test_a_strip_call_without_p_waves_lists_no_sinus_stretch() -> None:
    """Sinus rhythm has a P wave before every QRS: under an other-rhythm call that found none,
    the strip lists its events but no sinus stretch, nor a dropped beat read as possible AV
    block (5 cinc2017 strips had that as their main finding); with P waves, its sinus
    tachycardia and dropped beat stay (the call says "fast", the stretch says what is fast)."""
    beat_s = np.arange(0.5, 30.0, 0.5)
    tachycardia = rhythm.Episode(rhythm.TACHY, 0.5, 29.5, 59)
    pause = rhythm.Episode(rhythm.PAUSE, 12.0, 14.5, 2)
    dropped = rhythm.Episode(rhythm.DROPPED, 20.0, 21.0, 2)
    no_p = strip_rhythm.StripCall(
        OTHER, "", "fast (120 bpm), no consistent P wave", None, {"p_wave_consistency": 0.1}
    )
    with_p = dataclasses.replace(
        no_p, reason="fast (120 bpm)", features={"p_wave_consistency": 0.8}
    )
    assert strip_rhythm.rules_out_sinus(no_p) and not strip_rhythm.rules_out_sinus(with_p)
    episodes = [tachycardia, pause, dropped]
    assert rhythm.strip_episodes(episodes, OTHER, beat_s, sinus_possible=False) == [pause]
    assert rhythm.strip_episodes(episodes, OTHER, beat_s) == episodes


def test_a_strip_ten_times_too_large_says_the_gain_or_units_not_artefact() -> None:
    """A clean strip at 10 times its size (R waves of 12 mV) read "heavy artefact throughout"
    (a clinician-eye audit): no ECG spans 12 mV, but no artefact lasts the whole lead either,
    so the reason names the gain or units (`quality.TOO_LARGE_REASON`). Motion artefact in
    some segments keeps its words."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72), duration_s=30, fs_hz=250,
                                       leads=("II",))  # fmt: skip
    large = Recording(250.0, ("II",), recording.signal_mv * 10)
    analysis = analyze(large)
    assert {s.reason for s in analysis.quality} == {quality.TOO_LARGE_REASON}
    assert analysis.strip is not None and analysis.strip.label == UNCLASSIFIABLE
    assert analysis.strip.reason.startswith("signal over 12 mV peak to peak (no ECG reaches")
    moved = recording.signal_mv.copy()
    moved[2500:3000, 0] += np.linspace(0, 14, 500)  # one 2-s swing of 14 mV
    reasons = {s.reason for s in analyze(Recording(250.0, ("II",), moved)).quality}
    assert quality.TOO_LARGE_REASON not in reasons and "heavy artefact" in reasons


def test_a_strip_with_no_usable_signal_anywhere_is_unclassifiable() -> None:
    """A regular strip under 0.5 mV of broadband noise above 45 Hz: every quality segment is
    unusable, yet once band-passed its beats still look alike, so the rhythm model's noise
    measure passes it (cinc2017 A07983, reference too noisy, read "Other rhythm: fast (109
    bpm)" so, QRS complexes and T waves counted alike under its mains hum)."""
    signal_mv, _ = sinus_or_af_mv(np.full(24, 0.85), af=False, fs_hz=FS_HZ)
    noise_mv = bandpass_mv(np.random.default_rng(3).normal(0, 1, signal_mv.size), FS_HZ, (45, 140))
    analysis = analyze(
        Recording(FS_HZ, ("ECG",), (signal_mv + noise_mv * 0.5 / noise_mv.std())[:, None])
    )
    assert {s.level for s in analysis.quality} == {"unusable"}
    assert analysis.strip is not None and analysis.strip.label == UNCLASSIFIABLE
    assert analysis.strip.reason == "heavy artefact throughout: no stretch of usable signal"
    assert analysis.rhythm_summary == "Unclassifiable: too noisy"
    assert [f.code for f in analysis.findings] == ["NOISY_STRIP"]
    assert analysis.heart_rate.mean_bpm is None
    assert analysis.heart_rate.rate_reason == analysis.strip.reason


@pytest.mark.skipif(
    not (data_root() / "cinc2017" / "A07983.hea").is_file(), reason="cinc2017 not found"
)
def test_a_strip_whose_artefact_was_mains_hum_is_read_once_the_hum_is_notched() -> None:
    """A07983's "heavy artefact" was 0.11 mV of 50 Hz hum (`ml.mains`): notched out, its
    beats come about once a second, and the strip stays flagged noisy."""
    analysis = analyze(read_recording(data_root() / "cinc2017" / "A07983.hea"))
    assert {s.level for s in analysis.quality} == {"noisy"}
    assert any(
        n.startswith("Mains interference was filtered out of lead(s) ECG (50 Hz")
        for n in analysis.notes
    )
    assert analysis.strip is not None and analysis.strip.label == SINUS
    assert analysis.heart_rate.mean_bpm == pytest.approx(61.6, abs=1.0)


def test_strip_round_11s_reading_takes_p_waves_from_n_and_s_beats_only() -> None:
    """Round 11's candidate (not shipped): a ventricular beat has no P wave of its own, so the
    P-wave features may read only the beats called N or S; with fewer than MIN_BEATS of them,
    every beat, as the shipped reading does."""
    from ml.strip_rhythm import MIN_BEATS, strip_features

    rule = strip_rhythm.shipped_rule()
    assert rule.p_waves_of_n_and_s is False
    flipped = dataclasses.replace(rule, p_waves_of_n_and_s=True)
    assert StripRule.from_dict(flipped.to_dict()).p_waves_of_n_and_s is True
    fs = 300.0
    signal_mv, beat_s = sinus_or_af_mv(np.full(33, 0.9), af=False, fs_hz=fs)
    beats = np.round(beat_s * fs).astype(int)
    # Every other beat "ventricular" whose P region is noise: it drags the consistency down.
    rng = np.random.default_rng(0)
    noisy = signal_mv.copy()
    for b in beats[1::2]:
        noisy[max(0, b - 75) : b - 15] += rng.normal(0, 0.15, max(0, b - 15) - max(0, b - 75))
    classes = np.array(["N", "V"] * (beats.size // 2) + ["N"] * (beats.size % 2))
    every = strip_features(noisy, fs, beats, classes)
    n_and_s = strip_features(noisy, fs, beats, classes, p_waves_of_n_and_s=True)
    assert every is not None and n_and_s is not None
    assert n_and_s["p_wave_consistency"] > every["p_wave_consistency"]
    assert n_and_s["log_rate_bpm"] == every["log_rate_bpm"]  # only the P-wave features move
    few = np.array(["V"] * beats.size)
    few[: MIN_BEATS - 1] = "N"
    assert strip_features(noisy, fs, beats, few, p_waves_of_n_and_s=True) == strip_features(
        noisy, fs, beats, few
    )


def test_a_rule_file_written_again_is_read_again_once_forgotten(tmp_path: Path) -> None:
    """The window rule's DS2 report ran in the process that had read the rule it replaced,
    so it reported the old rule's figures: `forget_shipped_rules` makes the next read fresh."""
    rule_file = tmp_path / "rule.json"
    card = json.loads(strip_rhythm.WINDOW_RULE_FILE.read_text())
    rule_file.write_text(json.dumps(card))
    first = strip_rhythm.shipped_rule(rule_file).af_threshold
    card["rule"]["af_threshold"] = first + 0.1
    rule_file.write_text(json.dumps(card))
    assert strip_rhythm.shipped_rule(rule_file).af_threshold == first  # read once per process
    strip_rhythm.forget_shipped_rules()
    assert strip_rhythm.shipped_rule(rule_file).af_threshold == pytest.approx(first + 0.1)
    strip_rhythm.forget_shipped_rules()


@pytest.mark.skipif(
    not (data_root() / "cinc2017" / "A00989.hea").is_file(), reason="cinc2017 not found"
)
def test_detections_left_unclassified_in_noisy_signal_count_in_no_rate() -> None:
    """cinc2017 A00989: a regular strip at a median rate of 63 bpm whose first 20 s of noise
    add detections the classifier leaves unclassified; counted, they made the mean rate 89 and
    the maximum 145 bpm beside "regular, median rate 63 bpm"."""
    analysis = analyze(read_recording(data_root() / "cinc2017" / "A00989.hea"))
    assert analysis.strip is not None and analysis.strip.reason == "regular, median rate 63 bpm"
    assert analysis.heart_rate.mean_bpm == pytest.approx(63, rel=0.1)
    assert analysis.heart_rate.max_bpm < 80


def test_a_window_with_consistent_p_waves_is_no_af_in_a_long_recording() -> None:
    """AF round 7: a window's AF call counts only under the strips' P-wave rule-out. A
    synthetic 2-min sinus arrhythmia (RR +-25 % with breathing, clean P waves, two leads; fuzzer
    case) had its 45-s window called AF by the window model at probability 0.350 (threshold
    0.34) with a P-wave consistency of 0.85 and read "Sinus rhythm with atrial
    fibrillation/flutter (30 s)". These are that window's features."""
    window = {
        "log_pattern_irregularity": -1.908,
        "log_rmssd_over_rr": -1.826,
        "log_median_successive_difference_over_rr": -1.904,
        "p_wave_consistency": 0.846,
        "ectopic_share": 0.289,
        "log_rate_bpm": 4.569,
    }
    shipped = strip_rhythm.window_gates()
    assert shipped.max_p_wave_consistency == AF_EXCLUDING_P_WAVE_CONSISTENCY
    assert not shipped.admit(window)
    assert WindowGates(min_successive_difference=-3.0).admit(window)  # the gates before it
    assert shipped.admit({**window, "p_wave_consistency": 0.2})  # fibrillation: no P wave


def test_overview_lists_atrial_fibrillation_before_pauses_and_patterns() -> None:
    """MIT-BIH 201's table listed its trigeminy runs and 2-s pauses and left its three AF
    episodes, the report's main finding, to the "Also ..." line (a clinician-eye audit)."""
    episodes = (
        [rhythm.Episode(rhythm.AF, 600 * k, 600 * k + 300, 400) for k in range(3)]
        + [rhythm.Episode(rhythm.PAUSE, 400 + 50 * i, 402 + 50 * i, 2) for i in range(12)]
        + [rhythm.Episode(rhythm.TRIGEMINY, 320 + 3 * i, 322 + 3 * i, 4) for i in range(12)]
    )
    view = rhythm.overview(episodes, limit=15)
    listed = [episodes[i].label for i in view["listed"]]
    # every arrhythmia its longest episode first, then by significance
    assert listed.count(rhythm.AF) == 3 and listed.count(rhythm.PAUSE) == 11
    assert listed.count(rhythm.TRIGEMINY) == 1
    assert view["more_by_label"] == {rhythm.PAUSE: 1, rhythm.TRIGEMINY: 11}
    assert set(rhythm.SIGNIFICANCE) == set(rhythm.LABELS)  # every label has its place


def test_overview_gives_every_arrhythmia_a_row_before_more_runs_of_one() -> None:
    """A Holter audit: a 4-h recording's 20 rows were all VT runs, its 72 min of AF (4
    episodes, a high-risk finding) only in the "also" line; a 24-h one's Mobitz II likewise."""
    episodes = (
        [rhythm.Episode(rhythm.VT, 100 * i, 100 * i + 3, 6) for i in range(25)]
        + [rhythm.Episode(rhythm.AF, 3000 + 1000 * k, 3600 + 1000 * k, 700) for k in range(4)]
        + [rhythm.Episode(rhythm.MOBITZ_II, 8000, 8010, 9)]
        + [rhythm.Episode(rhythm.SINUS, 9000, 12000, 3000)]
    )
    view = rhythm.overview(episodes)
    listed = [episodes[i].label for i in view["listed"]]
    assert listed.count(rhythm.AF) == 1 and listed.count(rhythm.MOBITZ_II) == 1
    assert listed.count(rhythm.VT) == 18 and rhythm.SINUS not in listed
    assert view["more_by_label"] == {rhythm.VT: 7, rhythm.AF: 3, rhythm.SINUS: 1}


@pytest.mark.skipif(not (data_root() / "mitdb" / "209.hea").is_file(), reason="mitdb not found")
def test_an_atrial_tachycardia_strip_lists_no_plain_sinus_rhythm_at_its_rate() -> None:
    """MIT-BIH 209, 420-430 s: atrial tachycardia at about 160 bpm, its beats called N, the
    strip "Other rhythm ... fast". Its one sinus stretch was listed as plain "Sinus rhythm" at
    that rate; named by its N-N rate it is "Sinus tachycardia" (`rhythm._named_by_nn_rate`)."""
    whole = read_recording([data_root() / "mitdb" / "209.hea"])
    start, stop = int(420 * whole.fs_hz), int(430 * whole.fs_hz)
    piece = Recording(whole.fs_hz, whole.lead_names, whole.signal_mv[start:stop])
    analysis = analyze(piece)
    assert analysis.strip is not None and analysis.strip.label == strip_rhythm.OTHER
    assert analysis.heart_rate.mean_bpm is not None and analysis.heart_rate.mean_bpm > 140
    assert rhythm.SINUS not in {e.label for e in analysis.episodes}
