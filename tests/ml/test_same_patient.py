"""Records that are one patient recorded twice are found from their median beats
(`ml.research.same_patient`), and the beat classifier's folds keep them together."""

from __future__ import annotations

import pytest

from ml.research.databases import data_root
from ml.research.same_patient import likely_same_patient, median_beat, similarity
from ml.training.cv import SAME_PATIENT

MITDB, SVDB = data_root() / "mitdb", data_root() / "svdb"
pytestmark = pytest.mark.skipif(not SVDB.is_dir(), reason="no local svdb copy")


def _pairs(data_dir, names):  # type: ignore[no-untyped-def]
    beats = {n: median_beat(data_dir, n) for n in names}
    found = likely_same_patient(*similarity(beats))
    return {frozenset((a, b)) for a, b, _ in found}


def test_mitbih_201_and_202_one_man_are_found_and_other_patients_are_not() -> None:
    """MIT-BIH documents 201 and 202 as one patient; 105 and 210 are the most alike of the
    different patients (r 0.96)."""
    found = _pairs(MITDB, ["201", "202", "105", "210", "100", "119"])
    assert found == {frozenset({"201", "202"})}


def test_the_svdb_groups_the_folds_keep_together_are_what_the_beats_say() -> None:
    names = sorted({r.split("/")[1] for group in SAME_PATIENT for r in group} | {"801", "850"})
    found = _pairs(SVDB, names)
    for group in SAME_PATIENT:
        members = {r.split("/")[1] for r in group}
        linked = {m for pair in found if pair <= members for m in pair}
        assert linked == members, group  # every record of a group is linked to another
    assert not any(pair & {"801", "850"} for pair in found)
