"""Where "Next finding" stops (`portal/finding_stops.py`): every finding of a real machine read
that has a place in time, from a synthetic recording with atrial fibrillation, PVCs (single
and a couplet), a first-degree AV block and a long QT."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze
from ml.quality import Segment
from ml.recording import Recording
from ml.research.synthetic import BeatTruth, synthetic_rhythm_mv
from portal import finding_stops as stops_module
from portal.finding_stops import MAX_STOPS_PER_KIND, finding_stops

ANALYSIS_SOURCE = Path(__file__).resolve().parent.parent / "ml" / "analysis.py"
FS_HZ = 360.0
SINUS_S, AF_S = 50.0, 30.0  # sinus rhythm with PVCs, then atrial fibrillation
SINUS_BPM, PR_MS, QT_MS = 70.0, 260.0, 480.0  # first-degree AV block and a long QT
PVC_EVERY = 8  # every 8th sinus beat is replaced by a premature ventricular beat
COUPLET_AT = 31  # the 4th PVC is followed 0.5 s later by a second one: a couplet
SEED = 5


def af_pvc_av_block_recording() -> tuple[Recording, np.ndarray]:
    """80 s of leads II and V1 at 360 Hz and the true PVC onsets (s): 50 s of sinus rhythm at
    70 bpm with PR 260 ms and QT 480 ms in which a wide premature beat replaces every 8th
    sinus beat (one of them followed 0.5 s later by a second: a couplet), then 30 s of atrial
    fibrillation (irregular RR 0.45-1.0 s, no P waves, fibrillatory waves)."""
    rng = np.random.default_rng(SEED)
    rr_s = 60.0 / SINUS_BPM
    beats_s = np.arange(0.5, SINUS_S, rr_s)
    ectopic = np.arange(beats_s.size) % PVC_EVERY == PVC_EVERY - 1
    ectopic[COUPLET_AT + 1] = True  # the sinus beat after the couplet is skipped too
    pvc_s = (
        np.where(np.arange(beats_s.size) == COUPLET_AT + 1, beats_s[COUPLET_AT] + 0.5, beats_s)[
            ectopic
        ]
        - 0.4 * rr_s
    )
    af_beats_s = SINUS_S + np.cumsum(rng.uniform(0.45, 1.0, 100))
    af_beats_s = af_beats_s[af_beats_s < SINUS_S + AF_S - 0.5]
    duration_s = SINUS_S + AF_S
    fibrillation_mv = np.concatenate(
        [
            np.zeros(int(SINUS_S * FS_HZ)),
            synthetic_rhythm_mv(
                np.array([]), duration_s=AF_S, fs_hz=FS_HZ, p_waves=False,
                fibrillation_mv=0.08, noise_mv=0.0, seed=SEED + 2,
            ),
        ]
    )  # fmt: skip
    leads = []
    for qrs_gain, p_mv in ((1.0, 0.15), (-0.6, 0.1)):  # II upright; V1 mostly negative
        sinus = BeatTruth(
            hr_bpm=SINUS_BPM, pr_ms=PR_MS, qt_ms=QT_MS, r_mv=1.2 * qrs_gain, p_mv=p_mv
        )
        pvc = BeatTruth(qrs_ms=160, qt_ms=440, t_duration_ms=220, r_mv=-1.4 * np.sign(qrs_gain),
                        t_mv=0.4 * np.sign(qrs_gain), p_mv=0.0)  # fmt: skip
        lead_mv = synthetic_rhythm_mv(
            beats_s[~ectopic], duration_s=duration_s, fs_hz=FS_HZ, truth=sinus, seed=SEED
        )
        lead_mv += synthetic_rhythm_mv(pvc_s, duration_s=duration_s, fs_hz=FS_HZ, truth=pvc,
                                       p_waves=False, noise_mv=0.0)  # fmt: skip
        lead_mv += synthetic_rhythm_mv(af_beats_s, duration_s=duration_s, fs_hz=FS_HZ,
                                       truth=sinus, p_waves=False, noise_mv=0.0)  # fmt: skip
        leads.append(lead_mv + fibrillation_mv)
    recording = Recording(
        fs_hz=FS_HZ, lead_names=("II", "V1"), signal_mv=np.column_stack(leads),
        source_format="synthetic",
    )  # fmt: skip
    return recording, np.sort(pvc_s)


@pytest.fixture(scope="module")
def machine_read() -> tuple[EcgAnalysis, np.ndarray]:
    recording, pvc_s = af_pvc_av_block_recording()
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


def test_every_code_the_machine_writes_is_located_or_says_why_not() -> None:
    tree = ast.parse(ANALYSIS_SOURCE.read_text())
    emitted = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Finding"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    } | {
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "add_episodes"
        and isinstance(node.args[1], ast.Constant)
    }
    explained = set(stops_module.LOCATED_BY) | set(stops_module.NO_STOP_BECAUSE)
    assert emitted and emitted <= explained, emitted - explained
