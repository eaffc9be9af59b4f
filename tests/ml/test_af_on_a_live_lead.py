"""Where the rhythm lead is off (a long gap) and its companion goes on, AF is judged on the
companion (`ml.analysis.atrial_evidence_on_a_live_lead`). An adversarial review: MIT-BIH 100,
119 and 105 joined (90 min), MLII off from 35.1 to 45.1 min inside 119's ventricular bigeminy
and trigeminy, read "AF 3 episode(s) ..., longest 300 s" (high risk) at 2115-2655 s, which the
same recording without the gap does not: the AF window model had read the flat lead's zeros,
with no P wave, beside the irregular beats V1 gave."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml import rhythm
from ml.analysis import analyze
from ml.recording import Recording
from ml.research.databases import default_data_dir

MITDB = default_data_dir()
FS = 360


def _af(analysis) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(e.start_s, e.end_s) for e in analysis.episodes if e.label == rhythm.AF]


def test_without_a_gap_in_the_rhythm_lead_the_evidence_is_its_own() -> None:
    from ml.analysis import atrial_evidence_on_a_live_lead

    consistency, windows = np.array([0.9, 0.1]), [(0.0, 30.0)]
    signal = np.zeros((FS * 60, 2))
    beats = (np.array([FS, 2 * FS]), np.array(["N", "N"]))
    gaps = ((), ((10.0, 50.0),))  # the companion off, the rhythm lead not
    out = atrial_evidence_on_a_live_lead(signal, FS, beats, (consistency, windows), gaps, (0, 1))
    assert out[0] is consistency and out[1] is windows
    no_companion = ((10.0, 50.0),), ()
    out = atrial_evidence_on_a_live_lead(
        signal, FS, beats, (consistency, windows), no_companion, (0, None)
    )
    assert out[0] is consistency and out[1] is windows


@pytest.mark.skipif(not (MITDB / "119.hea").is_file(), reason="MIT-BIH not found")
def test_mlii_off_in_bigeminy_reads_no_af() -> None:
    records = [wfdb.rdrecord(str(MITDB / name)) for name in ("100", "119", "105")]
    signal = np.vstack([r.p_signal for r in records])
    signal[int(35.1 * 60 * FS) : int(45.1 * 60 * FS), 0] = np.nan  # MLII off, V1 goes on
    analysis = analyze(Recording(360.0, tuple(records[0].sig_name), signal))
    assert not _af(analysis), _af(analysis)
    assert "AF" not in {f.code for f in analysis.findings}
    assert {"BIGEMINY", "TRIGEMINY"} <= {f.code for f in analysis.findings}


@pytest.mark.skipif(not (MITDB / "201.hea").is_file(), reason="MIT-BIH not found")
def test_af_under_a_lead_off_is_still_read_from_the_live_lead() -> None:
    record = wfdb.rdrecord(str(MITDB / "201"))
    signal = record.p_signal.copy()
    signal[30 * FS : 348 * FS, 0] = np.nan  # MLII off inside 201's AF (reference: 0-378 s)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), signal))
    covered = rhythm.overlap_s(30.0, 348.0, rhythm.merged_spans(_af(analysis)))
    assert covered > 0.9 * 318, _af(analysis)
