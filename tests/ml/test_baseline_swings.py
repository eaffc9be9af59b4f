"""V calls riding a baseline swing larger than the QRS complexes (motion artefact) become Q;
real ventricular beats on a steady baseline keep their class."""

from __future__ import annotations

import numpy as np
import pytest

from ml.baseline_swings import (
    MAX_SWING_OVER_QRS,
    NOTE_PHRASE,
    rides_a_swing,
    swing_and_qrs_mv,
    swings_note,
)
from ml.research.databases import data_root, load_record

FS_HZ = 250.0


def _beats_on_a_swing() -> tuple[np.ndarray, np.ndarray]:
    """A 1-mV QRS every 0.8 s for 20 s; from 8 to 12 s a 3-mV, 1-Hz swing (a moving hand)."""
    t_s = np.arange(0, 20, 1 / FS_HZ)
    peaks = np.arange(round(0.5 * FS_HZ), t_s.size - round(0.5 * FS_HZ), round(0.8 * FS_HZ))
    signal_mv = np.zeros(t_s.size)
    for peak in peaks:
        signal_mv += np.exp(-0.5 * ((t_s - peak / FS_HZ) / 0.012) ** 2)
    window = (t_s >= 8) & (t_s < 12)
    signal_mv[window] += 1.5 * np.sin(2 * np.pi * 1.0 * (t_s[window] - 8))
    return signal_mv, peaks


def test_beats_on_the_swing_are_flagged_and_the_others_not() -> None:
    signal_mv, peaks = _beats_on_a_swing()
    swing_mv, qrs_mv = swing_and_qrs_mv(signal_mv, FS_HZ, peaks)
    assert np.nanmedian(qrs_mv) == pytest.approx(1.0, abs=0.3)  # the QRS band keeps the QRS
    flagged = rides_a_swing(swing_mv, qrs_mv)
    beat_s = peaks / FS_HZ
    assert flagged[(beat_s > 8.3) & (beat_s < 11.7)].all()
    assert not flagged[(beat_s < 7.0) | (beat_s > 13.0)].any()
    # Windows that leave the signal are not judged, nor is a recording without a QRS size.
    assert np.isnan(swing_and_qrs_mv(signal_mv, FS_HZ, np.array([10]))[0]).all()
    assert not rides_a_swing(np.array([5.0]), np.array([np.nan])).any()


@pytest.mark.parametrize(("database", "record"), [("mitdb", "119"), ("svdb", "811")])
def test_no_reference_ventricular_beat_of_these_records_rides_a_swing(
    database: str, record: str
) -> None:
    """The cardiologists' beats: 119's bigeminy (large ventricular beats with tall T waves
    on MLII) and svdb 811's run at 128 Hz keep their class."""
    folder = data_root() / database
    if not (folder / f"{record}.atr").is_file():
        pytest.skip(f"{database} not found")
    reference = load_record(folder, record)
    swing_mv, qrs_mv = swing_and_qrs_mv(
        reference.signal_mv, reference.fs_hz, reference.beat_samples
    )
    ventricular = reference.beat_classes == "V"
    assert ventricular.sum() > 20
    assert not rides_a_swing(swing_mv, qrs_mv)[ventricular].any()
    ratio = swing_mv[ventricular] / np.nanmedian(qrs_mv)
    assert np.nanmax(ratio) < MAX_SWING_OVER_QRS


def test_the_note_says_how_many_where_and_why() -> None:
    one = swings_note(np.array([4.2]))
    assert one.startswith(
        f"1 beat called ventricular (at 4.2 s) was left unclassified: it rides {NOTE_PHRASE}"
    )
    assert "more than 2 times as large as the QRS complexes (motion artefact)" in one
    many = swings_note(np.array([1.0, 2.5]))
    assert many.startswith(
        "2 beats called ventricular (at 1.0 s, 2.5 s) were left unclassified: each rides"
    )


CINC = data_root() / "cinc2017"


@pytest.mark.skipif(not (CINC / "A05453.hea").is_file(), reason="cinc2017 not found")
def test_a_run_set_aside_as_artefact_stays_aside_when_some_of_its_beats_ride_a_swing() -> None:
    """A05453 (reference: other rhythm): a ventricular "run" on motion artefact is set aside
    (`ml.artefact_runs`); the swing rule then leaves its first beats unclassified, and the
    shorter run that remains must not come back as ventricular tachycardia."""
    from ml import rhythm
    from ml.analysis import analyze
    from ml.artefact_runs import NOTE_PHRASE as SET_ASIDE_PHRASE
    from ml.io import read_recording

    analysis = analyze(read_recording(CINC / "A05453.hea", uncalibrated_ok=True))
    assert not any(e.label == rhythm.VT for e in analysis.episodes)
    assert any(NOTE_PHRASE in n for n in analysis.notes)
    assert any(SET_ASIDE_PHRASE in n for n in analysis.notes)


