"""A dropped beat names the other cause that looks alike: a premature atrial beat blocked in
the T wave before it (MIT-BIH 219's 133 blocked premature beats read five "dropped beat(s)"
as a possible AV block, with no word of them; an electrophysiologist's audit)."""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.findings import findings_of_read
from ml.hrv import HeartRateSummary
from ml.intervals import not_measured


def test_the_dropped_beat_finding_says_blocked_premature_beats_look_alike() -> None:
    dropped = [rhythm.Episode(rhythm.DROPPED, 10.0, 11.6, 2)]
    classes = np.array(["N"] * 40)
    counts = {"N": 40, "S": 0, "V": 0, "F": 0, "Q": 0}
    rate = HeartRateSummary(72.0, 60.0, 80.0, None, None, None, 40)
    findings = findings_of_read(
        dropped, not_measured("test"), rate, counts, classes, np.full((40, 5), 0.2)
    )
    (finding,) = [f for f in findings if f.code == "DROPPED_BEAT"]
    assert finding.detail == (
        "1 dropped beat(s), longest 1.6 s; blocked atrial premature beats look alike: check the "
        "T wave before each for a P wave"
    )
