"""A segment flagged because its beats differ says that beats of several shapes do that too
(`ml.quality.BEATS_DIFFER_REASON`). An on-call audit: MIT-BIH 205's clean ventricular
tachycardia and the slow ventricular run after it read "beats differ from one to the next
(artefact or noise)", which invites a doctor to dismiss them."""

from __future__ import annotations

import pytest
import wfdb

from ml.analysis import analyze
from ml.quality import BEATS_DIFFER_REASON
from ml.recording import Recording
from ml.research.databases import default_data_dir

MITDB = default_data_dir()


@pytest.mark.skipif(not (MITDB / "205.hea").is_file(), reason="MIT-BIH not found")
def test_a_ventricular_run_flagged_for_differing_beats_is_not_called_only_noise() -> None:
    record = wfdb.rdrecord(str(MITDB / "205"), sampfrom=1450 * 360, sampto=1510 * 360)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    flagged = [s for s in analysis.quality if s.level == "noisy"]
    assert flagged and all(s.reason == BEATS_DIFFER_REASON for s in flagged)
    # What the doctor reads, in the notes: not "(artefact or noise)" alone.
    assert any("ventricular beats and runs look alike, so check the strip" in n
               for n in analysis.notes)  # fmt: skip
