"""The review chart's "Go to": a time into the recording or a time of day, read as a doctor
types it from a Holter diary, across midnight and the clock changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from portal.review.go_to_time import NotInRecording, at_time_of_day, into_recording

PARIS = ZoneInfo("Europe/Paris")
AUCKLAND = ZoneInfo("Pacific/Auckland")
DAY_S = 24 * 3600.0


@pytest.mark.parametrize(
    ("typed", "seconds"),
    [("1:02:03", 3723), ("62:03", 3723), ("3723", 3723), (" 0:45 ", 45), ("12.5", 12.5)],
)
def test_a_time_into_the_recording_reads_as_hms_ms_or_seconds(typed: str, seconds: float) -> None:
    assert into_recording(typed, DAY_S) == seconds


@pytest.mark.parametrize("typed", ["", "abc", "1:75:00", "-5", "1::2", "14h"])
def test_what_is_not_a_time_into_the_recording_says_how_to_type_it(typed: str) -> None:
    with pytest.raises(NotInRecording, match=r"type it as h:mm:ss \(1:02:03\)"):
        into_recording(typed, DAY_S)


def test_a_time_past_the_end_says_how_long_the_recording_is() -> None:
    with pytest.raises(NotInRecording) as raised:
        into_recording("1:00:00", 1800.0)
    assert str(raised.value) == "The recording is 0:30:00 long (h:mm:ss); 1:00:00 is past its end."


def test_a_time_of_day_is_its_first_moment_in_the_recording_past_midnight_too() -> None:
    started = dt.datetime(2026, 11, 30, 21, 0, tzinfo=PARIS)
    assert at_time_of_day("21:30", started, DAY_S) == 1800
    assert at_time_of_day("02:15:30", started, DAY_S) == 5 * 3600 + 15 * 60 + 30  # next day
    assert at_time_of_day("14.32", started, DAY_S) == 17 * 3600 + 32 * 60
    # A 48-h recording reaches 22:00 twice: the first one.
    assert at_time_of_day("22:00", started, 2 * DAY_S) == 3600


def test_a_time_of_day_across_the_clock_change_counts_real_seconds() -> None:
    """Paris went back an hour at 03:00 CEST on 25 October 2026: from 22:00 CEST, 04:00 CET is
    seven hours of recording, not six."""
    started = dt.datetime(2026, 10, 24, 22, 0, tzinfo=PARIS)
    assert at_time_of_day("04:00", started, DAY_S) == 7 * 3600
    # Spring forward (29 March 2026, 02:00 CET -> 03:00 CEST): 02:30 never happened that night.
    spring = dt.datetime(2026, 3, 28, 22, 0, tzinfo=PARIS)
    with pytest.raises(NotInRecording, match="02:30 on 29 March 2026 did not exist here"):
        at_time_of_day("02:30", spring, 8 * 3600)
    assert at_time_of_day("03:30", spring, 8 * 3600) == 4.5 * 3600


def test_a_time_of_day_in_the_repeated_hour_is_found_after_the_clock_goes_back() -> None:
    """Started at 02:40 summer time on the night the clocks go back, 02:20 comes once, in
    winter time, 40 minutes in: it was "not in" the recording (an audit)."""
    started = dt.datetime(2026, 10, 25, 2, 40, tzinfo=PARIS)  # fold 0: CEST
    assert at_time_of_day("02:20", started, 3 * 3600) == 40 * 60
    assert at_time_of_day("02:50", started, 3 * 3600) == 10 * 60  # the first, in summer time


@pytest.mark.parametrize("typed", ["25:00", "14:60", "1430", "2:30 pm", ""])
def test_what_is_not_a_time_of_day_says_how_to_type_it(typed: str) -> None:
    started = dt.datetime(2026, 11, 30, 8, 0, tzinfo=PARIS)
    with pytest.raises(NotInRecording, match="on the 24-hour clock"):
        at_time_of_day(typed, started, DAY_S)


def test_a_time_of_day_outside_the_recording_names_its_span() -> None:
    started = dt.datetime(2026, 11, 30, 8, 15, tzinfo=PARIS)
    with pytest.raises(NotInRecording) as raised:
        at_time_of_day("07:00", started, 3600.0)
    assert (
        str(raised.value) == "The recording runs from 08:15:00 to 09:15:00; 07:00:00 is not in it."
    )


def test_a_time_the_clocks_skipped_says_so_and_a_span_across_a_change_gives_its_zones() -> None:
    """A time-zone audit (Auckland, `akl3h.edf`: 23:30 NZST on 26 September 2026 for 3 h):
    "Go to" 02:30 said "The recording runs from 23:30:00 to 03:30:33; 02:30:00 is not in it.",
    an hour that night never had; after the clocks went back the span, "02:40:00 to
    02:10:05", read as if the recording ran backwards."""
    spring = dt.datetime(2026, 9, 26, 23, 30, tzinfo=AUCKLAND)
    with pytest.raises(NotInRecording) as raised:
        at_time_of_day("02:30", spring, 3 * 3600 + 33)
    assert str(raised.value) == (
        "02:30 on 27 September 2026 did not exist here (the clocks went forward from 02:00 to "
        "03:00); the recording runs from 23:30:00 NZST to 03:30:33 NZDT."
    )
    with pytest.raises(NotInRecording) as raised:
        at_time_of_day("04:00", spring, 3 * 3600 + 33)
    assert str(raised.value) == (
        "The recording runs from 23:30:00 NZST to 03:30:33 NZDT; 04:00:00 is not in it."
    )
    autumn = dt.datetime(2026, 4, 5, 2, 40, tzinfo=AUCKLAND)  # NZDT: back at 03:00 to 02:00
    with pytest.raises(NotInRecording) as raised:
        at_time_of_day("02:30", autumn, 30 * 60 + 5)
    assert str(raised.value) == (
        "The recording runs from 02:40:00 NZDT to 02:10:05 NZST; 02:30:00 is not in it."
    )


def test_the_length_the_page_shows_is_in_the_recording() -> None:
    """A doctor's-day audit: MIT-BIH 207 (1805.56 s) shows "1806 s" in the page's header, and
    "Go to" 1806 said "The recording is 0:30:05 long (h:mm:ss); 0:30:06 is past its end."
    A time within the rounding of the end goes to the end; the length said is the header's."""
    assert into_recording("1806", 1805.56) == 1805.56
    assert into_recording("30:06", 1805.56) == 1805.56
    assert into_recording("1805.2", 1805.56) == 1805.2
    with pytest.raises(NotInRecording) as raised:
        into_recording("1807", 1805.56)
    assert str(raised.value) == "The recording is 0:30:06 long (h:mm:ss); 0:30:07 is past its end."
