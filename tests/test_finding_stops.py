"""Where "Next finding" stops (`portal/finding_stops.py`): every finding of a real machine read
that has a place in time, from a synthetic recording with atrial fibrillation, PVCs (single
and a couplet), a first-degree AV block and a long QT."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.quality import Segment
from portal import finding_stops as stops_module
from portal.finding_stops import LARGEST_KEPT, MAX_STOPS_PER_KIND, finding_stops
from tests.support.af_pvc_recording import FS_HZ, af_pvc_av_block_recording
from tests.support.machine_codes import codes_the_machine_writes

QT_MS = 480.0  # and a long QT


@pytest.fixture(scope="module")
def machine_read() -> tuple[EcgAnalysis, np.ndarray]:
    recording, pvc_s = af_pvc_av_block_recording(qt_ms=QT_MS, couplet=True)
    return analyze(recording), pvc_s


def test_every_finding_and_episode_of_a_read_with_af_pvcs_and_av_block_is_a_stop(
    machine_read: tuple[EcgAnalysis, np.ndarray],
) -> None:
    analysis, pvc_s = machine_read
    codes = {f.code for f in analysis.findings}
    assert {"AF", "PVC", "AV_BLOCK_1", "LONG_QT"} <= codes, codes  # the machine's own read
    stops = finding_stops(analysis)
    times = [s.t_s for s in stops]
    assert times == sorted(times)
    kinds = [s.kind for s in stops]

    # The AF episode, at its start.
    (af,) = [e for e in analysis.episodes if e.label == rhythm.AF]
    (af_stop,) = [s for s in stops if s.kind == "AF"]
    assert af_stop.t_s == pytest.approx(af.start_s, abs=1e-3)
    assert af_stop.label.startswith("Atrial fibrillation/flutter, ")

    # Every PVC: the single ones and the couplet's first beat, each within 0.2 s of the truth
    # (the machine marks the R peak, the generator the QRS onset).
    ventricular = [s for s in stops if s.kind in ("PVC", "PVC couplet")]
    couplet_first = pvc_s[np.flatnonzero(np.diff(pvc_s) < 0.6)[0]]
    expected = [t for t in pvc_s if not couplet_first < t < couplet_first + 0.6]
    sinus_part = [s for s in ventricular if s.t_s < af.start_s]
    assert len(sinus_part) == len([t for t in expected if t < af.start_s])
    for stop, truth_s in zip(sinus_part, expected, strict=False):
        assert 0 <= stop.t_s - truth_s < 0.2, (stop, truth_s)
    (couplet,) = [s for s in stops if s.kind == "PVC couplet"]
    assert couplet.label == "PVC couplet" and 0 <= couplet.t_s - couplet_first < 0.2

    # The interval findings: one typical normal beat, two distinct stops at the same time.
    av_block, long_qt = (next(s for s in stops if s.kind == k) for k in ("AV_BLOCK_1", "LONG_QT"))
    assert av_block.t_s == long_qt.t_s
    assert kinds.index("LONG_QT") == kinds.index("AV_BLOCK_1") + 1
    first_normal = analysis.beats.samples[analysis.beats.classes == "N"][0] / FS_HZ
    assert av_block.t_s == pytest.approx(first_normal, abs=1e-3)
    assert av_block.label.startswith("First-degree AV block: PR ")
    assert "measured on the median beat" in av_block.label

    # Nothing else: no plain sinus rhythm, and every stop of a kind listed above or an
    # ectopic beat the machine counted.
    assert set(kinds) <= {"AF", "PVC", "PVC couplet", "PAC", "AV_BLOCK_1", "LONG_QT"}, kinds
    assert kinds.count("PAC") == analysis.beat_counts["S"]


def test_flagged_segments_are_stops_labelled_as_poor_signal(
    machine_read: tuple[EcgAnalysis, np.ndarray],
) -> None:
    analysis, _ = machine_read
    noisy = Segment(20.0, 24.0, "noisy", "baseline wander")
    unusable = Segment(60.0, 62.5, "unusable", "flat line")
    with_flags = EcgAnalysis.from_dict(
        {
            **analysis.to_dict(),
            "quality": {"flagged_segments": [noisy.__dict__, unusable.__dict__]},
        }
    )
    quality = [s for s in finding_stops(with_flags) if s.kind == "QUALITY"]
    assert [(s.t_s, s.label) for s in quality] == [
        (20.0, "Poor signal quality (noisy: baseline wander)"),
        (60.0, "Poor signal quality (unusable: flat line)"),
    ]


def test_a_kind_with_very_many_occurrences_is_thinned_evenly_and_says_so(
    machine_read: tuple[EcgAnalysis, np.ndarray],
) -> None:
    analysis, _ = machine_read
    data = analysis.to_dict()
    pauses = [
        {"label": rhythm.PAUSE, "start_s": 0.5 * i, "end_s": 0.5 * i + 0.25, "n_beats": 2}
        for i in range(150)
    ]
    thinned = [
        s
        for s in finding_stops(EcgAnalysis.from_dict({**data, "episodes": pauses}))
        if s.kind == "PAUSE"
    ]
    assert len(thinned) == MAX_STOPS_PER_KIND
    assert thinned[0].t_s == 0.0 and thinned[-1].t_s == 74.5  # the first and the last
    assert all(s.label.endswith(f"({MAX_STOPS_PER_KIND} of 150 shown)") for s in thinned)
    # All alike: none is "one of the longest" (the first ten had been, an audit), and the
    # 50 are spread evenly over the whole recording.
    assert not any("longest" in s.label for s in thinned)
    gaps = np.diff([s.t_s for s in thinned])
    assert gaps.max() - gaps.min() <= 0.5


def test_a_thinned_kind_keeps_its_longest_occurrences(
    machine_read: tuple[EcgAnalysis, np.ndarray],
) -> None:
    """A 24-h Holter's 50 pause stops, spread evenly, left out its longest pause (5.9 s), and
    its 50 VT stops its five longest runs (a Holter audit)."""
    analysis, _ = machine_read
    data = analysis.to_dict()
    longest = {7: 5.9, 11: 4.0}  # indices the even spread skips (0, 3, 6, 9, 12, ...)
    pauses = [
        {"label": rhythm.PAUSE, "start_s": 10.0 * i, "end_s": 10.0 * i + longest.get(i, 2.1),
         "n_beats": 2}
        for i in range(150)
    ]  # fmt: skip
    thinned = {
        s.t_s: s.label
        for s in finding_stops(EcgAnalysis.from_dict({**data, "episodes": pauses}))
        if s.kind == "PAUSE"
    }
    assert len(thinned) == MAX_STOPS_PER_KIND
    assert thinned[70.0] == f"Pause, 5.9 s (one of the {LARGEST_KEPT} longest; 50 of 150 shown)"
    assert thinned[110.0].startswith("Pause, 4.0 s (one of the")


def test_every_code_the_machine_writes_is_located_or_says_why_not() -> None:
    emitted = codes_the_machine_writes()
    explained = set(stops_module.LOCATED_BY) | set(stops_module.NO_STOP_BECAUSE)
    assert emitted and emitted <= explained, emitted - explained
