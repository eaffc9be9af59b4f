"""Findings that count ventricular calls say when the beats were read from one lead only
(`ml.findings.ONE_LEAD_CAVEAT`): out of fold, one lead's V calls are wrong more often than
two leads' averaged, and a handheld strip has one lead."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.findings import ONE_LEAD_CAVEAT, findings_of_read
from ml.hrv import HeartRateSummary
from ml.intervals import not_measured
from ml.io import read_recording
from ml.research.databases import data_root

MITDB = data_root() / "mitdb"
VENTRICULAR_CODES = {"PVC", "FREQUENT_PVC", "VT", "BIGEMINY", "TRIGEMINY"}


def _findings(n_v: int, runs: list[int], one_lead: bool, label: str = rhythm.VT) -> dict[str, str]:
    """Code -> detail of a read with `n_v` V calls among 100 beats and episodes of `label`
    (VT runs, bigeminy, ...) of `runs` beats."""
    classes = np.array(["N"] * (100 - n_v) + ["V"] * n_v)
    counts = {"N": 100 - n_v, "S": 0, "V": n_v, "F": 0, "Q": 0}
    episodes = [rhythm.Episode(label, 10.0 * i, 10.0 * i + 0.3 * n, n) for i, n in enumerate(runs)]
    rate = HeartRateSummary(75.0, 60.0, 90.0, None, None, None, 100)
    probabilities = np.full((100, 5), 0.2)
    found = findings_of_read(
        episodes, not_measured("test"), rate, counts, classes, probabilities, one_lead=one_lead
    )
    return {f.code: f.detail for f in found}


@pytest.mark.parametrize(
    ("n_v", "runs", "label", "code"),
    [
        (2, [], rhythm.VT, "PVC"),
        (20, [], rhythm.VT, "FREQUENT_PVC"),
        (7, [7], rhythm.VT, "VT"),
        (3, [3], rhythm.VT, "VT"),
        (9, [18], rhythm.BIGEMINY, "BIGEMINY"),
        (6, [18], rhythm.TRIGEMINY, "TRIGEMINY"),
    ],
)
def test_ventricular_findings_of_one_lead_say_so_and_ask_for_the_strip(
    n_v: int, runs: list[int], label: str, code: str
) -> None:
    one = _findings(n_v, runs, True, label)[code]
    two = _findings(n_v, runs, False, label)[code]
    assert ONE_LEAD_CAVEAT in one and "check the strip" in one
    assert ONE_LEAD_CAVEAT not in two
    assert one.startswith(two.split(";")[0])  # the count itself is unchanged


def test_other_findings_are_worded_the_same_on_one_lead() -> None:
    one, two = _findings(0, [], one_lead=True), _findings(0, [], one_lead=False)
    assert one == two == {"NORMAL": ""}


@pytest.mark.skipif(not (MITDB / "119.hea").is_file(), reason="mitdb not found")
def test_the_same_minute_read_from_one_lead_carries_the_caveat_and_from_two_does_not() -> None:
    """MIT-BIH 119's first minute (ventricular bigeminy): both leads, then MLII alone."""
    record = read_recording(MITDB / "119.hea")
    minute = int(60 * record.fs_hz)
    both = dataclasses.replace(record, signal_mv=record.signal_mv[:minute])
    alone = dataclasses.replace(both, signal_mv=both.signal_mv[:, :1], lead_names=("MLII",))
    two, one = analyze(both), analyze(alone)
    v_two = [f for f in two.findings if f.code in VENTRICULAR_CODES]
    v_one = [f for f in one.findings if f.code in VENTRICULAR_CODES]
    assert v_two and v_one
    assert not any(ONE_LEAD_CAVEAT in f.detail for f in two.findings)
    assert all(ONE_LEAD_CAVEAT in f.detail for f in v_one)
    assert not any(ONE_LEAD_CAVEAT in f.detail for f in one.findings if f not in v_one)
