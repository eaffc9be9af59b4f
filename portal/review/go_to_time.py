"""Where "Go to" on the review page's ECG takes the chart: a time typed into the recording
("1:02:03", "62:03", "3723") or, when the file gave its start, a time of day ("14:32").

A doctor reading a Holter against the patient's diary ("palpitations at 14:32") could only
step 10 s at a time or drag on the overview, which at 24 h holds a minute in a pixel.
"""

from __future__ import annotations

import datetime as dt
import re

from ml.gaps import clock

HMS = re.compile(r"^\s*(?:(\d{1,3}):)?(?:(\d{1,4}):)?(\d{1,6}(?:\.\d+)?)\s*$")
TIME_OF_DAY = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})(?::(\d{2}))?\s*$")


class NotInRecording(ValueError):
    """The time typed does not fall in the recording; the message says why, in words."""


def _hms_s(text: str) -> float | None:
    """'1:02:03' -> 3723, '62:03' -> 3723, '3723' -> 3723; None when it is none of these."""
    match = HMS.match(text)
    if not match:
        return None
    parts = [p for p in match.groups() if p is not None]
    if len(parts) > 1 and any(float(p) >= 60 for p in parts[1:]):
        return None  # '1:75:00': minutes or seconds past 59
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def into_recording(text: str, duration_s: float) -> float:
    """Seconds into the recording, typed as h:mm:ss, m:ss or seconds."""
    seconds = _hms_s(text)
    if seconds is None:
        raise NotInRecording(
            f"'{text.strip()[:20]}' is not a time into the recording: type it as h:mm:ss "
            "(1:02:03), m:ss (2:30) or seconds (150)."
        )
    # Whole seconds, as the review page's header gives the length ("1806 s" for 1805.56 s):
    # the length it showed had been refused, "The recording is 0:30:05 long (h:mm:ss);
    # 0:30:06 is past its end." A time that rounds to the end goes to the end.
    if round(seconds) > round(duration_s):
        raise NotInRecording(
            f"The recording is {clock(round(duration_s), True)} long (h:mm:ss); "
            f"{clock(round(seconds), True)} is past its end."
        )
    return min(seconds, duration_s)


def at_time_of_day(text: str, started: dt.datetime, duration_s: float) -> float:
    """Seconds to the first moment of a recording (started at `started`, aware, in the
    hospital's zone) whose clock reads `text` (HH:MM or HH:MM:SS, 24-hour). A time of day
    repeats on a recording of more than a day, and a clock change skips or repeats an hour:
    each day of the recording is tried in turn, skipping a wall time that day never had, and
    both times a wall time that day had twice (the hour repeated when the clocks go back: a
    recording started at 01:40 summer time could not go to 01:20 winter time, 40 minutes in;
    an audit)."""
    match = TIME_OF_DAY.match(text)
    hours, minutes, seconds = (int(g or 0) for g in match.groups()) if match else (99, 0, 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise NotInRecording(
            f"'{text.strip()[:20]}' is not a time of day: type it as HH:MM or HH:MM:SS "
            "on the 24-hour clock (14:32)."
        )
    zone = started.tzinfo
    start_utc = started.astimezone(dt.UTC)
    end_utc = start_utc + dt.timedelta(seconds=duration_s)
    wall = dt.time(hours, minutes, seconds)
    day = started.date()
    while dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC) <= end_utc:
        for fold in (0, 1):  # the earlier, then the later, of a repeated wall time
            candidate = dt.datetime.combine(day, wall, tzinfo=zone).replace(fold=fold)
            exists = candidate.astimezone(dt.UTC).astimezone(zone).time() == wall
            moment_utc = candidate.astimezone(dt.UTC)
            if exists and start_utc <= moment_utc <= end_utc:
                return (moment_utc - start_utc).total_seconds()
        day += dt.timedelta(days=1)
    ended = end_utc.astimezone(zone)
    # With the zone when the recording crosses a clock change: "02:40:00 to 02:10:05" had
    # read as a recording that ran backwards (a time-zone audit).
    pattern = "%H:%M:%S" if ended.utcoffset() == started.utcoffset() else "%H:%M:%S %Z"
    span = f"{started.strftime(pattern)} to {ended.strftime(pattern)}"
    skipped = _skipped_in(wall, started, ended)
    if skipped:
        raise NotInRecording(f"{skipped}; the recording runs from {span}.")
    raise NotInRecording(
        f"The recording runs from {span}; {wall.strftime('%H:%M:%S')} is not in it."
    )


def _skipped_in(wall: dt.time, started: dt.datetime, ended: dt.datetime) -> str | None:
    """Why `wall` is in no recording spanning the night the clocks went forward over it, as
    the forms say it (`local_time.skipped_time`): "The recording runs from 23:30:00 to
    03:30:33; 02:30:00 is not in it." had denied an hour that night never had (an audit)."""
    zone = started.tzinfo
    day = started.date()
    while day <= ended.date():
        typed = dt.datetime.combine(day, wall, tzinfo=zone)
        after_utc = typed.astimezone(dt.UTC)  # read at the offset before the change
        before_utc = typed.replace(fold=1).astimezone(dt.UTC)  # ... and after it
        if before_utc < after_utc and before_utc <= ended and after_utc >= started:
            went_utc = _change_utc(before_utc, after_utc, zone)
            one_s = dt.timedelta(seconds=1)
            from_wall = (went_utc - one_s).astimezone(zone) + one_s  # 02:00 on the old clock
            gap = f"{from_wall:%H:%M} to {went_utc.astimezone(zone):%H:%M}"
            shown = f"{wall:%H:%M}" if wall.second == 0 else f"{wall:%H:%M:%S}"
            return (
                f"{shown} on {day:%-d %B %Y} did not exist here (the clocks went forward "
                f"from {gap})"
            )
        day += dt.timedelta(days=1)
    return None


def _change_utc(
    before_utc: dt.datetime, after_utc: dt.datetime, zone: dt.tzinfo | None
) -> dt.datetime:
    """The instant, to the second, the clocks went forward between these two (at most hours
    apart): the first whose offset is the later one."""
    later = after_utc.astimezone(zone).utcoffset()
    while after_utc - before_utc > dt.timedelta(seconds=1):
        middle = before_utc + (after_utc - before_utc) / 2
        if middle.astimezone(zone).utcoffset() == later:
            after_utc = middle
        else:
            before_utc = middle
    return after_utc.replace(microsecond=0)
