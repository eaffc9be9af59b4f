"""The clinician PDF's AF strip shows AF: 10 s from the middle of the longest AF episode, its
title saying which episode and where it began (`reports.strips._strip_start_s`). A Holter
audit's strip "Atrial fibrillation/flutter at 0:29:59 into the recording" started 2 s before
the first AF episode's machine onset (1799.8 s; the AF began at 1805.7 s), so 7 of its 10 s
were sinus rhythm, and that episode was not the one the episode table listed."""

from __future__ import annotations

import dataclasses

from ml import rhythm
from ml.analysis import analyze
from ml.research.synthetic import BeatTruth, synthetic_recording
from reports.strips import report_strips


def test_the_af_strip_is_10_s_from_inside_the_longest_af_episode() -> None:
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72), duration_s=60, fs_hz=250,
                                       leads=("II", "V1"))  # fmt: skip
    analysis = dataclasses.replace(analyze(recording), episodes=[
        rhythm.Episode(rhythm.SINUS, 0.5, 5.0, 6), rhythm.Episode(rhythm.AF, 5.0, 20.0, 20),
        rhythm.Episode(rhythm.SINUS, 20.0, 22.0, 3), rhythm.Episode(rhythm.AF, 22.0, 58.0, 45),
    ])  # fmt: skip
    titles = [s.title for s in report_strips(recording, analysis)]
    af = [t for t in titles if t.startswith(rhythm.AF)]
    # 35-45 s: the middle of 22-58 s, not 3-13 s around the first onset.
    assert af == [f"{rhythm.AF} (the longest of 2: 36.0 s, from 22.0 s) at 35.0 s, lead II"]