@pytest.mark.skipif(not (CINC / "A02051.hea").is_file(), reason="cinc2017 not found")
def test_taking_a_call_back_never_starts_a_run() -> None:
    """A02051 (reference: AF): four V calls at 5.7-7.5 s span 98 bpm, no run; the first rides a
    baseline swing and is left unclassified, and the three left (154 bpm) must not read as
    ventricular tachycardia."""
    from ml import rhythm
    from ml.analysis import analyze
    from ml.io import read_recording

    analysis = analyze(read_recording(CINC / "A02051.hea", uncalibrated_ok=True))
    assert any("(at 5.7 s)" in n and NOTE_PHRASE in n for n in analysis.notes)
    assert not any(e.label == rhythm.VT for e in analysis.episodes)
    assert analysis.main_finding.code != "VT"


def test_a_chunk_reads_the_same_swings_as_the_whole_recording() -> None:
    """The chunked analysis measures each chunk on its own: with the 20-ms blocks placed by
    the recording's sample numbers, a chunk starting at any sample reads the whole's values
    (away from its ends, where the filter settles within seconds)."""
    signal_mv, peaks = _beats_on_a_swing()
    whole_swing, whole_qrs = swing_and_qrs_mv(signal_mv, FS_HZ, peaks)
    for start in (1, 3, 250):
        swing, qrs = swing_and_qrs_mv(signal_mv[start:], FS_HZ, peaks - start, start)
        settled = (peaks >= start + 5 * FS_HZ) & (peaks <= signal_mv.size - 5 * FS_HZ)
        assert settled.sum() >= 8
        np.testing.assert_allclose(swing[settled], whole_swing[settled], rtol=1e-6)
        np.testing.assert_allclose(qrs[settled], whole_qrs[settled], rtol=1e-6)
    assert [a.size for a in swing_and_qrs_mv(signal_mv, FS_HZ, np.array([], int))] == [0, 0]


def test_beats_in_a_lead_off_gap_have_no_qrs_size() -> None:
    """A gap's zeros are no QRS complexes of 0 mV: with them the median QRS of a recording
    mostly off fell to 0 and every V call elsewhere rode "a baseline swing" (MIT-BIH 207)."""
    from ml.analysis import qrs_sizes_where_read

    signal_mv, peaks = _beats_on_a_swing()
    off = (2.0, 16.0)
    signal_mv[round(off[0] * FS_HZ) : round(off[1] * FS_HZ)] = 0.0  # the filled long gap
    qrs_mv = qrs_sizes_where_read(signal_mv, FS_HZ, peaks, [off])
    in_gap = (peaks / FS_HZ >= off[0]) & (peaks / FS_HZ <= off[1])
    assert np.isnan(qrs_mv[in_gap]).all()
    assert np.nanmedian(qrs_mv) == pytest.approx(1.0, abs=0.3)
    swing_mv = np.full(peaks.size, 0.5)  # half the QRS: no V call here rides a swing
    assert not rides_a_swing(swing_mv, qrs_mv).any()


@pytest.mark.skipif(not (data_root() / "mitdb" / "207.hea").is_file(), reason="MIT-BIH not found")
def test_a_lead_off_keeps_the_bigeminy_before_it() -> None:
    """MIT-BIH 207 200-320 s (DS1), MLII missing 38-85 s: the ventricular bigeminy of 0-36 s,
    untouched by the gap, had lost its 17 V calls as "each rides a baseline swing"."""
    import wfdb

    from ml.analysis import analyze
    from ml.recording import Recording

    record = wfdb.rdrecord(str(data_root() / "mitdb" / "207"), sampfrom=72000, sampto=115200)
    signal = record.p_signal.copy()
    signal[38 * 360 : 85 * 360, 0] = np.nan
    analysis = analyze(Recording(360.0, tuple(record.sig_name), signal))
    beat_s = analysis.beats.samples / 360.0
    before = np.asarray(analysis.beats.classes)[beat_s < 36.0]
    assert (before == "V").sum() >= 15  # the reference has 18 PVCs there
    assert "BIGEMINY" in {f.code for f in analysis.findings}
