"""Intervals on the median beat, checked against synthetic beats with known onsets and offsets;
what cannot be measured comes out as None with a reason, never as a number."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import wfdb

from ml.analysis import analyze
from ml.intervals import (
    OUTSIDE_PLAUSIBLE,
    QT_OF_A_REFUSED_QRS_REASON,
    Intervals,
    IntervalSettings,
    measure_intervals,
)
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import data_root, default_data_dir
from ml.research.synthetic import BeatTruth, synthetic_recording
from tests.support.ecg_files import write_wfdb

TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
TOLERANCE_MS = 10.0

CASES = [
    BeatTruth(),
    BeatTruth(hr_bpm=45, pr_ms=240, qrs_ms=140, qt_ms=500, axis_deg=-30),  # AV block, wide, long
    BeatTruth(hr_bpm=110, pr_ms=120, qrs_ms=70, qt_ms=340, axis_deg=100),  # tachycardia
    BeatTruth(hr_bpm=75, pr_ms=180, qrs_ms=100, qt_ms=420, axis_deg=45),
]


def _r_peaks(signal: np.ndarray, onsets: np.ndarray, fs_hz: float, qrs_ms: float) -> np.ndarray:
    lead = int(np.argmax(np.abs(signal).max(axis=0)))
    width = int(qrs_ms / 1000 * fs_hz)
    return np.array([o + int(np.argmax(np.abs(signal[o : o + width, lead]))) for o in onsets])


@pytest.mark.parametrize(
    "truth",
    CASES,
    ids=lambda t: f"hr{t.hr_bpm:g}-pr{t.pr_ms:g}-qrs{t.qrs_ms:g}-qt{t.qt_ms:g}-axis{t.axis_deg:g}",
)
@pytest.mark.parametrize("fs_hz", [250.0, 500.0, 1000.0])
@pytest.mark.parametrize("leads", [TWELVE, ("I", "II")], ids=["12-lead", "2-lead"])
def test_intervals_within_10_ms_of_the_truth(
    truth: BeatTruth, fs_hz: float, leads: tuple[str, ...]
) -> None:
    recording, onsets = synthetic_recording(
        truth, leads=leads, fs_hz=fs_hz, duration_s=30, noise_mv=0.01, seed=7
    )
    peaks = _r_peaks(recording.signal_mv, onsets, fs_hz, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, fs_hz, peaks, recording.lead_names)
    assert result.pr_ms == pytest.approx(truth.pr_ms, abs=TOLERANCE_MS)
    assert result.qrs_ms == pytest.approx(truth.qrs_ms, abs=TOLERANCE_MS)
    assert result.qt_ms == pytest.approx(truth.qt_ms, abs=TOLERANCE_MS)
    assert result.not_measurable == {}
    assert set(result.confidence) == {"pr", "qrs", "qt"}
    rr_s = 60 / truth.hr_bpm
    assert result.qtc_bazett_ms == pytest.approx(result.qt_ms / np.sqrt(rr_s), rel=0.01)
    assert result.qtc_fridericia_ms == pytest.approx(result.qt_ms / np.cbrt(rr_s), rel=0.01)
    assert result.qrs_axis_deg == pytest.approx(truth.axis_deg, abs=5)


@pytest.mark.parametrize("fs_hz", [50.0, 80.0])
def test_too_coarse_a_sampling_rate_measures_no_interval(fs_hz: float) -> None:
    """At 50 Hz a normal 90-ms QRS read 120 ms, a wide QRS at high confidence: below 100 Hz one
    sample spans more than the 10 ms intervals are read to, so none is given, and the read
    says why instead of making a finding of it."""
    recording, _ = synthetic_recording(
        BeatTruth(), leads=("I", "II"), fs_hz=fs_hz, duration_s=30, noise_mv=0.01, seed=7
    )
    analysis = analyze(recording)
    intervals = analysis.intervals
    assert (intervals.pr_ms, intervals.qrs_ms, intervals.qt_ms) == (None, None, None)
    assert set(intervals.not_measurable) == {"pr", "qrs", "qt", "axis"}
    assert f"sampled at {fs_hz:g} Hz" in intervals.not_measurable["qrs"]
    assert "100 Hz or more needed" in intervals.not_measurable["qrs"]
    assert {f.code for f in analysis.findings}.isdisjoint({"WIDE_QRS", "LONG_QTC", "AV_BLOCK_1"})
    assert analysis.heart_rate.mean_bpm == pytest.approx(60, abs=2)  # the beats are still read


@pytest.mark.parametrize(
    "truth", CASES, ids=lambda t: f"hr{t.hr_bpm:g}-pr{t.pr_ms:g}-qrs{t.qrs_ms:g}-qt{t.qt_ms:g}"
)
@pytest.mark.parametrize("fs_hz", [100.0, 128.0, 200.0])
def test_coarsely_sampled_beats_are_interpolated_before_their_boundaries(
    truth: BeatTruth, fs_hz: float
) -> None:
    """From 100 Hz (a 128 Hz Holter) the median beats are interpolated to 250 Hz or more, so a
    boundary is not rounded to a whole coarse sample: before, a 90-ms QRS read 110 at 100 Hz."""
    recording, onsets = synthetic_recording(
        truth, leads=("I", "II"), fs_hz=fs_hz, duration_s=30, noise_mv=0.01, seed=7
    )
    peaks = _r_peaks(recording.signal_mv, onsets, fs_hz, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, fs_hz, peaks, recording.lead_names)
    assert result.qrs_ms == pytest.approx(truth.qrs_ms, abs=TOLERANCE_MS)
    assert result.pr_ms == pytest.approx(truth.pr_ms, abs=TOLERANCE_MS)
    assert result.qt_ms == pytest.approx(truth.qt_ms, abs=TOLERANCE_MS)


def test_single_lead_has_no_axis_but_has_intervals() -> None:
    truth = BeatTruth()
    recording, onsets = synthetic_recording(truth, leads=("II",), fs_hz=360)
    peaks = _r_peaks(recording.signal_mv, onsets, 360, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, 360, peaks, recording.lead_names)
    assert result.qrs_axis_deg is None
    assert result.not_measurable["axis"] == (
        "the frontal axis needs two limb leads (I and aVF, I and II, or II and III); this "
        "recording has II"
    )
    assert result.qt_ms == pytest.approx(truth.qt_ms, abs=TOLERANCE_MS)


@pytest.mark.parametrize("leads", [("I", "II"), ("II", "III"), ("I", "aVF")])
def test_two_limb_leads_give_the_axis(leads: tuple[str, str]) -> None:
    truth = BeatTruth(axis_deg=40)
    recording, onsets = synthetic_recording(truth, leads=leads, fs_hz=360)
    peaks = _r_peaks(recording.signal_mv, onsets, 360, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, 360, peaks, recording.lead_names)
    assert result.qrs_axis_deg is not None and "axis" not in result.not_measurable


def test_too_few_beats_say_why_for_the_axis_too() -> None:
    """Every measurement the read leaves empty has its reason, the axis among them: a dash
    on the report reads as an omission."""
    result = measure_intervals(np.zeros((1000, 2)), 250, np.array([100, 400]), ("I", "II"))
    assert set(result.not_measurable) == {"pr", "qrs", "qt", "axis"}


def test_a_single_lead_measures_pr_and_qt_with_low_confidence_and_draws_no_finding() -> None:
    """High confidence is earned by a second lead that agrees on the P onset and T end: one
    lead alone (a handheld strip, a single-lead Holter) gives the PR, flagged low, and no
    first-degree block or long-QT finding, and withholds a QT whose QTc would be long with its
    figures (`findings.without_doubtful_long_qt`); the QRS, read from its slopes, stays high."""
    truth = BeatTruth(hr_bpm=60, pr_ms=240, qt_ms=520)  # first-degree block, QTc 520 ms
    for leads, expected in ((("I",), "low"), (("I", "II"), "high")):
        recording, _ = synthetic_recording(truth, leads=leads, fs_hz=300)
        analysis = analyze(recording)
        read = analysis.intervals
        assert read.pr_ms == pytest.approx(truth.pr_ms, abs=TOLERANCE_MS), leads
        assert read.confidence["pr"] == expected, leads
        if expected == "high":
            assert read.qt_ms == pytest.approx(truth.qt_ms, abs=TOLERANCE_MS), leads
            assert read.confidence["qt"] == "high"
        else:
            assert read.qt_ms is None and "qt" not in read.confidence
            assert "would be a long QT (QTc 470 ms or more)" in read.not_measurable["qt"]
        assert read.confidence["qrs"] == "high", leads
        codes = {f.code for f in analysis.findings}
        assert ({"AV_BLOCK_1", "LONG_QT"} <= codes) == (expected == "high"), (leads, codes)
        notes = " ".join(analysis.notes)
        said = "no second lead to confirm them, so the PR and QT are of low confidence"
        assert (said in notes) == (expected == "low"), leads
        assert ("PR measured with low confidence: check it" in notes) == (expected == "low")


def test_a_marked_pr_is_a_number_only_when_measured_with_high_confidence() -> None:
    """A PR of 340 ms (marked first-degree AV block): two agreeing leads report it; one lead
    alone (low confidence) says it is not measurable and why, instead of a number (cinc2017
    strips read 307-377 ms from a tiny bump at the start of the P search)."""
    truth = BeatTruth(hr_bpm=55, pr_ms=340)
    for leads, measured in ((("I", "II"), True), (("I",), False)):
        recording, _ = synthetic_recording(truth, leads=leads, fs_hz=300)
        read = analyze(recording).intervals
        if measured:
            assert read.pr_ms == pytest.approx(truth.pr_ms, abs=TOLERANCE_MS)
            assert read.confidence["pr"] == "high"
        else:
            assert read.pr_ms is None and "pr" not in read.confidence
            reason = read.not_measurable["pr"]
            assert "marked first-degree AV block (over 300 ms)" in reason
            assert "low confidence" in reason


def test_no_p_wave_gives_no_pr_with_a_reason() -> None:
    """As in atrial fibrillation: the P wave is absent, so PR is not measured (not invented)."""
    truth = BeatTruth(p_mv=0.0)
    recording, onsets = synthetic_recording(truth, leads=TWELVE, fs_hz=500, noise_mv=0.02)
    peaks = _r_peaks(recording.signal_mv, onsets, 500, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, 500, peaks, recording.lead_names)
    assert result.pr_ms is None
    assert "P wave" in result.not_measurable["pr"]
    assert "pr" not in result.confidence
    assert result.qrs_ms == pytest.approx(truth.qrs_ms, abs=TOLERANCE_MS)


def test_too_few_beats_measure_nothing() -> None:
    recording, onsets = synthetic_recording(BeatTruth(), leads=("II",), duration_s=12)
    result = measure_intervals(recording.signal_mv, 500, onsets[:2], recording.lead_names)
    assert result.qt_ms is None and result.n_beats == 0
    assert set(result.not_measurable) == {"pr", "qrs", "qt", "axis"}
    assert "fewer than 3" in result.not_measurable["qt"]


@pytest.mark.parametrize(
    ("truth", "name", "words"),
    [
        (BeatTruth(qrs_ms=240), "qrs", "outside 60-200 ms"),
        (BeatTruth(qt_ms=230, t_duration_ms=100), "qt", "outside 250-700 ms"),
        (BeatTruth(pr_ms=450), "pr", "more than 400 ms before the QRS"),
    ],
    ids=["QRS 240 ms", "QT 230 ms", "PR 450 ms"],
)
def test_absurd_values_are_not_measurable(truth: BeatTruth, name: str, words: str) -> None:
    """Outside the physiological range a number is more likely an error than a finding."""
    recording, onsets = synthetic_recording(truth, leads=TWELVE, fs_hz=500, noise_mv=0.02)
    peaks = _r_peaks(recording.signal_mv, onsets, 500, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, 500, peaks, recording.lead_names)
    assert getattr(result, f"{name}_ms") is None
    assert words in result.not_measurable[name]
    if name == "qt":
        assert result.qtc_bazett_ms is None and result.qtc_fridericia_ms is None


def _odd_signals() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    beats = np.arange(300, 9000, 250)
    return {
        "flat line": (np.zeros((10_000, 2)), beats),
        "noise only": (rng.normal(0, 0.05, (10_000, 2)), beats),
        "beats at the very ends": (rng.normal(0, 0.05, (1_000, 2)), np.array([2, 500, 998])),
        "half a second": (rng.normal(0, 0.05, (125, 1)), np.array([10, 60, 110])),
        "spikes only": (np.where(np.arange(10_000)[:, None] % 250 == 0, 2.0, 0.0), beats),
    }


@pytest.mark.parametrize("case", list(_odd_signals()))
def test_odd_signals_never_crash_and_never_invent(case: str) -> None:
    signal_mv, peaks = _odd_signals()[case]
    result = measure_intervals(signal_mv, 250.0, peaks, ("II", "V1")[: signal_mv.shape[1]])
    assert (result.pr_ms, result.qrs_ms, result.qt_ms) == (None, None, None)
    assert set(result.not_measurable) == {"pr", "qrs", "qt", "axis"}
    assert result.confidence == {}


def test_intervals_stay_json_serialisable() -> None:
    truth = BeatTruth(p_mv=0.0)
    recording, onsets = synthetic_recording(truth, leads=("II",), fs_hz=500, noise_mv=0.02)
    peaks = _r_peaks(recording.signal_mv, onsets, 500, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, 500, peaks, recording.lead_names)
    stored = json.loads(json.dumps(dataclasses.asdict(result), default=float))
    assert stored["not_measurable"]["pr"] == result.not_measurable["pr"]
    assert Intervals(**stored).confidence == result.confidence


def test_a_deeper_swing_after_the_t_wave_is_not_taken_for_it() -> None:
    """Intervals round 4's knob: a positive T wave followed by a deeper negative swing (a U
    wave, a filter's undershoot). The farthest turning point alone takes the swing for the T
    wave and ends the QT far too late; the earlier-wave rule takes the T wave itself."""
    truth = BeatTruth()
    fs_hz = 500.0
    recording, onsets = synthetic_recording(truth, leads=("II",), fs_hz=fs_hz, noise_mv=0.01)
    t_s = np.arange(recording.n_samples) / fs_hz
    swing = np.zeros(recording.n_samples)
    for onset_s in onsets / fs_hz:  # 100 ms long from 40 ms after the T end, 1.3 times deeper
        u = (t_s - onset_s - (truth.qt_ms + 40) / 1000) / 0.10
        swing -= 1.3 * truth.t_mv * np.where((u >= 0) & (u <= 1), np.sin(np.pi * u), 0.0)
    signal_mv = recording.signal_mv + swing[:, None]
    peaks = _r_peaks(signal_mv, onsets, fs_hz, truth.qrs_ms)

    def qt_ms(share: float | None) -> float | None:
        settings = IntervalSettings(t_earlier_share=share)
        return measure_intervals(signal_mv, fs_hz, peaks, ("II",), settings=settings).qt_ms

    assert qt_ms(0.5) == pytest.approx(truth.qt_ms, abs=TOLERANCE_MS)
    late = qt_ms(None)
    assert late is None or late > truth.qt_ms + 60


def test_the_sinus_cycle_is_read_between_adjacent_normal_beats() -> None:
    """QTc corrects for the sinus cycle: the gaps between normal beats that span an ectopic
    beat are not cycles. Bigeminy has no two adjacent normal beats: the interval before each
    normal beat (Bazett's preceding RR) is read instead."""
    from ml.intervals import normal_rr_s

    fs = 250.0
    # Sinus at 0.8 s, and PVCs (coupled at 0.5 s, then a compensatory pause) after three of
    # every four normal beats: most gaps between normal beats span a PVC (1.6 s).
    rr_s = np.tile([0.5, 1.1, 0.5, 1.1, 0.5, 1.1, 0.8, 0.8], 6)
    peaks = np.round(np.cumsum(np.r_[0.5, rr_s]) * fs).astype(int)
    normal = np.tile([True, False, True, False, True, False, True, True], 7)[: peaks.size]
    assert normal_rr_s(peaks, normal, fs) == pytest.approx(0.8)
    assert np.median(np.diff(peaks[normal])) / fs == pytest.approx(1.6)  # the old reading
    bigeminy_peaks = np.round(np.cumsum(np.r_[0.5, np.tile([0.5, 1.1], 10)]) * fs).astype(int)
    bigeminy = np.arange(bigeminy_peaks.size) % 2 == 0  # N V N V ...: V coupled at 0.5 s
    assert normal_rr_s(bigeminy_peaks, bigeminy, fs) == pytest.approx(1.1)
    assert normal_rr_s(peaks, np.zeros(peaks.size, dtype=bool), fs) is None


@pytest.mark.skipif(not (default_data_dir() / "232.hea").is_file(), reason="MIT-BIH not found")
def test_qtc_of_a_record_with_frequent_ectopic_beats_uses_its_sinus_cycle() -> None:
    """MIT-BIH 232: most beats are atrial premature beats, so its normal beats lie about 3 s
    apart in the median; between adjacent normal beats its cardiologists' beats give 1.40 s
    (our beat classes, which call some premature beats normal, 1.24 s), and the QTc follows
    from that cycle."""
    import wfdb

    from ml.analysis import default_classifier
    from ml.io import read_recording

    analysis = analyze(read_recording(default_data_dir() / "232.hea"), default_classifier())
    reference = wfdb.rdann(str(default_data_dir() / "232"), "atr")
    symbols = np.array(reference.symbol)
    beats = np.isin(symbols, list("NLRejAaJSVEF/fQ"))
    samples, normal = reference.sample[beats], np.isin(symbols[beats], list("NLRej"))
    adjacent = normal[1:] & normal[:-1]
    reference_nn_ms = float(np.median(np.diff(samples)[adjacent])) / 360 * 1000
    intervals = analysis.intervals
    assert intervals.rr_ms == pytest.approx(reference_nn_ms, rel=0.15)
    assert intervals.qt_ms is not None and intervals.qtc_bazett_ms is not None
    rr_s = intervals.rr_ms / 1000
    assert intervals.qtc_bazett_ms == pytest.approx(intervals.qt_ms / np.sqrt(rr_s))
    assert intervals.qtc_bazett_ms > 350  # 254 ms when the gaps across the ectopic beats were read


@pytest.mark.parametrize(
    ("truth", "code"),
    [
        (BeatTruth(hr_bpm=60, pr_ms=260), "AV_BLOCK_1"),
        (BeatTruth(hr_bpm=60, qrs_ms=150, qt_ms=440), "WIDE_QRS"),
        (BeatTruth(hr_bpm=60, qt_ms=530), "LONG_QT"),
        (BeatTruth(hr_bpm=60), "NORMAL"),
    ],
)
def test_a_ten_second_twelve_lead_ecg_makes_its_interval_findings(
    truth: BeatTruth, code: str
) -> None:
    """A standard 10-s 12-lead ECG at 60 bpm has 8 beats to measure once its edges are left
    out: under 10, every interval was low confidence and none made a finding, so first-degree
    AV block, a wide QRS and a long QT all read "No significant arrhythmia". With two leads or
    more, 7 beats suffice (`ml.intervals.FEW_BEATS`); one lead alone still needs 10."""
    recording, _ = synthetic_recording(truth, duration_s=10, fs_hz=500)
    analysis = analyze(recording)
    assert analysis.intervals.n_beats == 8
    assert analysis.intervals.confidence == {"pr": "high", "qrs": "high", "qt": "high"}
    assert [f.code for f in analysis.findings] == [code]
    one_lead, _ = synthetic_recording(truth, duration_s=10, fs_hz=500, leads=("II",))
    alone = analyze(one_lead)
    assert set(alone.intervals.confidence.values()) == {"low"}
    assert [f.code for f in alone.findings] == ["NORMAL"]


def test_one_or_two_leads_finding_the_p_wave_far_ahead_of_the_rest_do_not_set_the_pr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 12-lead whose V1 and V2 carry a small bump 130 ms ahead of the P wave at every beat
    (a synthetic 12-lead under baseline wander did, and read "PR 292 ms, first-degree AV
    block" for 176): the global P onset is the earliest of the leads near most leads' onset,
    and the PR stays the true 170 ms."""
    import ml.intervals as intervals_module
    from ml.recording import Recording
    from ml.research.synthetic import _half_sine

    fs_hz = 500.0
    recording, onsets = synthetic_recording(
        BeatTruth(hr_bpm=70, pr_ms=170), duration_s=10, fs_hz=fs_hz
    )
    t_s = np.arange(recording.signal_mv.shape[0]) / fs_hz
    bump = sum(_half_sine(t_s, onset / fs_hz - 0.17 - 0.13, 0.06) for onset in onsets)
    signal_mv = recording.signal_mv.copy()
    for lead in ("V1", "V2"):
        signal_mv[:, recording.lead_names.index(lead)] += 0.06 * bump
    read = analyze(Recording(fs_hz, recording.lead_names, signal_mv)).intervals
    assert read.pr_ms == pytest.approx(170, abs=6) and read.confidence["pr"] == "high"
    # Before: the earliest onset of any two leads, the bump's; "PR 302 ms", withheld.
    monkeypatch.setattr(intervals_module, "P_ONSET_BULK_LEADS", 99)
    before = analyze(Recording(fs_hz, recording.lead_names, signal_mv)).intervals
    assert before.pr_ms is None and "302 ms" in before.not_measurable["pr"]


def test_a_p_wave_that_begins_inside_the_t_wave_has_no_pr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sinus tachycardia at 140 bpm with a PR of 186 ms: the P wave begins before the previous
    T wave has ended, so its onset cannot be seen. The PR says so instead of measuring from
    the P wave's far side (before: "PR 124 ms" at high confidence, 62 ms short). At 120 bpm
    with a PR of 140 ms the P wave stands clear of the T wave and is measured."""
    import ml.intervals as intervals_module

    fused = BeatTruth(hr_bpm=140, pr_ms=186, qt_ms=264, t_duration_ms=134, p_duration_ms=95)
    recording, _ = synthetic_recording(fused, duration_s=10, fs_hz=500, leads=("MLII", "V1"))
    read = analyze(recording).intervals
    assert read.pr_ms is None
    assert "begins before the preceding T wave has ended" in read.not_measurable["pr"]
    assert read.qt_ms == pytest.approx(264, abs=TOLERANCE_MS)

    clear = BeatTruth(hr_bpm=120, pr_ms=140, qt_ms=300, t_duration_ms=170)
    recording, _ = synthetic_recording(clear, duration_s=10, fs_hz=500, leads=("MLII", "V1"))
    read = analyze(recording).intervals
    assert read.pr_ms == pytest.approx(140, abs=TOLERANCE_MS) and read.confidence["pr"] == "high"

    monkeypatch.setattr(intervals_module, "P_UNDER_WAY_S", 0.0)
    recording, _ = synthetic_recording(fused, duration_s=10, fs_hz=500, leads=("MLII", "V1"))
    before = analyze(recording).intervals
    assert before.pr_ms is not None and before.pr_ms < 186 - 50
    assert before.confidence["pr"] == "high"


def test_without_a_t_wave_end_the_p_search_does_not_reach_into_the_previous_beat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A narrow-complex tachycardia at 200 bpm without P waves, whose T wave runs into the
    next QRS, so that no T-wave end is found: the P wave was looked for up to 400 ms before
    the QRS, past the previous beat's QRS, and read one there: "PR 286 ms" at high confidence,
    a first-degree AV block finding. The previous T wave is taken to end no earlier than a
    short QT for the cycle, and no P wave is found."""
    import ml.intervals as intervals_module

    junctional = BeatTruth(hr_bpm=200, qrs_ms=85, qt_ms=260, t_duration_ms=140, p_mv=0.0)
    recording, _ = synthetic_recording(junctional, duration_s=10, fs_hz=500)
    read = analyze(recording).intervals
    assert read.pr_ms is None, read
    monkeypatch.setattr(intervals_module, "SHORTEST_QTC_S", 0.0)
    before = analyze(recording).intervals
    assert before.pr_ms is not None and before.pr_ms > 250 and before.confidence["pr"] == "high"


@pytest.mark.parametrize(
    ("leads", "noisy_lead", "hr_bpm", "duration_s"),
    [
        (("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"), "V5", 65, 30),
        (("MLII", "V1"), "MLII", 79, 10),
    ],
    ids=["12-lead", "two leads"],
)
def test_one_noisy_lead_does_not_widen_the_qrs(
    leads: tuple[str, ...],
    noisy_lead: str,
    hr_bpm: float,
    duration_s: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One electrode in poor contact: 0.5 mV of noise and 2 mV of baseline wander on one lead.
    Its median beat keeps enough noise to keep the leads' spatial velocity from going flat
    after the QRS, which read "QRS 124-132 ms, wide QRS" at high confidence for a QRS of 90 ms
    on a 30-s 12-lead (2 of 24 such synthetic ECGs), and "QRS 164 ms" on a 10-s MLII + V1
    strip (the lead fuzzer, seed 722). A lead whose beats differ from their median far more
    than the other leads' (or, with two, the other lead's) is left out of the QRS
    boundaries."""
    import ml.intervals as intervals_module
    from ml.recording import Recording

    truth = BeatTruth(hr_bpm=hr_bpm, qrs_ms=90, r_mv=0.9)
    recording, _ = synthetic_recording(truth, duration_s=duration_s, fs_hz=500, leads=leads)
    signal_mv = recording.signal_mv.copy()
    t_s = np.arange(signal_mv.shape[0]) / 500.0
    noise = np.random.default_rng(2).normal(0, 0.5, t_s.size) + 2.0 * np.sin(2 * np.pi * 0.3 * t_s)
    signal_mv[:, leads.index(noisy_lead)] += noise
    noisy = Recording(500.0, recording.lead_names, signal_mv)
    read = analyze(noisy)
    assert read.intervals.qrs_ms == pytest.approx(90, abs=TOLERANCE_MS)
    assert "WIDE_QRS" not in [f.code for f in read.findings]
    monkeypatch.setattr(intervals_module, "NOISY_LEAD_SPREAD", np.inf)
    # The medians of alternate beats (`HALVES_AGREE_MS`) now doubt such a QRS too: left out.
    monkeypatch.setattr(intervals_module, "HALVES_AGREE_MS", {"qt": 40})
    before = analyze(noisy)
    assert before.intervals.qrs_ms is not None and before.intervals.qrs_ms >= 120


@pytest.mark.parametrize(("hr_bpm", "qt_ms"), [(55, 640), (80, 540)])
def test_a_markedly_long_qt_is_measured_and_found(
    hr_bpm: float, qt_ms: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A QTc of 600 ms or more (drug-induced, congenital): the T peak lay beyond where a QT
    of 0.5 s x sqrt(RR) puts it, so "T-wave end not found" and no finding, and a QT over
    600 ms was "more likely a measurement error". Where no lead shows a T peak there, it is
    looked for later, and a long QT up to 700 ms is a number."""
    import ml.intervals as intervals_module

    truth = BeatTruth(hr_bpm=hr_bpm, qt_ms=qt_ms, t_duration_ms=200)
    recording, _ = synthetic_recording(truth, duration_s=30, fs_hz=500)
    read = analyze(recording)
    assert read.intervals.qt_ms == pytest.approx(qt_ms, abs=15)
    assert read.intervals.confidence["qt"] == "high"
    long_qt = [f for f in read.findings if f.code == "LONG_QT"]
    assert long_qt and long_qt[0].risk == "high"
    monkeypatch.setattr(intervals_module, "T_PEAK_QTC_S", 0.5)
    before = analyze(recording)
    assert before.intervals.qt_ms is None
    assert "LONG_QT" not in [f.code for f in before.findings]


def test_the_p_wave_is_looked_for_after_a_t_wave_whose_end_the_leads_disagree_on() -> None:
    """A 10-s two-lead strip at 128 Hz under 0.6 mV of baseline wander, QT 458 ms at 77 bpm:
    its leads disagree on the T-wave end (QT not measurable), and the P wave was then looked
    for from 400 ms before the QRS, inside the T wave: "PR 379 ms, first-degree AV block" at
    high confidence for a PR of 165 (2 of 40 such strips). The P search now starts after the
    latest T end the leads found."""
    rng = np.random.default_rng(23)
    truth = BeatTruth(hr_bpm=77, qt_ms=458, pr_ms=165, qrs_ms=87)
    recording, _ = synthetic_recording(
        truth, duration_s=10, fs_hz=128, leads=("MLII", "V1"), noise_mv=0.04, seed=23
    )
    t_s = np.arange(recording.signal_mv.shape[0]) / 128
    wander_mv = 0.6 * np.sin(2 * np.pi * 0.29 * t_s + rng.uniform(0, 6))[:, None]
    signal_mv = recording.signal_mv + wander_mv * rng.uniform(0.5, 1, 2)
    from ml.recording import Recording

    read = analyze(Recording(128.0, recording.lead_names, signal_mv))
    assert read.intervals.qt_ms is None
    assert "disagree on the T-wave end" in read.intervals.not_measurable["qt"]
    assert read.intervals.pr_ms == pytest.approx(165, abs=TOLERANCE_MS)
    assert "AV_BLOCK_1" not in [f.code for f in read.findings]


NSTDB = data_root() / "nstdb"


@pytest.mark.skipif(not (NSTDB / "119e06.hea").is_file(), reason="nstdb not found")
def test_no_qt_on_a_median_beat_whose_qrs_is_refused_as_too_long(tmp_path: Path) -> None:
    """An electrophysiologist's audit: 10 s of nstdb 119e06 from 330 s (MIT-BIH 119, QT 411
    ms clean) read "Prolonged QTc 602 ms" at high risk, its QT of 503 ms at high confidence,
    beside "QRS not measurable: the QRS found (242 ms) ... more likely a measurement error":
    the QT starts at that QRS's onset, and its T wave is looked for after that QRS's end."""
    record = wfdb.rdrecord(str(NSTDB / "119e06"), sampfrom=330 * 360, sampto=340 * 360)
    piece = Recording(360.0, tuple(record.sig_name), record.p_signal)
    analysis = analyze(read_recording(write_wfdb(tmp_path, piece, "119e06_330")[0]))
    intervals = analysis.intervals
    assert intervals.qrs_ms is None and OUTSIDE_PLAUSIBLE in intervals.not_measurable["qrs"]
    assert intervals.qt_ms is None and intervals.qtc_bazett_ms is None
    assert intervals.not_measurable["qt"] == QT_OF_A_REFUSED_QRS_REASON.format(ms=242)
    assert "LONG_QT" not in [f.code for f in analysis.findings]
