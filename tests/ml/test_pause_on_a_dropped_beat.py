"""A pause finding never rests on a beat the two-lead check dropped: a full-size beat it
removed is given back in any gap of `ml.rhythm.PAUSE_S` or more (`ml.rpeaks._restore_removed`).
An electrophysiologist's audit: a 60-s cut of MIT-BIH 201 read "Pause, longest 2.0 s" as its
main finding around an aberrated APC that MLII saw and V1 barely did."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml import rhythm
from ml.analysis import analyze
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.research.synthetic import BeatTruth, beats_in_leads_mv
from ml.rpeaks import detect_r_peaks, detect_r_peaks_two_leads

MITDB = default_data_dir()
FS_HZ = 360.0


def _premature_beat_in_ii_only() -> tuple[np.ndarray, float]:
    """60 s of sinus rhythm at 45 bpm in II and V1; 0.8 s after the beat at 29.8 s a small
    premature beat in II only, and the next sinus beat 2.08 s after the last: a gap the
    check's cycle (1.6 x 1.33 s) calls too short to hold a beat, and the median one
    (1.8 x 1.33 s) too short to give it back."""
    cycle_s = 60 / 45
    before = np.arange(0.5, 30.0, cycle_s)
    after = np.arange(before[-1] + 2.08, 60 - cycle_s / 2, cycle_s)
    sinus = BeatTruth(hr_bpm=45)
    signal = beats_in_leads_mv(
        [(t, sinus) for t in np.concatenate([before, after])], 60.0, FS_HZ, ("II", "V1")
    )
    premature_s = before[-1] + 0.8
    small = BeatTruth(r_mv=0.6, p_mv=0.0, t_mv=0.1)
    signal[:, 0] += beats_in_leads_mv([(premature_s, small)], 60.0, FS_HZ, ("II",), 0.0)[:, 0]
    return signal, premature_s + 0.045  # its R peak


def test_a_premature_beat_seen_in_one_lead_is_kept_where_removing_it_makes_a_pause() -> None:
    signal, r_peak_s = _premature_beat_in_ii_only()
    single = detect_r_peaks(signal[:, 0], FS_HZ)
    assert np.min(np.abs(single / FS_HZ - r_peak_s)) < 0.02  # the premise: II sees it
    both = detect_r_peaks_two_leads(signal[:, 0], signal[:, 1], FS_HZ)
    assert np.min(np.abs(both / FS_HZ - r_peak_s)) < 0.02
    assert np.max(np.diff(both)) / FS_HZ < rhythm.PAUSE_S
    analysis = analyze(Recording(FS_HZ, ("II", "V1"), signal, source_format="synthetic"))
    assert not [e for e in analysis.episodes if e.label == rhythm.PAUSE]


@pytest.mark.skipif(not (MITDB / "201.hea").is_file(), reason="MIT-BIH not found")
def test_mitdb_201_cut_reads_no_pause_around_its_aberrated_apcs() -> None:
    """Reference: aberrated APCs at 1215.32 and 1215.72 s; the longest interval is 1.425 s."""
    record = wfdb.rdrecord(str(MITDB / "201"), sampfrom=1200 * 360, sampto=1260 * 360)
    analysis = analyze(Recording(FS_HZ, tuple(record.sig_name), record.p_signal))
    assert not [e for e in analysis.episodes if e.label == rhythm.PAUSE]
    assert analysis.main_finding.label != "Pause"
    assert np.min(np.abs(analysis.beats.samples / FS_HZ - 15.32)) < 0.1
