"""V calls in signal noisy in every lead that look like no other V call become Q; a patient's
ventricular beats, which look alike, keep their class, and so does every V call in good
signal or where another lead is good."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.analysis import analyze, unclassified_where_doubtful, ventricular_matches
from ml.io import read_recording
from ml.quality import READ_FROM, Segment, noisy_everywhere_mask
from ml.research.databases import data_root
from ml.unmatched_ventricular import (
    MIN_MATCH,
    NOTE_PHRASE,
    best_matches,
    unmatched,
    unmatched_note,
    ventricular_waves,
)
from tests.support.cinc_folder import one_strip_folder

FS_HZ = 250.0


def _gauss(t_s: np.ndarray, at_s: float, width_s: float) -> np.ndarray:
    return np.exp(-0.5 * ((t_s - at_s) / width_s) ** 2)


def _strip_with_calls() -> tuple[np.ndarray, np.ndarray]:
    """20 s: three wide ventricular beats of one shape (a deep wide QRS, an opposite T wave)
    at 2, 6 and 14 s, and two artefact "beats" of different shapes at 9 and 17 s."""
    t_s = np.arange(0, 20, 1 / FS_HZ)
    signal_mv = np.zeros(t_s.size)
    for at_s in (2.0, 6.0, 14.0):
        signal_mv += -1.2 * _gauss(t_s, at_s, 0.03) + 0.4 * _gauss(t_s, at_s + 0.18, 0.05)
    signal_mv += 0.8 * _gauss(t_s, 9.0, 0.01) - 0.8 * _gauss(t_s, 9.1, 0.01)  # a sharp bipolar
    signal_mv += 0.6 * np.sin(2 * np.pi * 6 * (t_s - 17.0)) * _gauss(t_s, 17.0, 0.08)  # wobble
    peaks = np.round(np.array([2.0, 6.0, 9.0, 14.0, 17.0]) * FS_HZ).astype(int)
    return signal_mv, peaks


def test_alike_calls_match_and_artefact_matches_nothing() -> None:
    signal_mv, peaks = _strip_with_calls()
    waves = ventricular_waves(signal_mv, FS_HZ, peaks)
    matches = best_matches(waves, np.ones(peaks.size, dtype=bool))
    alike, artefact = matches[[0, 1, 3]], matches[[2, 4]]
    assert (alike > 0.99).all()
    assert (artefact < MIN_MATCH).all()
    assert unmatched(matches).tolist() == [False, False, True, False, True]


def test_only_judged_calls_are_measured_and_a_lone_call_matches_nothing() -> None:
    signal_mv, peaks = _strip_with_calls()
    waves = ventricular_waves(signal_mv, FS_HZ, peaks)
    judged = np.array([False, False, True, False, False])
    matches = best_matches(waves, judged)
    assert np.isnan(matches[~judged]).all()
    assert not unmatched(matches)[~judged].any()
    [lone] = best_matches(waves[:1], np.ones(1, dtype=bool))
    assert lone == -1.0
    assert unmatched(np.array([lone])).all()


def test_a_call_too_near_the_edge_matches_nothing() -> None:
    signal_mv, peaks = _strip_with_calls()
    at_edge = np.array([1, *peaks])  # no whole window around sample 1
    waves = ventricular_waves(signal_mv, FS_HZ, at_edge)
    assert not waves[0].any()
    assert best_matches(waves, np.ones(at_edge.size, dtype=bool))[0] == 0.0


def test_noisy_in_every_lead_leaves_out_segments_another_lead_reads() -> None:
    segments = [
        Segment(0.0, 10.0, "good"),
        Segment(10.0, 20.0, "noisy", "beats differ from one to the next (artefact or noise)"),
        Segment(20.0, 30.0, "noisy", f"lead MLII noisy (muscle or mains noise){READ_FROM}V1"),
        Segment(30.0, 40.0, "unusable", "flat line (electrode off?)"),
    ]
    times_s = np.array([5.0, 15.0, 25.0, 35.0])
    assert noisy_everywhere_mask(segments, times_s).tolist() == [False, True, False, False]
    assert not noisy_everywhere_mask([], times_s).any()


def test_only_unmatched_calls_in_noise_become_unclassified_with_a_note() -> None:
    """The three alike beats stay V wherever they are; the artefact call at 9 s, in a noisy
    segment, becomes Q; the one at 17 s, in a segment another lead reads, stays V."""
    signal_mv, peaks = _strip_with_calls()
    classes = np.array(list("VVVVV"))
    quality = [
        Segment(0.0, 10.0, "noisy", "motion artefact or baseline wander"),
        Segment(10.0, 20.0, "noisy", f"lead I noisy (muscle or mains noise){READ_FROM}II"),
    ]
    beat_s = peaks / FS_HZ
    waves = ventricular_waves(signal_mv, FS_HZ, peaks)
    lone = unmatched(ventricular_matches(classes, beat_s, quality, waves, None))
    assert lone is not None
    assert lone.tolist() == [False, False, True, False, False]
    read, notes = unclassified_where_doubtful(beat_s, classes, None, None, lone)
    assert "".join(read) == "VVQVV"
    assert notes == [unmatched_note(np.array([9.0]))]
    assert notes[0].startswith(
        f"1 beat called ventricular (at 9.0 s) was left unclassified: it sits in noisy signal "
        f"and {NOTE_PHRASE}"
    )
    assert ventricular_matches(np.array(list("NNNNN")), beat_s, quality, waves[:0], None) is None
    assert unmatched(None) is None


CINC = data_root() / "cinc2017"
MITDB = data_root() / "mitdb"


@pytest.mark.skipif(not (CINC / "A01779.hea").is_file(), reason="cinc2017 not found")
def test_a_normal_strips_artefact_is_no_longer_a_ventricular_run() -> None:
    """A01779 (reference: normal rhythm): five V calls in the motion artefact of its first
    seconds, two of them a "run" (VT, medium risk), look like no other; left unclassified,
    the strip reads no significant arrhythmia."""
    analysis = analyze(read_recording(CINC / "A01779.hea"))
    [note] = [n for n in analysis.notes if NOTE_PHRASE in n]
    assert note.startswith("5 beats called ventricular (at 1.4 s, 1.7 s, 2.4 s, 5.5 s, 6.0 s)")
    assert analysis.beat_counts["V"] == 0
    assert analysis.main_finding.code == "NORMAL"


@pytest.mark.skipif(not (MITDB / "208.atr").is_file(), reason="mitdb not found")
def test_a_patients_frequent_ventricular_beats_in_noise_keep_their_class() -> None:
    """MIT-BIH 208 (DS1): about a hundred of its V calls sit in stretches signal quality calls
    noisy in both leads; they look alike, so the rule leaves every one of them V."""
    recording = read_recording(MITDB / "208.hea")
    analysis = analyze(recording)
    beat_s = analysis.beats.samples / recording.fs_hz
    ventricular = analysis.beats.classes == "V"
    in_noise = noisy_everywhere_mask(analysis.quality, beat_s)
    assert (ventricular & in_noise).sum() > 80
    assert not any(NOTE_PHRASE in n for n in analysis.notes)


@pytest.mark.skipif(not (CINC / "A01779.hea").is_file(), reason="cinc2017 not found")
def test_the_table_command_counts_what_the_rule_takes(tmp_path: Path) -> None:
    """`python -m ml.research.unmatched_v_table` on a folder holding one normal strip: its
    five judged V calls match one another at 0.50-0.67 at best: 3 under the limit 0.6, all
    five from 0.7 on."""
    from ml.research.unmatched_v_table import LIMITS, main, table

    result = table(one_strip_folder(tmp_path, CINC, "A01779", "N"))
    assert result["judged"] == {"normal strips": 5}
    under = {limit: row["normal strips"] for limit, row in result["under_limit"].items()}
    assert under == {str(limit): 3 if limit < 0.7 else 5 for limit in LIMITS}
    assert list(result["under_limit"]) == [str(limit) for limit in LIMITS]
    assert main(["--data-dir", str(tmp_path), "--json"]) == 0
