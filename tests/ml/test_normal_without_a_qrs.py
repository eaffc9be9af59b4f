"""No "Normal ECG" is offered as sure where the machine could not delimit the QRS: the read's
"No significant arrhythmia" says why and to check the strip (`findings._withheld_doubt`), and
the sign form then leaves "Normal ECG" to the doctor. An on-call audit: a 60-s strip of
MIT-BIH 107, paced throughout, uploaded without the pacemaker box, read "Sinus rhythm",
"Normal ECG", routine, beside a QRS of 33 ms set aside as a measurement error."""

from __future__ import annotations

import pytest
import wfdb

from ml.analysis import analyze
from ml.findings import UNMEASURED_QRS_ADVICE
from ml.recording import Recording
from ml.research.databases import default_data_dir

MITDB = default_data_dir()


@pytest.mark.skipif(not (MITDB / "107.hea").is_file(), reason="MIT-BIH not found")
def test_a_read_whose_qrs_could_not_be_delimited_is_not_a_sure_normal() -> None:
    record = wfdb.rdrecord(str(MITDB / "107"), sampto=60 * 360)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    assert analysis.intervals.qrs_ms is None
    [normal] = [f for f in analysis.findings if f.code == "NORMAL"]
    assert normal.detail is not None and normal.detail.startswith(
        f"QRS not measurable: the QRS found (33 ms) is outside 60-200 ms, more likely a "
        f"measurement error than a finding; {UNMEASURED_QRS_ADVICE}"
    )
    # Paced beats show no P wave either: said too (since 2026-12-06, `_withheld_doubt`).
    assert normal.detail.endswith("check the strip for a P wave before every QRS before calling "
                                  "the ECG normal")  # fmt: skip
