"""The episode audit names each kind of episode the reference contradicts, and runs on a
folder of records."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.research.databases import data_root
from ml.research.episode_audit import Reference, main, problems

BEATS_S = np.arange(0.0, 120.0, 0.8)


def _reference(
    classes: str | None = None, marks: list[tuple[float, str]] | None = None
) -> Reference:
    labels = np.array(list(classes)) if classes else np.full(BEATS_S.size, "N")
    return Reference(BEATS_S, labels, marks or [], 120.0)


def test_a_pause_over_a_reference_beat_is_a_missed_beat() -> None:
    [line] = problems([rhythm.Episode(rhythm.PAUSE, 8.0, 10.4, 2)], _reference())
    assert line.startswith("Pause at 8.0 s (2.4 s): 2 reference beat(s) inside")
    assert problems([rhythm.Episode(rhythm.PAUSE, 8.0, 8.8, 2)], _reference()) == []


def test_a_run_over_normal_reference_beats_is_no_run() -> None:
    run = rhythm.Episode(rhythm.VT, 8.0, 9.6, 3)
    [line] = problems([run], _reference())
    assert "reference V share 0.00 (NNN)" in line
    classes = "N" * 10 + "VVV" + "N" * (BEATS_S.size - 13)
    assert problems([run], _reference(classes)) == []


def test_af_outside_the_reference_af_is_counted_where_rhythm_marks_exist() -> None:
    af = rhythm.Episode(rhythm.AF, 30.0, 90.0, 75)
    marks = [(0.0, "(N"), (40.0, "(AFIB"), (90.0, "(N")]
    [line] = problems([af], _reference(marks=marks))
    assert line.endswith("10 s outside the reference's AF")
    assert problems([af], _reference()) == []  # no rhythm marks: nothing to judge AF by


def test_two_background_rhythms_at_once_are_named() -> None:
    episodes = [
        rhythm.Episode(rhythm.BRADY, 0.0, 60.0, 50),
        rhythm.Episode(rhythm.SINUS, 58.0, 120.0, 70),
    ]
    [line] = problems(episodes, _reference())
    assert line == (
        "Sinus bradycardia at 0.0 s and Sinus rhythm at 58.0 s at the same time for 2.0 s"
    )


@pytest.mark.skipif(not (data_root() / "mitdb" / "208.hea").exists(), reason="no MIT-BIH")
def test_the_command_audits_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(data_root() / "mitdb"), "--records", "208"]) == 0
    assert "episode(s) the reference contradicts in 1 record(s)" in capsys.readouterr().out
