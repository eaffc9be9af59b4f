"""A run of fast S calls inside atrial fibrillation/flutter is the AF's fast ventricular
response, not a supraventricular tachycardia (`rhythm.without_svt_in_af`): svdb 845 read an
SVT finding and episode at 562.8 s, inside its 7 min of AF, beside a Holter summary that
leaves S calls inside AF out and counted no run (an adversarial review). A true SVT run in
sinus rhythm stays, in the finding, the episodes, the Holter summary and the PDF's strips."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ml.analysis as analysis_module
from ml import rhythm
from ml.analysis import analyze
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import data_root
from ml.research.synthetic import BeatTruth, synthetic_rhythm_mv
from reports.strips import report_strips

FS_HZ = 250.0
SINUS_RR_S = 0.8
BURST_RR_S = 0.38  # 158 /min
SINUS_BURST_S = 120.0  # a true SVT run: 6 premature beats in sinus rhythm
AF_S = (300.0, 480.0)
AF_BURST_S = 390.0  # 6 fast beats inside the AF
DURATION_S = 660.0  # a Holter summary from 10 min
SVDB = data_root() / "svdb"


def _onsets_s() -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """Sinus beats, AF beats, and the two bursts' spans (s)."""
    rng = np.random.default_rng(7)
    sinus = [*np.arange(0.5, SINUS_BURST_S, SINUS_RR_S)]
    burst = sinus[-1] + BURST_RR_S * np.arange(1, 7)
    sinus += [*burst, *np.arange(burst[-1] + SINUS_RR_S, AF_S[0], SINUS_RR_S)]
    af = [AF_S[0] + 0.6]
    while af[-1] < AF_S[1] - 1.0:
        fast = AF_BURST_S <= af[-1] < AF_BURST_S + 5 * BURST_RR_S
        af.append(af[-1] + (BURST_RR_S if fast else rng.uniform(0.45, 1.0)))
    sinus += [*np.arange(af[-1] + SINUS_RR_S, DURATION_S - 0.5, SINUS_RR_S)]
    spans = [(burst[0] - 0.01, burst[-1] + 0.1), (AF_BURST_S - 0.01, AF_BURST_S + 6 * BURST_RR_S)]
    return np.array(sinus), np.array(af), spans


def _recording() -> tuple[Recording, list[tuple[float, float]]]:
    sinus_s, af_s, spans = _onsets_s()
    n = int(DURATION_S * FS_HZ)
    in_af = (np.arange(n) / FS_HZ >= AF_S[0]) & (np.arange(n) / FS_HZ < AF_S[1])
    waves = synthetic_rhythm_mv(np.array([]), duration_s=DURATION_S, fs_hz=FS_HZ, p_waves=False,
                                fibrillation_mv=0.08, noise_mv=0.0, seed=3)  # fmt: skip
    leads = []
    for gain in (1.0, -0.6):  # II upright, V1 mostly negative
        truth = BeatTruth(hr_bpm=75.0, r_mv=1.2 * gain, p_mv=0.15 * abs(gain))
        lead_mv = synthetic_rhythm_mv(sinus_s, duration_s=DURATION_S, fs_hz=FS_HZ, truth=truth)
        lead_mv += synthetic_rhythm_mv(af_s, duration_s=DURATION_S, fs_hz=FS_HZ, truth=truth,
                                       p_waves=False, noise_mv=0.0)  # fmt: skip
        leads.append(lead_mv + np.where(in_af, waves, 0.0))
    recording = Recording(FS_HZ, ("II", "V1"), np.column_stack(leads), source_format="synthetic")
    return recording, spans


def test_an_svt_run_inside_af_is_no_svt_run_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The classifier calls both bursts S (its own calls elsewhere N, V or Q as it made
    them): the one inside the AF episode leaves no SVT episode, finding run, Holter run or
    strip; the one in sinus rhythm is all four."""
    recording, bursts = _recording()
    classify = analysis_module.classify_beats

    def bursts_s(*args: Any) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        probabilities, classes, leads = classify(*args)
        in_burst = rhythm.within(args[2] / FS_HZ, bursts)
        return probabilities, np.where(in_burst, "S", np.where(classes == "S", "N", classes)), leads

    monkeypatch.setattr(analysis_module, "classify_beats", bursts_s)
    analysis = analyze(recording)
    af = [(e.start_s, e.end_s) for e in analysis.episodes if e.label == rhythm.AF]
    assert af and rhythm.within(np.array([AF_BURST_S + 1.0]), af).all(), af  # AF holds it
    (svt,) = [e for e in analysis.episodes if e.label == rhythm.SVT]
    assert bursts[0][0] <= svt.start_s < svt.end_s <= bursts[0][1] and svt.n_beats == 6
    (finding,) = [f for f in analysis.findings if f.code == "SVT"]
    assert finding.detail is not None and finding.detail.startswith("1 run(s)")
    holter = analysis.holter
    assert holter is not None
    assert (holter.supraventricular.runs, holter.supraventricular.longest_run) == (1, 6)
    titles = [s.title for s in report_strips(recording, analysis) if rhythm.SVT in s.title]
    assert len(titles) == 1 and "0:02:0" in titles[0], titles  # the sinus run, at ~121 s


def test_only_runs_mostly_inside_af_go() -> None:
    af = rhythm.Episode(rhythm.AF, 100.0, 200.0, 150)
    runs = [
        rhythm.Episode(rhythm.SVT, 150.0, 152.0, 6),  # inside
        rhythm.Episode(rhythm.SVT, 198.0, 201.0, 8),  # 2 s of 3 inside
        rhythm.Episode(rhythm.SVT, 199.0, 202.0, 8),  # 1 s of 3 inside
        rhythm.Episode(rhythm.SVT, 50.0, 52.0, 6),  # in sinus rhythm
        rhythm.Episode(rhythm.VT, 150.0, 152.0, 6),  # ventricular: not the AF's response
    ]
    kept = rhythm.without_svt_in_af([af, *runs])
    assert kept == [af, *runs[2:]]
    assert rhythm.without_svt_in_af(runs) == runs  # no AF, nothing goes


@pytest.mark.skipif(not (SVDB / "845.hea").is_file(), reason="svdb not found")
def test_svdb_845_reads_no_svt_inside_its_af() -> None:
    analysis = analyze(read_recording([SVDB / "845.hea", SVDB / "845.dat"]))
    assert any(e.label == rhythm.AF for e in analysis.episodes)
    assert not [e for e in analysis.episodes if e.label == rhythm.SVT]
    assert "SVT" not in {f.code for f in analysis.findings}
    holter = analysis.holter
    assert holter is not None and holter.supraventricular.runs == 0
