"""Rhythm rules and heart-rate variability on beat sequences with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.hrv import _why_no_hrv, heart_rate_summary
from ml.research.synthetic import BeatTruth, synthetic_recording


def _beats(
    rr_s: list[float] | np.ndarray, classes: str | None = None, start_s: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    times = start_s + np.concatenate([[0.0], np.cumsum(rr_s)])
    labels = np.array(list(classes)) if classes else np.full(len(times), "N")
    assert len(labels) == len(times)
    return times, labels


def _labels(times: np.ndarray, classes: np.ndarray) -> dict[str, list[rhythm.Episode]]:
    found: dict[str, list[rhythm.Episode]] = {}
    for episode in rhythm.detect_rhythms(times, classes, float(times[-1]) + 1):
        found.setdefault(episode.label, []).append(episode)
    return found


def test_regular_rhythm_is_sinus_with_rate_labels() -> None:
    for rr, label in ((1.0, rhythm.SINUS), (1.3, rhythm.BRADY), (0.5, rhythm.TACHY)):
        times, classes = _beats([rr] * 120)
        found = _labels(times, classes)
        assert set(found) == {label}, (rr, set(found))
        assert found[label][0].duration_s == pytest.approx(rr * 120, rel=0.05)


def test_ventricular_tachycardia_needs_three_fast_v_beats() -> None:
    rr = [0.8] * 30 + [0.4] * 5 + [0.8] * 30
    classes = "N" * 31 + "VVVVV" + "N" * 30
    times, labels = _beats(rr, classes)
    vt = _labels(times, labels)[rhythm.VT]
    assert len(vt) == 1 and vt[0].n_beats == 5
    assert vt[0].start_s == pytest.approx(times[31])
    # Two V beats, or three slow ones, are not VT.
    times, labels = _beats([0.8] * 60, "N" * 30 + "VV" + "N" * 29)
    assert rhythm.VT not in _labels(times, labels)
    times, labels = _beats([0.8] * 30 + [0.9] * 3 + [0.8] * 27, "N" * 30 + "VVV" + "N" * 28)
    assert rhythm.VT not in _labels(times, labels)


@pytest.mark.parametrize(("run_s", "is_rhythm"), [(6.0, False), (20.0, True), (40.0, True)])
def test_a_long_run_is_the_rhythm_of_its_stretch(run_s: float, is_rhythm: bool) -> None:
    """A 20- or 40-s VT between two minutes of sinus rhythm splits it: neither sinus rhythm
    nor "sinus tachycardia" (the run's own rate) is read through it, as it was through MIT-BIH
    223's 53 s; a 6-s run is an event inside the sinus rhythm."""
    n_run = int(run_s / 0.4)
    times, labels = _beats(
        [0.8] * 75 + [0.4] * n_run + [0.8] * 75, "N" * 75 + "V" * (n_run + 1) + "N" * 75
    )
    episodes = rhythm.consolidate(rhythm.detect_rhythms(times, labels, float(times[-1]) + 1))
    [vt] = [e for e in episodes if e.label == rhythm.VT]
    assert vt.duration_s == pytest.approx(run_s)
    sinus = [e for e in episodes if e.label in rhythm.SINUS_RATES]
    assert {e.label for e in sinus} == {rhythm.SINUS}
    through = [e for e in sinus if e.start_s < vt.start_s and e.end_s > vt.end_s]
    assert len(sinus) == (2 if is_rhythm else 1)
    assert bool(through) is not is_rhythm


def test_a_recording_mostly_in_tachycardia_is_headed_by_it() -> None:
    times, labels = _beats([0.8] * 20 + [0.4] * 200 + [0.8] * 20, "N" * 20 + "V" * 201 + "N" * 20)
    episodes = rhythm.consolidate(rhythm.detect_rhythms(times, labels, float(times[-1]) + 1))
    assert rhythm.dominant_rhythm(episodes)[0] == rhythm.VT
    assert rhythm.headline(episodes, rhythm.VT) == rhythm.VT


@pytest.mark.parametrize("flicker", [rhythm.SINUS, rhythm.PACED])
def test_no_short_background_stretch_is_read_inside_another(flicker: str) -> None:
    """Two stretches of bradycardia 2 s apart merge across the 2 s between them; the sinus
    rhythm (or unclassifiable stretch) read there is then inside the bradycardia and goes,
    where it read as a second rhythm at the same time (MIT-BIH 108, 113, 105)."""
    episodes = rhythm.consolidate(
        [
            rhythm.Episode(rhythm.BRADY, 11.0, 129.5, 100),
            rhythm.Episode(flicker, 130.0, 131.9, 3),
            rhythm.Episode(rhythm.BRADY, 131.5, 713.0, 500),
            rhythm.Episode(rhythm.SINUS, 713.5, 800.0, 100),
        ]
    )
    assert [(e.label, e.start_s, e.end_s) for e in episodes] == [
        (rhythm.BRADY, 11.0, 713.0),
        (rhythm.SINUS, 713.5, 800.0),
    ]


def test_no_short_sinus_stretch_is_read_inside_ventricular_fibrillation() -> None:
    """Two stretches of VF 1.5 s apart merge; the 1-s "sinus rhythm" read between them (the
    waves there not taken for VF) goes, as inside any background rhythm (found by fuzzing)."""
    episodes = rhythm.consolidate(
        [
            rhythm.Episode(rhythm.VF, 0.0, 30.0, 0),
            rhythm.Episode(rhythm.SINUS, 30.2, 31.2, 4),
            rhythm.Episode(rhythm.VF, 31.5, 90.0, 0),
        ]
    )
    assert [(e.label, e.start_s, e.end_s) for e in episodes] == [(rhythm.VF, 0.0, 90.0)]


@pytest.mark.parametrize(("unclassified_s", "listed"), [(2.3, False), (12.0, True)])
def test_a_few_unclassified_beats_make_no_unclassifiable_rhythm(
    unclassified_s: float, listed: bool
) -> None:
    """The beats of a recording's first second are left unclassified by design; three of
    them are no "paced or unclassifiable" rhythm beside the strip's own (683 cinc2017 strips,
    MIT-BIH 207); 12 s of them are a stretch worth listing."""
    episodes = rhythm.consolidate(
        [
            rhythm.Episode(rhythm.PACED, 0.1, unclassified_s, 3),
            rhythm.Episode(rhythm.SINUS, unclassified_s, 60.0, 70),
        ]
    )
    assert (rhythm.PACED in {e.label for e in episodes}) is listed


def test_svt_bigeminy_and_trigeminy() -> None:
    times, labels = _beats([0.8] * 20 + [0.45] * 6 + [0.8] * 20, "N" * 20 + "S" * 6 + "N" * 21)
    assert rhythm.SVT in _labels(times, labels)
    times, labels = _beats([0.6, 1.0] * 10, "NV" * 10 + "N")
    assert len(_labels(times, labels)[rhythm.BIGEMINY]) == 1
    times, labels = _beats([0.8, 0.6, 1.0] * 8, "NNV" * 8 + "N")
    assert len(_labels(times, labels)[rhythm.TRIGEMINY]) == 1


@pytest.mark.parametrize(("run_rr_s", "is_run"), [(0.45, True), (0.53, True), (0.58, False)])
def test_an_svt_run_is_faster_than_the_rhythm_before_it(run_rr_s: float, is_run: bool) -> None:
    """Sinus rhythm at 0.62 s (97 bpm), a PVC and its pause, then three beats called S at
    `run_rr_s` (every one above 100 bpm): premature by 10 % or more they are a run; at about
    the sinus rate they are the sinus rhythm misread (svdb 803), and no SVT is reported."""
    rr_s = [0.62] * 20 + [0.45, 0.8] + [run_rr_s] * 3 + [0.62] * 20
    times, labels = _beats(rr_s, "N" * 20 + "VN" + "SSS" + "N" * 21)
    assert (rhythm.SVT in _labels(times, labels)) is is_run
    # At a recording's first beats, with no rhythm before them, the rhythm after them
    # (QT Database sel16273, a normal record, read a 1-s SVT from its first three beats).
    times, labels = _beats([run_rr_s] * 2 + [0.62] * 20, "SSS" + "N" * 20)
    assert (rhythm.SVT in _labels(times, labels)) is is_run


@pytest.mark.parametrize(("trigeminy_cycles", "af_kept"), [(15, False), (4, True)])
def test_af_mostly_inside_bigeminy_or_trigeminy_is_the_patterns_irregularity(
    trigeminy_cycles: int, af_kept: bool
) -> None:
    """A 30-s span a window model called AF, 36 s of trigeminy around its start: the AF is
    the pattern's irregularity (MIT-BIH 106 and 208); with 10 s of trigeminy it stays AF."""
    n_sinus = 60
    times, labels = _beats(
        [0.8] * n_sinus + [0.8, 0.6, 1.0] * trigeminy_cycles + [0.8] * n_sinus,
        "N" * n_sinus + "NNV" * trigeminy_cycles + "N" * (n_sinus + 1),
    )
    start_s = float(times[n_sinus])
    episodes = rhythm.detect_rhythms(
        times, labels, float(times[-1]) + 1, af_windows_s=[(start_s, start_s + 30.0)]
    )
    found = {e.label for e in episodes}
    assert (rhythm.TRIGEMINY in found) and ((rhythm.AF in found) is af_kept)
    if not af_kept:  # the span is read as the sinus rhythm the pattern sits in
        sinus = [e for e in episodes if e.label == rhythm.SINUS]
        assert any(e.start_s <= start_s + 1 and e.end_s >= start_s + 29 for e in sinus)


def test_af_is_not_read_over_ventricular_flutter() -> None:
    """A window model's AF over 40 s of ventricular flutter and the 20 s after it: the part
    over the flutter goes, and the 20 s left are too short for an AF episode (MIT-BIH 207);
    with 40 s after the flutter, those stay AF, from their first beat."""
    for after_s, kept_s in ((20.0, None), (40.0, 40.0)):
        times, labels = _beats([0.8] * 240)  # the beat rule reads no AF: the window alone
        flutter = (60.0, 100.0)
        window = (flutter[0], flutter[1] + after_s)
        episodes = rhythm.detect_rhythms(
            times,
            labels,
            float(times[-1]) + 1,
            fibrillation_spans_s=[flutter],
            af_windows_s=[window],
        )
        af = [e for e in episodes if e.label == rhythm.AF and e.start_s < window[1]]
        assert not any(e.start_s < flutter[1] and e.end_s > flutter[0] for e in af)
        if kept_s is None:
            assert not [e for e in af if e.start_s >= flutter[1] - 1 and e.end_s <= window[1] + 1]
        else:
            assert any(e.duration_s == pytest.approx(kept_s, abs=1.5) for e in af)


def test_pause_and_dropped_beat() -> None:
    times, labels = _beats([0.8] * 20 + [2.6] + [0.8] * 20)
    pause = _labels(times, labels)[rhythm.PAUSE]
    assert len(pause) == 1 and pause[0].duration_s == pytest.approx(2.6)
    times, labels = _beats([0.8] * 20 + [1.6] + [0.8] * 20)
    found = _labels(times, labels)
    assert rhythm.DROPPED in found and rhythm.PAUSE not in found


def test_atrial_fibrillation_is_irregularly_irregular() -> None:
    rng = np.random.default_rng(5)
    regular = 0.9 + 0.03 * np.sin(np.arange(100) / 4)  # sinus arrhythmia: smooth changes
    irregular = rng.uniform(0.45, 1.1, 150)
    times, labels = _beats(np.concatenate([regular, irregular, regular]))
    af = _labels(times, labels)[rhythm.AF]
    assert len(af) == 1
    af_start, af_end = times[100], times[250]
    assert af[0].start_s == pytest.approx(af_start, abs=15)
    assert af[0].end_s == pytest.approx(af_end, abs=15)
    times, labels = _beats(regular)
    assert rhythm.AF not in _labels(times, labels)


def test_bigeminy_is_not_mistaken_for_af() -> None:
    times, labels = _beats([0.55, 1.05] * 100, "NV" * 100 + "N")
    found = _labels(times, labels)
    assert rhythm.AF not in found and rhythm.BIGEMINY in found


def test_two_to_one_conduction_is_found_where_the_rate_halves_abruptly() -> None:
    """Sinus rhythm at 0.85 s, then every other beat dropped for 30 intervals (1.7 s, drifting
    by 5 %), then back: one 2:1 episode over that stretch, no sinus bradycardia there and no
    single dropped beats inside it (MIT-BIH 231's 2:1 block read as sinus bradycardia)."""
    drift = 1.7 * (1 + 0.05 * np.sin(np.arange(30) / 5))
    times, classes = _beats([0.85] * 40 + list(drift) + [0.85] * 40)
    found = _labels(times, classes)
    (halved,) = found[rhythm.HALVED]
    assert halved.start_s == pytest.approx(times[40]) and halved.end_s == pytest.approx(times[70])
    assert rhythm.BRADY not in found and rhythm.DROPPED not in found
    findings = {f.code: f for f in _findings_of(found)}
    assert findings["AV_BLOCK_2"].label == rhythm.HALVED and "check the P waves" in (
        findings["AV_BLOCK_2"].detail
    )


@pytest.mark.parametrize(
    ("rr_s", "why"),
    [
        ([0.85] * 40 + [1.7] + [0.85] * 40, "one dropped beat is a dropped beat"),
        ([0.85] * 40 + [1.7] * 3 + [0.85] * 40, "three in a row are not yet a stretch"),
        (list(np.linspace(0.85, 1.7, 40)) + [1.7] * 30, "sinus rhythm slowing gradually"),
        ([0.5] * 40 + [1.0] * 30, "a tachycardia ending (svdb 808's run of atrial beats)"),
    ],
)
def test_no_two_to_one_conduction_without_an_abrupt_sustained_halving(
    rr_s: list[float], why: str
) -> None:
    times, classes = _beats(rr_s)
    assert rhythm.HALVED not in _labels(times, classes), why


def _findings_of(found: dict[str, list[rhythm.Episode]]):  # type: ignore[no-untyped-def]
    from ml.findings import findings_of_read
    from ml.hrv import HeartRateSummary
    from ml.intervals import not_measured

    episodes = [e for group in found.values() for e in group]
    counts = {"N": 100, "S": 0, "V": 0, "F": 0, "Q": 0}
    rate = HeartRateSummary(60.0, 35.0, 70.0, None, None, None, 0)
    return findings_of_read(
        episodes, not_measured("test"), rate, counts, np.array(["N"] * 100), np.ones((100, 5))
    )


def test_hrv_from_known_intervals() -> None:
    rr = np.array([0.8, 0.9] * 200)  # alternating: every successive difference is 100 ms
    times = np.concatenate([[0.0], np.cumsum(rr)])
    summary = heart_rate_summary(np.round(times * 1000).astype(int), 1000.0)
    assert summary.mean_bpm == pytest.approx(60 / 0.85, rel=1e-3)
    assert summary.sdnn_ms == pytest.approx(np.std(rr, ddof=1) * 1000, rel=1e-3)
    assert summary.rmssd_ms == pytest.approx(100.0, rel=1e-3)
    assert summary.pnn50 == pytest.approx(1.0)
    assert summary.min_bpm == pytest.approx(60 / 0.85, rel=0.02)


def test_hrv_uses_only_normal_to_normal_intervals() -> None:
    rr = np.full(360, 1.0)  # 6 minutes: HRV needs 5 of sinus rhythm
    rr[30], rr[31] = 0.5, 1.5  # a premature beat and its compensatory pause
    times = np.round(np.concatenate([[0.0], np.cumsum(rr)]) * 500).astype(int)
    normal = np.ones(len(times), dtype=bool)
    normal[31] = False
    with_ectopy = heart_rate_summary(times, 500.0)
    nn_only = heart_rate_summary(times, 500.0, normal)
    assert with_ectopy.rmssd_ms > 50
    assert nn_only.rmssd_ms == pytest.approx(0.0, abs=1e-6)
    assert nn_only.n_nn == 358


def test_no_beats_no_numbers() -> None:
    summary = heart_rate_summary(np.array([100]), 360.0)
    assert summary.mean_bpm is None and summary.n_nn == 0
    assert rhythm.detect_rhythms(np.array([1.0, 2.0]), np.array(["N", "N"]), 10.0) == []


def _every_nth_ectopic(n_beats: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """Beat samples at 500 Hz of sinus rhythm at 75 bpm with a premature beat every `every`th
    beat (its compensatory pause after it), and the normal-beat mask."""
    rr_s = np.full(n_beats - 1, 0.8)
    ectopic = np.zeros(n_beats, dtype=bool)
    ectopic[every::every] = True
    for i in np.flatnonzero(ectopic):
        if 0 < i < n_beats - 1:
            rr_s[i - 1], rr_s[i] = 0.5, 1.1
    times_s = np.concatenate([[0.0], np.cumsum(rr_s)])
    return np.round(times_s * 500).astype(int), ~ectopic


def test_hrv_is_withheld_with_frequent_ectopic_beats_and_says_why() -> None:
    samples, normal = _every_nth_ectopic(500, every=4)  # 25 % ectopic: half the intervals NN
    summary = heart_rate_summary(samples, 500.0, normal, np.ones(len(samples), dtype=bool))
    assert summary.sdnn_ms is summary.rmssd_ms is summary.pnn50 is None
    assert summary.mean_bpm is not None and summary.n_nn > 100  # the rate stays
    assert summary.hrv_reason == (
        "frequent ectopic or unclassified beats: 50% of the intervals in sinus rhythm are "
        "between two normal beats (at least 80% needed)"
    )


def test_a_share_just_under_the_needed_one_reads_under_it() -> None:
    """A Holter audit: 79.7 % read "80% ... (at least 80% needed)"."""
    assert _why_no_hrv(797, 1000, 3600.0) == (
        "frequent ectopic or unclassified beats: 79.7% of the intervals in sinus rhythm are "
        "between two normal beats (at least 80% needed)"
    )
    assert _why_no_hrv(794, 1000, 3600.0).startswith("frequent ectopic or unclassified beats: 79% ")  # type: ignore[union-attr]


def test_hrv_is_kept_with_occasional_ectopic_beats() -> None:
    samples, normal = _every_nth_ectopic(500, every=20)  # 5 %: 90 % of the intervals NN
    summary = heart_rate_summary(samples, 500.0, normal, np.ones(len(samples), dtype=bool))
    assert summary.hrv_reason is None
    assert summary.sdnn_ms == pytest.approx(0.0, abs=1e-6)  # every NN interval is 0.8 s


def test_intervals_outside_sinus_stretches_neither_count_for_nor_against_hrv() -> None:
    """Paroxysmal AF with clean sinus rhythm around it: HRV of the sinus stretches."""
    samples, normal = _every_nth_ectopic(1200, every=10_000)  # 16 min, no ectopic beat
    in_sinus = np.ones(len(samples), dtype=bool)
    in_sinus[200:600] = False  # a third of the recording in AF
    summary = heart_rate_summary(samples, 500.0, normal & in_sinus, in_sinus)
    assert summary.hrv_reason is None and summary.n_nn == 199 + 599


def test_hrv_needs_more_than_a_handful_of_intervals() -> None:
    samples, normal = _every_nth_ectopic(500, every=10_000)
    normal[6:] = False  # 6 normal beats, then 6 minutes of beats called otherwise
    summary = heart_rate_summary(samples, 500.0, normal)
    assert summary.sdnn_ms is None and summary.mean_bpm == pytest.approx(75.0)
    assert summary.hrv_reason == (
        "only 5 intervals between two normal beats in sinus rhythm (at least 8 needed)"
    )


@pytest.mark.parametrize(("n_beats", "measured"), [(363, False), (365, True), (40, False)])
def test_hrv_needs_five_minutes_of_sinus_rhythm(n_beats: int, measured: bool) -> None:
    """The Task Force's short-term recording; SDNN of a 30-s strip compares with no norm. A
    5-minute recording's intervals add up to a little less than 300 s (its end beats are not
    classified): 290 s is enough (364 intervals of 0.8 s, 291 s)."""
    samples, normal = _every_nth_ectopic(n_beats, every=10_000)  # 0.8 s apart
    summary = heart_rate_summary(samples, 500.0, normal, np.ones(len(samples), dtype=bool))
    assert (summary.sdnn_ms is not None) is measured
    assert summary.mean_bpm == pytest.approx(75.0)  # the rate is given either way
    if not measured:
        span = f"{int((n_beats - 1) * 0.8)} s"
        assert summary.hrv_reason == (
            f"only {span} of readable sinus rhythm: HRV needs about 5 minutes (at least 290 s; "
            "shorter spans compare with no HRV norm)"
        )


def test_a_five_minute_recording_gives_hrv_and_a_strip_says_why_not() -> None:
    """A clinician-eye audit: a 5-minute recording read "only 5.0 min of readable sinus
    rhythm: HRV needs at least 5 minutes"; under a strip called another rhythm "only 59 s of
    readable sinus rhythm" contradicted the call."""
    truth = BeatTruth(hr_bpm=72)
    five_minutes = analyze(synthetic_recording(truth, duration_s=300, fs_hz=250,
                                               leads=("II", "V1"))[0])  # fmt: skip
    assert five_minutes.heart_rate.sdnn_ms is not None, five_minutes.heart_rate.hrv_reason
    fast = BeatTruth(hr_bpm=185, p_mv=0.0, qt_ms=260, t_duration_ms=130)
    strip = analyze(synthetic_recording(fast, duration_s=59, fs_hz=250, leads=("II",))[0])
    assert strip.strip is not None and strip.strip.label == "other"
    assert strip.heart_rate.hrv_reason == (
        "a strip of 59 s: HRV needs a recording of about 5 minutes (short spans compare with "
        "no HRV norm)"
    )


def test_mitbih_232_reads_no_hrv_from_its_few_normal_intervals() -> None:
    """232's beats are mostly atrial premature beats; its few NN intervals span long pauses
    (SDNN read 430 ms before HRV needed most intervals to be NN)."""
    from ml.analysis import analyze
    from ml.io import read_recording
    from ml.research.databases import data_root

    analysis = analyze(read_recording(data_root() / "mitdb" / "232.hea"))
    rate = analysis.heart_rate
    assert rate.sdnn_ms is None and rate.mean_bpm is not None
    assert rate.hrv_reason is not None and rate.hrv_reason.startswith("frequent ectopic")


def test_mitbih_231_two_to_one_block_is_read_and_slow_ds1_records_are_not() -> None:
    """231 (DS2: reported, never chosen on) has five reference '(BII' episodes of 2:1 AV block;
    the read covers most of their time and nothing outside them. DS1's slow and irregular
    records (sinus bradycardia, AF with slow conduction, pauses) read no 2:1 conduction,
    neither from the rate's step nor from P waves (`ml.two_to_one`)."""
    from ml.analysis import analyze
    from ml.io import read_recording
    from ml.research.databases import data_root, load_record

    mitdb = data_root() / "mitdb"
    reference = load_record(mitdb, "231")
    changes = [
        (s / reference.fs_hz, note)
        for s, note in zip(reference.ann_samples, reference.ann_aux_notes, strict=True)
        if note.startswith("(")
    ]
    blocks = [
        (
            start,
            changes[i + 1][0]
            if i + 1 < len(changes)
            else len(reference.leads_mv) / reference.fs_hz,
        )
        for i, (start, note) in enumerate(changes)
        if note == "(BII"
    ]
    read = analyze(read_recording(mitdb / "231.hea"))
    read_as_2_to_1 = (rhythm.HALVED, rhythm.TWO_TO_ONE)  # the rate's step, or the P waves seen
    halved = [e for e in read.episodes if e.label in read_as_2_to_1]
    overlap_s = sum(
        max(0.0, min(e.end_s, b) - max(e.start_s, a)) for e in halved for a, b in blocks
    )
    assert overlap_s >= 0.8 * sum(b - a for a, b in blocks)
    assert overlap_s >= 0.95 * sum(e.duration_s for e in halved)
    assert "2:1 conduction" in read.rhythm_summary
    for name in ("108", "123", "201", "124"):
        episodes = analyze(read_recording(mitdb / f"{name}.hea")).episodes
        assert not set(read_as_2_to_1) & {e.label for e in episodes}, name


def test_no_rhythm_is_read_where_the_signal_is_unreadable() -> None:
    """Beats in unusable signal are Q because the signal, not the rhythm, cannot be read: the
    first 10 s of artefact on cinc2017 A00998 read "Paced or unclassifiable rhythm" above
    "Normal ECG". There no rhythm is read; Q calls in readable signal still are one."""
    times, labels = _beats([0.8] * 60, "Q" * 15 + "N" * 46)
    unreadable = np.arange(len(times)) < 15
    episodes = rhythm.consolidate(
        rhythm.detect_rhythms(times, labels, float(times[-1]) + 1, unreadable=unreadable)
    )
    assert [e.label for e in episodes] == [rhythm.SINUS]
    assert episodes[0].start_s >= times[10]
    readable = rhythm.consolidate(rhythm.detect_rhythms(times, labels, float(times[-1]) + 1))
    assert [e.label for e in readable] == [rhythm.PACED, rhythm.SINUS]


def test_the_rate_counts_readable_beats_only() -> None:
    """Detections in artefact are not heartbeats: counted, they raised a 58-bpm strip's mean
    rate to 66 (cinc2017 A03758). Intervals touching an unreadable beat are left out."""
    fs_hz = 250.0
    beats_s = np.arange(0.5, 30.0, 1.0)  # 60 bpm
    noise_s = np.array([3.85, 4.2, 4.85, 5.2, 5.85, 6.2])  # artefact detected between beats
    times_s = np.sort(np.concatenate([beats_s, noise_s]))
    readable = ~np.isin(times_s, noise_s)
    readable[np.searchsorted(times_s, 5.5)] = False  # a beat inside the artefact too
    peaks = (times_s * fs_hz).astype(int)
    assert heart_rate_summary(peaks, fs_hz).mean_bpm > 65
    rate = heart_rate_summary(peaks, fs_hz, readable=readable)
    assert rate.mean_bpm == pytest.approx(60.0, abs=0.5)
    assert rate.min_bpm == pytest.approx(60.0, abs=0.5) and rate.max_bpm == pytest.approx(
        60.0, abs=0.5
    )
    none = heart_rate_summary(peaks, fs_hz, readable=np.zeros(len(peaks), dtype=bool))
    assert none.mean_bpm is None and none.rate_reason is not None
    assert "no two readable beats" in none.rate_reason


def test_the_rate_range_holds_the_mean_rate() -> None:
    """The range is of rates over 8 intervals or more, the whole strip's among them: with its
    fastest intervals at the ends, which few 8-interval windows hold, a strip had read "mean
    66 bpm (63-65)" (cinc2017 A07860)."""
    fs_hz = 300.0
    rr_s = np.array([0.75] + [0.98] * 8 + [0.75])  # a faster interval at each end only
    peaks = np.round(np.concatenate([[0.5], 0.5 + np.cumsum(rr_s)]) * fs_hz).astype(int)
    rate = heart_rate_summary(peaks, fs_hz)
    assert rate.mean_bpm == pytest.approx(60 / rr_s.mean(), abs=0.5)
    assert rate.min_bpm <= rate.mean_bpm <= rate.max_bpm
    assert rate.min_bpm == pytest.approx(60 / 0.98, abs=0.5)  # the slowest 8 intervals


def test_a_long_recording_without_p_waves_is_not_named_sinus() -> None:
    """A sinus-named stretch of 30 s or more without a consistent P wave at a rate under 60 or
    from 130 bpm is a junctional or ectopic rhythm when it is the recording's rhythm
    (`rhythm._without_p_waves`); not on a strip, whose one call names its rhythm, nor where the
    median beat shows a P wave (`p_waves_may_lack`); a rate between those bounds keeps its
    sinus name, and so does a minority stretch."""
    beat_s = np.arange(0.5, 120.0, 60 / 45)

    def labels(
        p_consistency: float,
        long: bool = True,
        beats: np.ndarray = beat_s,
        wide: bool = False,
        absent: bool = False,
    ) -> set:
        read = rhythm.detect_rhythms(
            beats, np.full(beats.size, "N"), 120.0, np.full(beats.size, p_consistency),
            p_waves_may_lack=long, wide_qrs=wide, p_waves_absent=absent,
        )  # fmt: skip
        return {e.label for e in read}

    assert labels(0.1) == {rhythm.NO_P_WAVES}
    assert labels(0.9) == {rhythm.BRADY}
    # With a wide QRS the consistency reads the QRS onset: the median beat decides.
    assert labels(0.9, wide=True) == {rhythm.NO_P_WAVES}
    assert labels(0.9, long=False, wide=True) == {rhythm.BRADY}
    assert labels(0.1, long=False) == {rhythm.BRADY}
    assert labels(0.1, beats=np.arange(0.5, 120.0, 60 / 75)) == {rhythm.SINUS}
    # From 130 bpm with a narrow QRS: a narrow-complex tachycardia, also when the consistency
    # (which reads the T wave before at such rates) says consistent but no lead shows a P wave.
    at_150 = np.arange(0.5, 120.0, 60 / 150)
    assert labels(0.1, beats=at_150) == {rhythm.NARROW_TACHYCARDIA}
    assert labels(0.9, beats=at_150, absent=True) == {rhythm.NARROW_TACHYCARDIA}
    assert labels(0.9, beats=at_150) == {rhythm.TACHY}
    assert labels(0.9, beats=at_150, wide=True) == {rhythm.NO_P_WAVES}
    assert labels(0.9, beats=np.arange(0.5, 120.0, 60 / 120), absent=True) == {rhythm.TACHY}
    # Inside the rate bounds a wide QRS needs no lead to show a P wave (accelerated
    # idioventricular rhythm); leads that found one but disagree on its onset keep sinus.
    at_75 = np.arange(0.5, 120.0, 60 / 75)
    assert labels(0.9, beats=at_75, wide=True, absent=True) == {rhythm.NO_P_WAVES}
    assert labels(0.9, beats=at_75, wide=True) == {rhythm.SINUS}
    assert labels(0.1, beats=at_75, absent=True) == {rhythm.SINUS}
    # 40 s of it inside 80 s of sinus rhythm with its P waves: the minority keeps its name.
    mixed = np.concatenate([np.arange(0.5, 40.0, 60 / 45), np.arange(40.5, 120.0, 60 / 70)])
    consistency = np.where(mixed < 40.0, 0.1, 0.9)
    read = rhythm.detect_rhythms(
        mixed, np.full(mixed.size, "N"), 120.0, consistency, p_waves_may_lack=True
    )
    assert rhythm.NO_P_WAVES not in {e.label for e in read}


def test_two_minutes_of_accelerated_idioventricular_rhythm_are_not_named_sinus() -> None:
    """Wide complexes at 75 bpm without P waves read "Sinus rhythm" with a wide QRS (18 of 20
    two-minute ones of a fuzzer, 55-100 bpm, now read so)."""
    truth = BeatTruth(
        hr_bpm=75, qrs_ms=150, qt_ms=440, t_duration_ms=180, axis_deg=-60, t_mv=-0.3, p_mv=0.0
    )
    recording, _ = synthetic_recording(truth, duration_s=120, fs_hz=500, leads=("II", "V1"))
    analysis = analyze(recording)
    assert analysis.rhythm_summary == rhythm.NO_P_WAVES
    assert {f.code for f in analysis.findings} == {"WIDE_QRS", "OTHER_RHYTHM"}


def test_two_minutes_of_idioventricular_rhythm_are_not_named_sinus() -> None:
    """Wide complexes at 34 bpm without P waves, two leads: "Sinus bradycardia" before (the P
    region's consistency, 0.7-0.75, read the wide QRS's onset)."""
    truth = BeatTruth(
        hr_bpm=34, qrs_ms=160, qt_ms=480, t_duration_ms=200, axis_deg=-60, t_mv=-0.4, p_mv=0.0
    )
    recording, _ = synthetic_recording(truth, duration_s=120, fs_hz=360, leads=("MLII", "V1"))
    analysis = analyze(recording)
    assert analysis.rhythm_summary == rhythm.NO_P_WAVES
    assert "BRADY" not in [f.code for f in analysis.findings]
    assert analysis.main_finding.code == "OTHER_RHYTHM" and analysis.main_finding.risk == "high"


def test_pauses_the_read_found_count_in_the_heart_rate() -> None:
    """A 2-h Holter with 466 pauses (MIT-BIH 232 twice over) read a mean of 66 bpm where its
    7,119 beats in 120 min are 59 (a Holter audit): intervals over 2.5 s were dropped as
    detection errors even where the read had found them to be pauses."""
    fs_hz = 250.0
    rr_s = np.array([1.0] * 20 + [3.0] + [1.0] * 20 + [3.0] + [1.0] * 20)
    peaks = np.concatenate([[0], np.cumsum(rr_s * fs_hz)]).astype(np.int64)
    paused = rr_s > 2.5
    with_pauses = heart_rate_summary(peaks, fs_hz, paused=paused)
    assert with_pauses.mean_bpm == pytest.approx(60 * len(rr_s) / rr_s.sum())
    assert with_pauses.min_bpm is not None and with_pauses.min_bpm < 50  # a window holds a pause
    without = heart_rate_summary(peaks, fs_hz)  # a long gap not known as a pause: left out
    assert without.mean_bpm == pytest.approx(60.0)
    assert without.sdnn_ms == with_pauses.sdnn_ms  # HRV never counts a pause


def test_sinus_rate_names_come_from_nn_intervals_not_ectopic_coupling() -> None:
    # Ventricular bigeminy at 66 bpm (MIT-BIH 106): N-V 0.50 s, V-N 1.30 s, no NN interval.
    times, classes = _beats(
        [0.9] * 20 + [0.5, 1.3] * 20 + [0.9] * 20, "N" * 21 + "VN" * 20 + "N" * 20
    )
    found = _labels(times, classes)
    assert rhythm.BIGEMINY in found
    assert rhythm.BRADY not in found and rhythm.TACHY not in found
    # Trigeminy keeps its sinus rate's name: bradycardia at 50 bpm between the PVCs.
    times, classes = _beats([1.2] * 10 + [1.2, 0.6, 1.8] * 15, "N" * 11 + "NVN" * 15)
    assert rhythm.BRADY in _labels(times, classes)
