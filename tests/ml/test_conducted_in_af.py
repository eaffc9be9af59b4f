"""Beats called supraventricular on a strip read as atrial fibrillation/flutter are counted as
conducted beats (N): no "Supraventricular ectopic beats" or "Supraventricular tachycardia"
beside the strip's AF; a long recording's S calls keep their class."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml import rhythm, strip_rhythm
from ml.analysis import analyze, default_classifier
from ml.conducted_in_af import NOTE_PHRASE, conducted_in_af_strip, conducted_note
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import data_root

CINC = data_root() / "cinc2017"
SVDB = data_root() / "svdb"


def test_only_s_calls_on_a_strip_read_as_af_are_conducted_beats() -> None:
    classes = np.array(list("NSSVSNQS"))
    assert conducted_in_af_strip(classes, "af").tolist() == [0, 1, 1, 0, 1, 0, 0, 1]
    for other_call in ("sinus", "other", "unclassifiable", None):
        assert not conducted_in_af_strip(classes, other_call).any()
    assert conducted_note(1).startswith("1 beat called supraventricular on this strip")
    assert "2 beats called supraventricular" in conducted_note(2) and " were " in conducted_note(2)


def test_an_af_strip_keeps_no_supraventricular_run() -> None:
    beat_s = np.arange(0.0, 20.0, 0.7)
    svt = rhythm.Episode(rhythm.SVT, 3.0, 4.4, 3)
    assert rhythm.strip_episodes([svt], "af", beat_s) == [
        rhythm.Episode(rhythm.AF, 0.0, float(beat_s[-1]), beat_s.size)
    ]
    assert svt in rhythm.strip_episodes([svt], "other", beat_s)


@pytest.mark.skipif(not (CINC / "A04697.hea").is_file(), reason="cinc2017 not found")
def test_an_af_strip_reports_no_supraventricular_ectopy_beside_its_af() -> None:
    """A04697 (labelled AF): the classifier calls some of its irregular beats S; the strip is
    read as AF, so they are conducted AF beats."""
    recording = read_recording(CINC / "A04697.hea", uncalibrated_ok=True)
    analysis = analyze(recording, default_classifier())
    assert analysis.strip is not None and analysis.strip.label == "af"
    assert analysis.main_finding.code == "AF"
    assert analysis.beat_counts["S"] == 0 and "S" not in set(analysis.beats.classes)
    codes = {f.code for f in analysis.findings}
    assert not codes & {"PAC", "SVT"}
    assert not [e for e in analysis.episodes if e.label == rhythm.SVT]
    notes = [n for n in analysis.notes if NOTE_PHRASE in n]
    assert len(notes) == 1 and notes[0].split()[0].isdigit()


@pytest.mark.skipif(not (CINC / "A03548.hea").is_file(), reason="cinc2017 not found")
def test_an_af_strips_intervals_count_its_s_calls_as_conducted_beats() -> None:
    """A clinician-eye audit: measured before the strip's AF call, with its S calls as early
    ectopic beats, A03548's QT read "not measurable (the next beat (an early ectopic beat
    587 ms after each normal one) comes before the T wave ends)", untrue in AF. Measured
    again with them as the conducted beats they are, the reason is the T wave's own."""
    analysis = analyze(read_recording(CINC / "A03548.hea", uncalibrated_ok=True))
    assert analysis.strip is not None and analysis.strip.label == "af"
    reason = analysis.intervals.not_measurable.get("qt", "")
    assert "early ectopic beat" not in reason


def test_regular_s_runs_between_regular_sinus_beats_are_no_af() -> None:
    """Runs of S calls regular within themselves, between normal beats at a regular rate, are
    supraventricular tachycardia runs, not AF; irregular inside the run or around it, AF
    stays (`strip_rhythm.strip_call_with_svt_runs`)."""
    af = strip_rhythm.StripCall("af", "Atrial fibrillation/flutter", "", 0.99, {})
    sinus_s = np.arange(0.0, 8.0, 0.8)
    run_s = sinus_s[-1] + 0.4 * np.arange(1, 13)
    beat_s = np.concatenate([sinus_s, run_s, run_s[-1] + 0.8 * np.arange(1, 6)])
    classes = np.array(["N"] * sinus_s.size + ["S"] * run_s.size + ["N"] * 5)
    call = strip_rhythm.strip_call_with_svt_runs(af, beat_s, classes)
    assert call.label == "other" and "supraventricular tachycardia runs (12 beats" in call.reason
    assert not conducted_in_af_strip(classes, call.label).any()
    jitter = np.random.default_rng(1).uniform(-0.12, 0.12, run_s.size)
    irregular_run = beat_s.copy()
    irregular_run[sinus_s.size : sinus_s.size + run_s.size] += jitter
    assert strip_rhythm.strip_call_with_svt_runs(af, irregular_run, classes) == af
    irregular_sinus = beat_s + np.where(
        classes == "N", np.resize([0.0, 0.15, -0.1], beat_s.size), 0
    )
    assert strip_rhythm.strip_call_with_svt_runs(af, irregular_sinus, classes) == af


@pytest.mark.skipif(not (SVDB / "840.hea").is_file(), reason="svdb not found")
def test_svdb_840s_s_run_in_sinus_rhythm_is_no_af_and_keeps_its_s_beats() -> None:
    """An electrophysiologist's audit: svdb 840, 640-670 s, a 41-beat S run (649.5-666.8 s)
    between clear sinus beats, read "Atrial fibrillation/flutter" at high risk with S 0 and
    39 S calls counted as conducted AF beats. Now another rhythm, its S calls kept."""
    record = wfdb.rdrecord(str(SVDB / "840"), sampfrom=640 * 128, sampto=670 * 128)
    analysis = analyze(Recording(128.0, tuple(record.sig_name), record.p_signal))
    assert analysis.strip is not None and analysis.strip.label == "other"
    assert analysis.strip.reason.startswith("supraventricular tachycardia runs")
    assert analysis.main_finding.code != "AF"
    assert analysis.beat_counts["S"] >= 30
    assert not [n for n in analysis.notes if NOTE_PHRASE in n]
