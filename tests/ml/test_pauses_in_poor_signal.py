"""A faint detection in poor signal does not end a pause; an escape beat does
(`ml.rhythm.join_pauses`, `ml.analysis.faint_in_poor_signal`)."""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.chunked import analyze_chunked
from ml.io import read_recording
from ml.io.sources import ArraySource
from ml.research.databases import data_root

PAUSE = rhythm.PAUSE


def _pauses(analysis: EcgAnalysis, start_s: float, end_s: float) -> list[tuple[float, float]]:
    return [
        (round(e.start_s, 1), round(e.end_s, 1))
        for e in analysis.episodes
        if e.label == PAUSE and start_s <= e.start_s and e.end_s <= end_s
    ]


def test_pauses_split_by_doubtful_detections_are_one() -> None:
    episodes = [
        rhythm.Episode(rhythm.SINUS, 0.0, 100.0, 80),
        rhythm.Episode(PAUSE, 10.0, 17.8, 2),
        rhythm.Episode(PAUSE, 17.8, 20.6, 2),
        rhythm.Episode(PAUSE, 20.6, 22.6, 2),
        rhythm.Episode(PAUSE, 40.0, 42.5, 2),  # apart from the others
        rhythm.Episode(PAUSE, 42.5, 45.0, 2),  # split by a beat that is a beat
    ]
    joined, notes = rhythm.join_pauses(episodes, np.array([17.8, 20.6, 30.0]))
    assert [(e.start_s, e.end_s, e.n_beats) for e in joined if e.label == PAUSE] == [
        (10.0, 22.6, 4),
        (40.0, 42.5, 2),
        (42.5, 45.0, 2),
    ]
    assert [(e.start_s, e.end_s) for e in notes] == [(10.0, 22.6)]
    assert episodes[0] in joined  # other episodes as they were
    # Only the first split is doubtful: the second pause still ends at 20.6.
    partly, _ = rhythm.join_pauses(episodes, np.array([17.8]))
    assert [(e.start_s, e.end_s) for e in partly if e.label == PAUSE][:2] == [
        (10.0, 20.6),
        (20.6, 22.6),
    ]
    assert rhythm.join_pauses(episodes, np.array([])) == (episodes, [])


def test_svdb_850s_sinus_arrest_reads_as_one_pause_whole_and_chunked() -> None:
    """12.5 s with both leads flat; the detector finds two faint "beats" in it, which read it
    as pauses of 7.8, 2.8 and 2.1 s."""
    recording = read_recording(data_root() / "svdb" / "850.hea")
    for analysis in (analyze(recording), analyze_chunked(ArraySource(recording), chunk_s=600)):
        assert _pauses(analysis, 1580, 1600) == [(1585.0, 1597.5)]
        pause = next(f for f in analysis.findings if f.code == "PAUSE")
        assert pause.risk == "high" and "longest 12.6 s" in pause.detail
        assert any(
            note.startswith(
                "2 detections under a quarter of the usual QRS size in every lead read, inside "
                "a stretch with no QRS complex (from 0:26:24), were not taken as beats"
            )
            for note in analysis.notes
        ), analysis.notes


def test_an_escape_beat_between_two_pauses_still_ends_the_first() -> None:
    """MIT-BIH 207: ventricular escape beats 2.3 and 2.5 s apart, in poor signal, full size."""
    analysis = analyze(read_recording(data_root() / "mitdb" / "207.hea"))
    assert _pauses(analysis, 1640, 1646) == [(1640.5, 1642.8), (1642.8, 1645.3)]
