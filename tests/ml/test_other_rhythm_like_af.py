"""A strip called "other rhythm" whose reason is what atrial fibrillation looks like,
irregular RR intervals and no consistent P wave, is read before routine work (medium risk)
and says AF is not ruled out (`strip_rhythm.may_be_fibrillation`). An on-call audit:
cinc2017 A00015 (reference AF) read "Other rhythm" at low risk, "Routine"."""

from __future__ import annotations

import pytest
import wfdb

from ml import rhythm, vocabulary
from ml.analysis import analyze
from ml.recording import Recording
from ml.research.databases import data_root
from ml.strip_rhythm import OTHER_AF_NOT_RULED_OUT_TEXT, StripCall, strip_call_over_a_pattern

CINC = data_root() / "cinc2017"
MITDB = data_root() / "mitdb"


@pytest.mark.skipif(not (CINC / "A00015.hea").is_file(), reason="cinc2017 not found")
def test_an_irregular_strip_without_p_waves_is_not_routine() -> None:
    record = wfdb.rdrecord(str(CINC / "A00015"))
    analysis = analyze(Recording(float(record.fs), tuple(record.sig_name), record.p_signal))
    other = next(f for f in analysis.findings if f.code == "OTHER_RHYTHM")
    assert other.risk == "medium"
    assert "irregular RR intervals" in (other.detail or "")
    assert (other.detail or "").endswith("atrial fibrillation is not ruled out, check the strip")


def test_a_strip_called_af_over_a_bigeminal_pattern_is_another_rhythm() -> None:
    call = StripCall("af", "Atrial fibrillation/flutter", "RR intervals irregular", 0.9, {})
    bigeminy = [(rhythm.BIGEMINY, 2.0, 27.5)]
    over = strip_call_over_a_pattern(call, bigeminy, 30.0)
    assert over.label == "other"
    assert over.reason == (
        "ventricular bigeminy over 85% of the strip: its intervals repeat a pattern, which "
        "atrial fibrillation does not"
    )
    assert strip_call_over_a_pattern(call, [(rhythm.BIGEMINY, 2.0, 12.0)], 30.0) == call
    sinus = StripCall("sinus", "Sinus rhythm", "regular", 0.1, {})
    assert strip_call_over_a_pattern(sinus, bigeminy, 30.0) == sinus


@pytest.mark.skipif(not (MITDB / "223.hea").is_file(), reason="MIT-BIH not found")
def test_thirty_seconds_of_mitdb_223s_alternating_rhythm_is_not_af() -> None:
    """A clinician-eye audit: 30 s of MIT-BIH 223 from 576 s, its intervals alternating
    strictly, read AF at high risk, prefilled for signing; 90 s of it read VT, no AF."""
    record = wfdb.rdrecord(str(MITDB / "223"), sampfrom=576 * 360, sampto=606 * 360)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    assert analysis.strip is not None and analysis.strip.label == "other"
    assert "bigeminy over" in analysis.strip.reason
    assert "AF" not in {f.code for f in analysis.findings}


@pytest.mark.skipif(not (MITDB / "221.hea").is_file(), reason="mitdb not found")
def test_it_is_said_beside_other_findings_too() -> None:
    """A clinician audit: 10 s of MIT-BIH 221's AF (11 normal and 2 ventricular beats), called
    another rhythm with "irregular RR intervals, no consistent P wave", read "Frequent
    ventricular ectopic beats" alone: the doubt was said only where the call was the one
    finding."""
    record = wfdb.rdrecord(str(MITDB / "221"), sampfrom=50 * 360, sampto=60 * 360)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    other = next(f for f in analysis.findings if f.code == "OTHER_RHYTHM")
    assert other.risk == "medium"
    assert other.detail.endswith("atrial fibrillation is not ruled out, check the strip")
    assert "FREQUENT_PVC" in {f.code for f in analysis.findings}
    # Nor does its rhythm line or the finding's label say "not atrial fibrillation" above it
    # (a review, 2026-12-07: both said so beside the doubt).
    assert analysis.rhythm_summary == OTHER_AF_NOT_RULED_OUT_TEXT
    assert other.label == OTHER_AF_NOT_RULED_OUT_TEXT
    assert vocabulary.rhythm_code_of(analysis.rhythm_summary) == "OTHER_RHYTHM"


@pytest.mark.skipif(not (CINC / "A04973.hea").is_file(), reason="cinc2017 not found")
@pytest.mark.parametrize("name", ["A04973", "A08514"])
def test_the_rhythm_line_never_says_not_af_where_af_is_not_ruled_out(name: str) -> None:
    """A review: A04973's finding carries its marked bradycardia after the doubt, and
    A08514 (reference AF) is read through noise with no such finding; both kept "not atrial
    fibrillation" in their rhythm line."""
    record = wfdb.rdrecord(str(CINC / name))
    analysis = analyze(Recording(float(record.fs), tuple(record.sig_name), record.p_signal))
    assert analysis.rhythm_summary == OTHER_AF_NOT_RULED_OUT_TEXT
