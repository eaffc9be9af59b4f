"""A read with no segment of good quality says so in a medium-risk finding
(`ml.analysis.read_through_noise`). An on-call audit: a 60-s strip of nstdb 118e00 (0 dB
noise), "0 % of the recording is of good quality", read 114 beats for the reference's 74, a
rate of 108 bpm and 7 false PVCs, and sat on the worklist as "Routine"."""

from __future__ import annotations

from pathlib import Path

import pytest
import wfdb

from ml import rhythm
from ml.analysis import analyze
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import data_root
from tests.support.ecg_files import write_record_piece

NSTDB = data_root() / "nstdb"


def _read(name: str, start_s: int):  # type: ignore[no-untyped-def]
    record = wfdb.rdrecord(str(NSTDB / name), sampfrom=start_s * 360, sampto=(start_s + 60) * 360)
    return analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))


@pytest.mark.skipif(not (NSTDB / "118e00.hea").is_file(), reason="nstdb not found")
def test_a_strip_with_no_good_signal_is_not_routine() -> None:
    noisy = _read("118e00", 300)
    assert noisy.good_quality_fraction == 0
    # Since 2026-12-07 a strip good over less than a tenth of it is too noisy to read, as a
    # longer recording is (`analysis.mostly_noise_strip`), no longer read through the noise.
    assert noisy.main_finding.code == "NOISY_STRIP" and noisy.main_finding.risk == "medium"
    assert noisy.main_finding.detail.endswith("repeat the recording")
    clean = _read("118e24", 300)  # the same minute under 24 dB of noise: good signal
    assert clean.good_quality_fraction > 0.5
    assert "ARTIFACT" not in {f.code for f in clean.findings}


CINC = data_root() / "cinc2017"


@pytest.mark.skipif(not (CINC / "A00984.hea").is_file(), reason="cinc2017 not found")
def test_a_strip_read_through_noise_is_not_said_normal() -> None:
    """A clinician audit: cinc2017 A00984 (reference: too noisy), 0 % good signal, read "No
    significant arrhythmia" beside this finding, and its prefilled form ("Normal ECG" with
    "Poor quality / artefact") could not be signed."""
    from ml.io import read_recording

    analysis = analyze(read_recording(CINC / "A00984.hea", uncalibrated_ok=True))
    codes = [f.code for f in analysis.findings]
    # Too noisy to read since 2026-12-07 (`analysis.mostly_noise_strip`), as the reference says.
    assert {"ARTIFACT", "NOISY_STRIP"} & set(codes) and "NORMAL" not in codes, codes


@pytest.mark.skipif(not (NSTDB / "119e00.hea").is_file(), reason="nstdb not found")
@pytest.mark.parametrize(
    ("name", "start_s", "seconds"),
    [("119e00", 560, 10), ("119e00", 1270, 10), ("118e00", 1530, 10), ("118e00", 540, 60)],
)
def test_no_ventricular_tachycardia_is_read_through_noise(
    tmp_path: Path, name: str, start_s: int, seconds: int
) -> None:
    """An electrophysiologist's audit: 10 s of nstdb 119e00 from 560 s (MIT-BIH 119, 9 N and
    2 V at 66 bpm, QRS 83 ms clean) read "Ventricular tachycardia: wide-complex tachycardia:
    QRS 158 ms at a mean of 129 bpm", its QRS at high confidence and "ST level II +3.37 mV";
    60 s of 118e00 from 540 s a 5-beat VT run; 0 % good signal, "Emergency" on the worklist."""
    analysis = analyze(read_recording(write_record_piece(tmp_path, NSTDB / name, start_s, seconds)))
    assert analysis.good_quality_fraction == 0
    assert "VT" not in [f.code for f in analysis.findings]
    assert rhythm.VT not in {e.label for e in analysis.episodes}
    assert set(analysis.intervals.confidence.values()) <= {"low"}
    assert analysis.intervals.st_levels_shown_mv() == {}
    # Read through the noise, or too noisy to read since 2026-12-07 (`mostly_noise_strip`).
    assert {"ARTIFACT", "NOISY_STRIP"} & {f.code for f in analysis.findings}
    if seconds == 60:
        assert any("not read as ventricular tachycardia" in n for n in analysis.notes)
