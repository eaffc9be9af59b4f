"""A strip's one rhythm call is read over the whole strip, and ventricular flutter/fibrillation
under half of it leaves it sinus: an audit read MIT-BIH 205 (290-350 s, two VT runs) headed
"Sinus rhythm" above an episode table with 11 s of VF, its sign form prefilled "Sinus rhythm"
beside the VF statement, and "Ventricular ectopic beats: 1 beat" beside the 29 beats the VF
made unread. The line names the run as a longer recording's does, and the count says what it
leaves out."""

from __future__ import annotations

import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.findings import OUTSIDE_VF
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import data_root

MITDB = data_root() / "mitdb"


def test_a_sinus_strip_line_names_its_ventricular_run() -> None:
    vf = [
        rhythm.Episode(rhythm.SINUS, 1.2, 6.9, 10),
        rhythm.Episode(rhythm.VF, 7.0, 18.0, 0),
        rhythm.Episode(rhythm.SINUS, 18.3, 59.8, 65),
    ]
    said = rhythm.with_ventricular_run("Sinus rhythm", vf, rhythm.VF)
    assert said == "Sinus rhythm with ventricular flutter/fibrillation (11 s)"
    assert rhythm.with_ventricular_run(said, vf, rhythm.VF) == said  # said once
    vt = [rhythm.Episode(rhythm.VT, 3.0, 5.6, 6)]
    line = rhythm.with_ventricular_run("Sinus tachycardia", vt, rhythm.VT)
    assert line == "Sinus tachycardia with ventricular tachycardia (3 s)"
    assert rhythm.with_ventricular_run("Sinus rhythm", vt, "Ventricular bigeminy") == (
        "Sinus rhythm"
    )
    assert rhythm.with_ventricular_run("Sinus rhythm", [], rhythm.VF) == "Sinus rhythm"


@pytest.mark.skipif(not (MITDB / "207.hea").is_file(), reason="mitdb not found")
def test_mitdb_207s_minute_with_vf_is_not_headed_sinus_rhythm_alone() -> None:
    """207 at 1500-1560 s (flutter from 1540.94 s). The audit's 205 at 290-350 s no longer
    serves: since its VF reads from 298.75 s (VT 298.78 s), not 297.0, the PVC, sinus beat and
    PAC before it are read, and the strip is called "Other rhythm", whose call stands alone."""
    whole = read_recording(MITDB / "207.hea")
    fs_hz = whole.fs_hz
    cut = whole.signal_mv[int(1500 * fs_hz) : int(1560 * fs_hz)]
    read = analyze(Recording(fs_hz, whole.lead_names, cut))
    runs = [e for e in read.episodes if e.label in (rhythm.VF, rhythm.VT)]
    assert runs, "the read finds neither VF nor VT here any more: choose another strip"
    assert read.strip is not None and read.strip.text.startswith("Sinus")
    named = read.main_finding.label[0].lower() + read.main_finding.label[1:]
    assert read.rhythm_summary.startswith(f"{read.strip.text} with {named} ("), read.rhythm_summary
    ventricular = [f.detail for f in read.findings if f.code in ("PVC", "FREQUENT_PVC")]
    if any(e.label == rhythm.VF for e in runs) and ventricular:
        assert OUTSIDE_VF in ventricular[0], ventricular
