"""Gaps: short ones bridged by a straight line, long ones blanked and reported in seconds,
mostly missing leads left out; from arrays and from CSV files with nan, inf and 1e308."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml import errors
from ml.gaps import SHORT_GAP_MAX_S, GapFill, clocks, fill_gaps, impossible_values_as_gaps
from ml.io import read_recording
from ml.recording import Recording, usable_leads, validated
from tests.support.ecg_files import synthetic, write_csv

FS_HZ = 250.0


def _recording(signal_mv: np.ndarray, names: tuple[str, ...] = ("I", "II")) -> Recording:
    return Recording(fs_hz=FS_HZ, lead_names=names, signal_mv=signal_mv)


def _ecg(duration_s: float = 90.0) -> np.ndarray:
    return synthetic(duration_s, FS_HZ, leads=("I", "II")).signal_mv.copy()


def test_without_gaps_nothing_changes() -> None:
    recording = _recording(_ecg(20))
    filled = fill_gaps(recording)
    assert filled == GapFill(recording, ((), ()), (), ())
    assert filled.spans_s() == []


def test_short_gaps_are_bridged_on_the_straight_line() -> None:
    signal = _ecg(20)
    original = signal.copy()
    for start in (1000, 2000, 3000):
        signal[start : start + 4, 1] = np.nan
    filled = fill_gaps(_recording(signal))
    bridged = filled.recording.signal_mv
    for start in (1000, 2000, 3000):
        before, after = original[start - 1, 1], original[start + 4, 1]
        np.testing.assert_allclose(
            bridged[start : start + 4, 1], before + (after - before) * np.arange(1, 5) / 5
        )
    np.testing.assert_array_equal(bridged[:, 0], original[:, 0])
    assert filled.long_gaps_s == ((), ()) and filled.mostly_missing == ()
    assert filled.notes == (
        "3 short gaps in lead II (4 samples = 16 ms each) bridged by interpolation.",
    )
    assert np.isnan(signal).sum() == 12  # the caller's recording is left as it was


def test_the_short_limit_is_50_ms() -> None:
    longest_short = int(SHORT_GAP_MAX_S * FS_HZ)  # 12 samples at 250 Hz
    signal = _ecg(20)
    signal[1000 : 1000 + longest_short, 0] = np.nan
    signal[3000 : 3000 + longest_short + 1, 0] = np.nan
    filled = fill_gaps(_recording(signal))
    assert np.all(filled.recording.signal_mv[1000 : 1000 + longest_short, 0] != 0)
    assert filled.long_gaps_s[0] == ((12.0, 12.052),)
    assert np.all(filled.recording.signal_mv[3000:3013, 0] == 0)


def test_a_long_gap_in_the_middle_is_zero_and_reported() -> None:
    signal = _ecg(90)
    signal[int(61 * FS_HZ) : int(73 * FS_HZ), 1] = np.nan
    filled = fill_gaps(_recording(signal))
    assert filled.long_gaps_s == ((), ((61.0, 73.0),))
    assert filled.spans_s() == [(61.0, 73.0)] and filled.spans_s([0]) == []
    assert np.all(filled.recording.signal_mv[int(61 * FS_HZ) : int(73 * FS_HZ), 1] == 0)
    assert np.isfinite(filled.recording.signal_mv).all()
    assert filled.notes == ("12.0 s of lead II missing from 0:01:01, not analysed.",)
    assert usable_leads(filled.recording) == [0, 1]  # the rest of lead II is still read


def test_gaps_in_all_leads_and_at_the_edges() -> None:
    signal = _ecg(90)
    signal[:3] = np.nan  # short, at the start: the first value is held
    signal[int(30 * FS_HZ) : int(32.5 * FS_HZ)] = np.nan
    signal[int(80 * FS_HZ) :, 0] = np.nan  # long, to the end of lead I
    filled = fill_gaps(_recording(signal))
    np.testing.assert_allclose(filled.recording.signal_mv[:3], np.tile(signal[3], (3, 1)))
    assert filled.long_gaps_s == (((30.0, 32.5), (80.0, 90.0)), ((30.0, 32.5),))
    assert filled.spans_s() == [(30.0, 32.5), (80.0, 90.0)]
    assert filled.notes == (
        "1 short gap in all leads (3 samples = 12 ms) bridged by interpolation.",
        "2.5 s of all leads missing from 30.0 s, not analysed.",
        "10.0 s of lead I missing from 0:01:20, not analysed.",
    )


def test_many_long_gaps_are_summed_up_and_holter_times_read_as_a_clock() -> None:
    signal = synthetic(2000, 50.0, leads=("II",)).signal_mv.copy()
    for start_s in (700, 800, 900, 1000):
        signal[start_s * 50 : (start_s + 2) * 50] = np.nan
    filled = Recording(50.0, ("II",), signal)
    assert fill_gaps(filled).notes == (
        "8.0 s of lead II missing in 4 stretches from 0:11:40, not analysed.",
    )


def test_a_mostly_missing_lead_is_not_analysed_and_the_other_is() -> None:
    signal = _ecg(40)
    signal[: int(0.7 * len(signal)), 0] = np.nan
    recording = validated(_recording(signal))  # lead II still carries the ECG
    assert usable_leads(recording) == [1]
    filled = fill_gaps(recording)
    assert filled.mostly_missing == (0,)
    assert filled.long_gaps_s[0] == ((0.0, 40.0),) and filled.long_gaps_s[1] == ()
    assert np.all(filled.recording.signal_mv[:, 0] == 0)
    assert usable_leads(filled.recording) == [1]
    assert filled.notes == ("70% of lead I missing: not analysed.",)


def test_a_lead_of_nothing_but_gaps() -> None:
    signal = _ecg(20)
    signal[:, 1] = np.nan
    filled = fill_gaps(validated(_recording(signal)))
    assert filled.mostly_missing == (1,) and usable_leads(filled.recording) == [0]
    assert filled.notes == ("100% of lead II missing: not analysed.",)


def test_impossible_values_become_gaps_with_a_note() -> None:
    signal = _ecg(20)
    signal[100, 0] = 1e308
    signal[200, 0] = -np.inf
    signal[300, 1] = 51.0  # beyond ±50 mV
    signal[400, 1] = np.nan  # already a gap: not counted as impossible
    marked = impossible_values_as_gaps(_recording(signal))
    assert np.isnan(marked.signal_mv).sum() == 4
    assert marked.notes == (
        "Lead I: 2 impossible values (infinite, or beyond ±50 mV, which no ECG reaches) "
        "treated as missing.",
        "Lead II: 1 impossible value (infinite, or beyond ±50 mV, which no ECG reaches) "
        "treated as missing.",
    )
    unmarked = _recording(_ecg(20))
    assert impossible_values_as_gaps(unmarked) is unmarked


@pytest.mark.parametrize("cell", ["1e308", "inf", "-inf", "nan", "NaN", ""])
def test_a_csv_with_a_bad_cell_is_read_with_a_gap_and_bridged(tmp_path: Path, cell: str) -> None:
    path = write_csv(tmp_path / "ecg.csv", synthetic(leads=("I", "II")))
    lines = path.read_text().splitlines()
    time_s, lead_i, _ = lines[1001].split(",")
    lines[1001] = ",".join([time_s, lead_i, cell])
    path.write_text("\n".join(lines) + "\n")
    recording = read_recording(path)  # not refused
    assert np.isnan(recording.signal_mv[1000, 1]) and np.isnan(recording.signal_mv).sum() == 1
    filled = fill_gaps(recording)
    neighbours = recording.signal_mv[[999, 1001], 1]
    assert filled.recording.signal_mv[1000, 1] == pytest.approx(neighbours.mean())
    assert filled.notes == ("1 short gap in lead II (1 sample = 2 ms) bridged by interpolation.",)


@pytest.mark.parametrize("word", ["NA", "N/A", "n/a", "NULL", "null", "None", "#N/A", "<NA>", "-"])
def test_a_csv_word_for_a_missing_value_is_a_gap(tmp_path: Path, word: str) -> None:
    """R's write.csv writes a missing value `NA`, databases `NULL`, spreadsheets `#N/A` or `-`:
    each is a gap as `nan` is, with the same note. `NA` had been refused, "line 3602, column
    'II' holds 'NA', which is not a number" (an audit of gaps); a word that says nothing of a
    missing value is still refused, naming its line and column."""
    path = write_csv(tmp_path / "ecg.csv", synthetic(leads=("I", "II")))
    lines = path.read_text().splitlines()
    time_s, lead_i, _ = lines[1001].split(",")
    lines[1001] = ",".join([time_s, lead_i, word])
    path.write_text("\n".join(lines) + "\n")
    recording = read_recording(path)
    assert np.isnan(recording.signal_mv[1000, 1]) and np.isnan(recording.signal_mv).sum() == 1
    assert fill_gaps(recording).notes == (
        "1 short gap in lead II (1 sample = 2 ms) bridged by interpolation.",
    )
    alone = tmp_path / "one_lead.csv"  # a handheld recorder's one column, a gap first
    alone.write_text("II\n" + "\n".join([word] + [line.split(",")[2] for line in lines[2:]]))
    assert np.isnan(read_recording(alone, fs_hz=500).signal_mv[0, 0])
    lines[1001] = ",".join([time_s, lead_i, "abc"])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(errors.UnknownFormatError, match="line 1002, column 'II' holds 'abc'"):
        read_recording(path)


def test_a_csv_with_a_long_gap_in_the_middle(tmp_path: Path) -> None:
    original = synthetic(60, 500, leads=("I", "II"))
    signal = original.signal_mv.copy()
    signal[20 * 500 : 32 * 500] = np.nan  # 12 s in both leads: empty cells
    path = write_csv(tmp_path / "ecg.csv", Recording(500.0, ("I", "II"), signal))
    filled = fill_gaps(read_recording(path))
    ((start_s, end_s),) = filled.spans_s()  # the rate comes from the time column
    assert (start_s, end_s) == (pytest.approx(20.0), pytest.approx(32.0))
    assert filled.notes == ("12.0 s of all leads missing from 20.0 s, not analysed.",)


def test_a_moment_reads_the_same_in_every_note() -> None:
    """A words audit: on a 4-h Holter one note said "413.4 s" and another "0:06:53" of the same
    moment (a list read h:mm:ss only beside a time past 10 minutes; a lone time past 10
    minutes). One rule now: under a minute "12.5 s", from a minute on h:mm:ss."""
    from ml.gaps import clock
    from ml.lead_off import lead_off_note

    assert clocks([12.5, 59.9]) == "12.5 s, 59.9 s"  # a strip's seconds
    assert clocks([413.4]) == clocks([413.4, 7200.0]).split(", ")[0] == clock(413.4) == "0:06:53"
    assert clocks([12.5, 207.8]) == "12.5 s, 0:03:27"
    assert clocks([207.8, 723.0]) == "0:03:27, 0:12:03"
    assert clocks([float(t) for t in range(700, 712)]).endswith("0:11:49 and 2 more")
    assert clock(60.0) == "0:01:00" and clock(5427.0) == "1:30:27"
    assert lead_off_note(30.0, 750.0).startswith("Every lead is a flat line from 30.0 s for 12.0")
    assert lead_off_note(413.4, 750.0).startswith("Every lead is a flat line from 0:06:53 for")
