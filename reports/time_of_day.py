"""Moments of a recording on the hospital's clock, beside the time into the recording.

A 24-h Holter's episodes were listed by time into the recording only ("1:00:51"), nothing
said so, and a strip titled "Pause at 23:51:52" was read as a time of day, an hour off too
after the night's change to summer time (a Holter audit). Where the file gave its start time,
each moment is also said on the clock of the hospital's TIME_ZONE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ml.gaps import HMS_FROM_S, clock


def time_of_day(started: dt.datetime, duration_s: float) -> Callable[[float], str]:
    """How a moment `offset_s` into a recording that started at `started` (aware, in the
    hospital's zone) reads on the clock: "21:29:33"; with the weekday when the recording runs
    past midnight ("Sun 01:12:04"), and with the zone when it crosses a clock change
    ("03:10:00 CEST")."""
    zone = started.tzinfo
    start_utc = started.astimezone(dt.UTC)
    end = (start_utc + dt.timedelta(seconds=duration_s)).astimezone(zone)
    pattern = "%a %H:%M:%S" if end.date() != started.date() else "%H:%M:%S"
    if end.utcoffset() != started.utcoffset():
        pattern += " %Z"

    def shown_at(offset_s: float) -> str:
        moment = start_utc + dt.timedelta(seconds=float(offset_s))
        return moment.astimezone(zone).strftime(pattern)

    return shown_at


def moment_text(t_s: float, duration_s: float, clock_time: Callable[[float], str] | None) -> str:
    """ "0:19:43 into the recording (21:29:33)" on a Holter, "20.0 s (08:15:20)" on a strip
    (whose seconds say what they are); without a clock time only the first part."""
    as_hms = duration_s >= HMS_FROM_S
    into = clock(t_s, as_hms) + (" into the recording" if as_hms else "")
    return into + (f" ({clock_time(t_s)})" if clock_time else "")
