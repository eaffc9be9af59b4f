"""The ectopy findings' shares leave out the waves of ventricular flutter/fibrillation, as
their line says and as the Holter summary's beats do: MIT-BIH 207's last 305 s read
"144 beats (27%) outside the ventricular flutter/fibrillation, whose waves are not counted"
of 533 detections, 276 of them VF waves: 144 of its 257 beats are 56 % (a Holter audit)."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.findings import OUTSIDE_VF, findings_of_read
from ml.hrv import HeartRateSummary
from ml.intervals import not_measured
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import default_data_dir

MITDB = default_data_dir()


def _details(vf_waves_n: int) -> dict[str, str]:
    """40 beats of sinus rhythm with 4 PVCs and 4 PACs, then 60 VF waves read Q."""
    classes = np.array(["N", "N", "N", "V", "N", "N", "N", "S", "N", "N"] * 4 + ["Q"] * 60)
    counts = {c: int(np.sum(classes == c)) for c in "NSVFQ"}
    vf = [rhythm.Episode(rhythm.VF, 40.0, 70.0, 0)]
    rate = HeartRateSummary(80.0, 60.0, 120.0, None, None, None, 40)
    findings = findings_of_read(
        vf,
        not_measured("test"),
        rate,
        counts,
        classes,
        np.full((len(classes), 5), 0.2),
        vf_waves=vf_waves_n,
    )
    return {f.code: f.detail for f in findings if f.code in ("PVC", "FREQUENT_PVC", "PAC")}


def test_the_shares_are_of_the_beats_outside_vf() -> None:
    details = _details(60)
    assert details["FREQUENT_PVC"] == f"4 beats (10%){OUTSIDE_VF}"  # 4 of 40, not of 100
    assert details["PAC"] == "4 beats (10%)"
    assert _details(0) == {"PVC": f"4 beats{OUTSIDE_VF}", "PAC": "4 beats"}  # as before


def test_vf_waves_are_the_detections_inside_vf_episodes() -> None:
    from ml.holter_summary import vf_waves

    episodes = [rhythm.Episode(rhythm.SINUS, 0.0, 10.0, 10), rhythm.Episode(rhythm.VF, 4.0, 6.0)]
    waves = vf_waves(np.arange(0.5, 10.0, 1.0), episodes)
    assert waves.tolist() == [False] * 4 + [True, True] + [False] * 4


@pytest.mark.skipif(not (MITDB / "207.hea").is_file(), reason="mitdb not found")
def test_mitdb_207s_last_five_minutes_give_the_pvc_share_of_its_beats() -> None:
    whole = read_recording(MITDB / "207.hea")
    fs_hz = whole.fs_hz
    cut = whole.signal_mv[int(1500 * fs_hz) : int(1805 * fs_hz)]
    read = analyze(Recording(fs_hz, whole.lead_names, cut))
    vf = [e for e in read.episodes if e.label == rhythm.VF]
    assert vf, "the read finds no VF here any more: choose another stretch"
    beat_s = read.beats.samples / fs_hz
    waves = rhythm.within(beat_s, [(e.start_s, e.end_s) for e in vf])  # as the Holter's
    beats = len(beat_s) - int(waves.sum())
    v = read.beat_counts["V"]
    (finding,) = [f for f in read.findings if f.code in ("PVC", "FREQUENT_PVC")]
    assert v / beats >= 0.10, "the PVCs are no longer frequent here: choose another stretch"
    assert finding.code == "FREQUENT_PVC"
    assert finding.detail.startswith(f"{v} beats ({v / beats:.0%}){OUTSIDE_VF}"), finding.detail
