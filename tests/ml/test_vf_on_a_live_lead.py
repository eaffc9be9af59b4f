"""Where the rhythm lead is off (a long gap) and its companion goes on, ventricular flutter /
fibrillation is looked for on the companion (`ml.analysis.fibrillation_on_a_live_lead`), as AF
is. An audit: MIT-BIH 207 200-320 s with MLII missing from 38 to 85 s while V1 showed the
flutter read "Ventricular tachycardia", "Sinus rhythm 38.1-54.2 s" and "72.98-84.4 s" over the
flutter and a first-degree AV block, and no VF; the clean record reads VF, longest 19 s."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml import rhythm
from ml.analysis import analyze, fibrillation_on_a_live_lead
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.research.synthetic import synthetic_rhythm_mv, ventricular_fibrillation_mv

MITDB = default_data_dir()
FS = 360


def _vf(analysis) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(e.start_s, e.end_s) for e in analysis.episodes if e.label == rhythm.VF]


def _sinus_over(analysis, start_s: float, end_s: float) -> list[rhythm.Episode]:  # type: ignore[no-untyped-def]
    return [
        e
        for e in analysis.episodes
        if e.label.startswith("Sinus") and min(e.end_s, end_s) - max(e.start_s, start_s) > 1.0
    ]


def test_vf_under_a_lead_off_is_read_from_the_live_lead() -> None:
    total_s, vf_s = 80.0, (30.0, 50.0)
    beats_s = np.arange(0.5, total_s - 1, 0.8)
    leads = [synthetic_rhythm_mv(beats_s, duration_s=total_s, seed=k) for k in (0, 1)]
    signal = np.column_stack(leads)
    start, stop = int(vf_s[0] * FS), int(vf_s[1] * FS)
    signal[start:stop, 1] = ventricular_fibrillation_mv(vf_s[1] - vf_s[0], fs_hz=FS, seed=2)
    signal[start:stop, 0] = 0.7 * signal[start:stop, 1]
    signal[int(25 * FS) : int(55 * FS), 0] = np.nan  # lead II off, V1 goes on
    analysis = analyze(Recording(float(FS), ("II", "V1"), signal, source_format="test"))
    covered = rhythm.overlap_s(*vf_s, rhythm.merged_spans(_vf(analysis)))
    assert covered > 0.8 * (vf_s[1] - vf_s[0]), _vf(analysis)
    assert "VF" in {f.code for f in analysis.findings}
    assert not _sinus_over(analysis, *vf_s)


def test_only_the_gap_is_read_from_the_companion() -> None:
    flutter = ventricular_fibrillation_mv(60.0, fs_hz=FS, seed=2)
    signal = np.column_stack([np.zeros(flutter.size), flutter])
    found = fibrillation_on_a_live_lead(signal, FS, [], (((20.0, 30.0),), ()), (0, 1))
    assert found and found[0][0] >= 20.0 - 4.0 and found[-1][1] <= 30.0 + 4.0
    assert fibrillation_on_a_live_lead(signal, FS, [(1.0, 5.0)], ((), ()), (0, 1)) == [(1.0, 5.0)]
    assert fibrillation_on_a_live_lead(signal, FS, [], (((20.0, 30.0),), ()), (0, None)) == []


@pytest.mark.skipif(not (MITDB / "207.hea").is_file(), reason="MIT-BIH not found")
def test_mlii_off_in_the_flutter_of_207_still_reads_vf() -> None:
    record = wfdb.rdrecord(str(MITDB / "207"), sampfrom=200 * FS, sampto=320 * FS)
    signal = record.p_signal.copy()
    signal[38 * FS : 85 * FS, 0] = np.nan  # MLII off, V1 goes on (DS1)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), signal))
    # Reference flutter: 42.1-46.4, 47.9-61.4 and 69.5-80.9 s of the clip.
    assert analysis.main_finding.code == "VF"
    for start_s, end_s in [(43.0, 46.0), (49.0, 60.0), (70.0, 80.0)]:
        assert rhythm.overlap_s(start_s, end_s, rhythm.merged_spans(_vf(analysis))) > 0.9 * (
            end_s - start_s
        ), _vf(analysis)
    for start_s, end_s in [(42.1, 46.4), (47.9, 61.4), (69.5, 80.9)]:
        assert not _sinus_over(analysis, start_s, end_s)
    beat_s = analysis.beats.samples / FS
    in_flutter = rhythm.within(beat_s, [(43.0, 46.0), (49.0, 60.0), (70.0, 80.0)])
    assert set(np.asarray(analysis.beats.classes)[in_flutter]) == {"Q"}  # no PR read there
