"""A strip called "other rhythm" whose reason is what atrial fibrillation looks like,
irregular RR intervals and no consistent P wave, is read before routine work (medium risk)
and says AF is not ruled out (`strip_rhythm.may_be_fibrillation`). An on-call audit:
cinc2017 A00015 (reference AF) read "Other rhythm" at low risk, "Routine"."""

from __future__ import annotations

import pytest
import wfdb

from ml.analysis import analyze
from ml.recording import Recording
from ml.research.databases import data_root

CINC = data_root() / "cinc2017"


@pytest.mark.skipif(not (CINC / "A00015.hea").is_file(), reason="cinc2017 not found")
def test_an_irregular_strip_without_p_waves_is_not_routine() -> None:
    record = wfdb.rdrecord(str(CINC / "A00015"))
    analysis = analyze(Recording(float(record.fs), tuple(record.sig_name), record.p_signal))
    other = next(f for f in analysis.findings if f.code == "OTHER_RHYTHM")
    assert other.risk == "medium"
    assert "irregular RR intervals" in (other.detail or "")
    assert (other.detail or "").endswith("atrial fibrillation is not ruled out, check the strip")
