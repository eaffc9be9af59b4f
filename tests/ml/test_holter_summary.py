"""The Holter summary (`ml.holter_summary`): counted from the read's own beats and episodes.
A 24-h review page and its PDF gave couplets and runs only as "Next finding" labels and the
AF time only inside the rhythm line (a Holter audit)."""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.holter_summary import holter_summary
from portal.services.machine_read import NO_BEATS
from tests.support.ecg_files import synthetic

HOUR_S = 3600.0


def test_ectopy_pauses_and_af_time_are_counted_from_the_read() -> None:
    classes = np.array(list("NNVNNVVNNVVVVVNNSNSSNNNSSSNNQVN"))
    episodes = [
        rhythm.Episode(rhythm.SINUS, 0.0, 1800.0, 1000),
        rhythm.Episode(rhythm.PAUSE, 100.0, 102.5, 2),
        rhythm.Episode(rhythm.PAUSE, 900.0, 904.1, 2),
        rhythm.Episode(rhythm.AF, 1800.0, 2700.0, 900),
    ]
    beat_s = np.arange(len(classes)) * 10.0  # all before the AF from 1800 s
    summary = holter_summary(classes, beat_s, 2 * HOUR_S, episodes)
    assert summary is not None
    v, s = summary.ventricular, summary.supraventricular
    assert (v.beats, v.singles, v.couplets, v.runs, v.longest_run) == (9, 2, 1, 1, 5)
    assert v.per_hour == 4.5
    assert (s.beats, s.singles, s.couplets, s.runs, s.longest_run) == (6, 1, 1, 1, 3)
    assert summary.total_beats == len(classes)
    assert (summary.pauses, summary.longest_pause_s, summary.longest_pause_at_s) == (2, 4.1, 900)
    assert (summary.af_minutes, summary.af_percent) == (15.0, 12.5)
    assert summary.af_percent_of == "the recording"


def test_the_af_share_is_of_the_readable_time() -> None:
    """90 min, 30 of them lead-off, 30 of AF: 50 % of the readable time, not 33 % of the
    recording (lead-off had hidden AF burden; an audit)."""
    episodes = [
        rhythm.Episode(rhythm.SINUS, 0.0, 1800.0, 2000),
        rhythm.Episode(rhythm.AF, 3600.0, 5400.0, 2400),
    ]
    beat_s = np.arange(0.0, 1800.0, 1.0)
    summary = holter_summary(
        np.full(beat_s.size, "N"), beat_s, 5400.0, episodes, unreadable_spans_s=[(1800.0, 3600.0)]
    )
    assert summary is not None
    assert (summary.af_minutes, summary.af_percent) == (30.0, 50.0)
    assert summary.af_percent_of == "the readable time"


def test_the_af_time_is_the_readable_af_time_and_never_over_100_percent() -> None:
    """A Holter audit: AF through 20 min of lead-off had read 90.2 min of AF in 70 min of
    readable signal, "100.0 %" (128 %, clipped). AF counts where the signal was readable,
    as the time it is a share of does: unclipped, it cannot pass 100 %."""
    beat_s = np.arange(1.0, 3600.0, 1.0)
    classes = np.full(beat_s.size, "N")
    off = [(2400.0, 3000.0)]  # unusable: lead-off, or noise AF was read through
    through = [rhythm.Episode(rhythm.AF, 0.0, 3600.0, beat_s.size)]
    summary = holter_summary(classes, beat_s, 3600.0, through, unreadable_spans_s=off)
    assert summary is not None and summary.readable_hours is not None
    assert (summary.af_minutes, summary.af_percent) == (50.0, 100.0)
    half = [rhythm.Episode(rhythm.AF, 1800.0, 3600.0, 1800)]
    summary = holter_summary(classes, beat_s, 3600.0, half, unreadable_spans_s=off)
    assert summary is not None
    assert (summary.af_minutes, summary.af_percent) == (20.0, 40.0)  # had read 30.0, 60.0


def test_a_strip_and_a_paced_read_have_no_holter_summary() -> None:
    """A paced read's beat types and rhythm are not assessed: its summary had said "0 V, 0 S,
    0 min of AF" of MIT-BIH 217's 162 PVCs and 4 min of AF (a records audit)."""
    classes, beat_s = np.array(list("NNNV")), np.arange(4.0)
    assert holter_summary(classes, beat_s, 599.0, []) is None
    assert holter_summary(classes, beat_s, 1800.0, [], pacemaker=True) is None
    assert holter_summary(classes, beat_s, 1800.0, []) is not None


def test_s_runs_hold_the_unclassified_beats_at_their_rate_as_the_svt_episode_does() -> None:
    """svdb 801's SVT episode of 11 beats (4 of them Q) read "Longest run 4 beats" in the
    Holter table, which counted S calls in a row (a Holter audit)."""
    classes = np.array(list("N" * 10 + "SSSQQSSS" + "N" * 5 + "VVVQVVV" + "N" * 5))
    beat_s = np.concatenate(
        [np.arange(10) * 0.8, 7.7 + np.arange(8) * 0.45, 11.9 + np.arange(5) * 0.8]
    )
    beat_s = np.concatenate([beat_s, 16.0 + np.arange(7) * 0.4, 19.6 + np.arange(5) * 0.8])
    summary = holter_summary(classes, beat_s, HOUR_S, [])
    assert summary is not None
    s, v = summary.supraventricular, summary.ventricular
    assert (s.beats, s.singles, s.couplets, s.runs, s.longest_run) == (6, 0, 0, 1, 8)
    assert (v.beats, v.runs, v.longest_run) == (6, 2, 3)  # ventricular runs as before


def test_fibrillation_waves_are_no_beats_and_beats_in_af_no_premature_atrial_beats() -> None:
    """MIT-BIH 207 counted its flutter waves (2,229 "beats" for 1,860), and 202 its S calls
    inside AF as 17 runs of premature atrial beats (a records audit)."""
    classes = np.array(list("NSSSNNQQQQNNSN"))
    beat_s = np.array([1, 2, 3, 4, 5, 6, 10, 10.2, 10.4, 10.6, 20, 21, 22, 23.0])
    episodes = [rhythm.Episode(rhythm.AF, 1.5, 4.5, 3), rhythm.Episode(rhythm.VF, 9.5, 11, 0)]
    summary = holter_summary(classes, beat_s, HOUR_S, episodes)
    assert summary is not None
    assert summary.total_beats == 10
    assert (summary.supraventricular.beats, summary.supraventricular.runs) == (1, 0)


def test_the_summary_is_stored_with_the_read_and_read_back_without_beats() -> None:
    """Pages load the read without its beats (`machine_summary`): the summary comes from
    the stored read then, and says the same."""
    read = analyze(synthetic(620, 250, seed=2))
    stored = read.to_dict()
    assert stored["holter_summary"]["total_beats"] == len(read.beats.samples) > 600
    without_beats = EcgAnalysis.from_dict({**stored, "beats": NO_BEATS})
    assert without_beats.beats.samples.size == 0
    assert without_beats.holter == read.holter
