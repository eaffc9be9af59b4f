"""Times as people read them. The database keeps UTC; every page and PDF shows the hospital's
TIME_ZONE (default UTC) with the zone's abbreviation, so nobody has to guess."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC
UTC_ZONE = ZoneInfo("UTC")
EARLIEST_ACQUISITION = dt.datetime(1980, 1, 1, tzinfo=UTC)  # older clocks mean "not set"
# EDF's start date when the recording's is unknown (the spec's "01.01.85 00.00.00"), as
# anonymised and clockless exports write it: it had been stored as the recording date.
EDF_PLACEHOLDER_START = dt.datetime(1985, 1, 1)


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ("Europe/Paris"); ValueError naming the setting when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"TIME_ZONE={name!r} is not a time zone name such as UTC or Europe/Paris."
        ) from None


def as_utc(when: dt.datetime) -> dt.datetime:
    """Stored datetimes are naive UTC (SQLite and MariaDB drop the zone)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def in_zone(when: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A stored (naive UTC) time as an aware time in the hospital's zone (UTC for a time so
    near year 1 or 9999 that the zone's offset would leave the calendar)."""
    try:
        return as_utc(when).astimezone(zone)
    except OverflowError:
        return as_utc(when)


def shown(when: dt.datetime | None, zone: ZoneInfo, pattern: str = "%Y-%m-%d %H:%M %Z") -> str:
    """`when` in the hospital's zone, e.g. "2026-12-01 17:27 CET"; a dash when unknown."""
    if when is None:
        return "—"
    return in_zone(when, zone).strftime(pattern)


def today_in(zone: ZoneInfo, now_utc: dt.datetime) -> dt.date:
    """The hospital's date now, not the server's: at 22:30 on 5 December in New York the
    server's UTC date is the 6th, so a date of birth of the 6th was accepted there and ages
    turned a day early (an audit)."""
    return in_zone(now_utc, zone).date()


def hospital_today() -> dt.date:
    """`today_in` the running portal's TIME_ZONE (in a request or app context)."""
    from flask import current_app

    from portal.models import utcnow

    return today_in(current_app.config["SETTINGS"].zone, utcnow())


def hospital_zone() -> ZoneInfo:
    """The running portal's TIME_ZONE (in a request or app context)."""
    from flask import current_app

    zone: ZoneInfo = current_app.config["SETTINGS"].zone
    return zone


def recording_clock(recording: Any) -> Callable[[float], str] | None:
    """A moment into an `EcgRecording` on the running portal's clock (`reports.time_of_day`),
    or None when its file gave no start time."""
    from reports.time_of_day import time_of_day

    if recording.acquired_at is None:
        return None
    return time_of_day(in_zone(recording.acquired_at, hospital_zone()), recording.duration_s)


def hospital_day(when: dt.datetime) -> str:
    """A stored time's date in the running portal's zone (UTC outside an app context), as
    the pages list it: in Paris a cholesterol typed for 00:30 on 15 January read "last
    recorded 2026-01-14" (UTC's date) in a risk score's reason beside a patient page listing
    it on the 15th."""
    from flask import has_app_context

    return shown(when, hospital_zone() if has_app_context() else UTC_ZONE, "%Y-%m-%d")


def hospital_date(when: dt.datetime) -> dt.date:
    """A stored time's (naive UTC) date in the running portal's zone (UTC outside an app
    context): a patient's age on it is the age the pages print (`documents.age_at`)."""
    from flask import has_app_context

    return in_zone(when, hospital_zone() if has_app_context() else UTC_ZONE).date()


def typed_utc(typed: dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    """A date and time typed on a form (the hospital's wall clock, no zone) as naive UTC: a
    blood pressure measured at 09:00 in Kolkata was stored as 09:00 UTC, refused as "in the
    future" at 09:10 there, and listed as 14:30 (an audit). ValueError for a time the clocks
    skipped (`skipped_time`); a time they repeated is the earlier of the two."""
    if typed is None:
        return None
    local = typed if typed.tzinfo else typed.replace(tzinfo=zone)
    try:
        when = local.astimezone(UTC)
    except OverflowError:  # 0001-01-01 00:00 east of UTC, 9999-12-31 west: refused as a typo
        return typed.replace(tzinfo=None)
    if not typed.tzinfo and when.astimezone(zone).replace(tzinfo=None) != typed:
        raise ValueError(skipped_time(typed))
    return when.replace(tzinfo=None)


def skipped_time(typed: dt.datetime) -> str:
    """Why a wall-clock time in the spring-forward gap is refused: 02:30 on 27 September 2026
    in Auckland had been saved and listed as "03:30 NZDT" (a bad-input audit)."""
    return (
        f"{typed:%H:%M} on {typed:%-d %B %Y} did not exist here (the clocks went forward): "
        "check the time."
    )


def day_start_utc(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Midnight of `day` in the hospital's zone, as naive UTC (for date filters)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def before_birth(acquired_at: dt.datetime | None, born_on: dt.date, zone: ZoneInfo) -> bool:
    """Whether a stored recording time (naive UTC) is before the day the patient was born, in
    the hospital's zone: no recording time of theirs (`acquisition_utc`'s rule)."""
    return acquired_at is not None and acquired_at < day_start_utc(born_on, zone)


def before_birth_here(when: dt.datetime | None, born_on: dt.date) -> bool:
    """`before_birth` in the running portal's zone (UTC outside an app context)."""
    from flask import has_app_context

    return before_birth(when, born_on, hospital_zone() if has_app_context() else UTC_ZONE)


def acquisition_utc(
    device_clock: dt.datetime | None,
    zone: ZoneInfo,
    uploaded_at: dt.datetime,
    born_on: dt.date | None = None,
) -> dt.datetime | None:
    """When the ECG was recorded, from the file's start time (a recorder's local clock,
    read in the hospital's zone), as naive UTC; None when the file has none or its clock
    is implausible (before 1980, EDF's placeholder 01.01.85 00.00.00, before the patient
    was born, or after the upload): the report then says "uploaded". An anonymised EDF's
    placeholder had dated a patient born in 2000's ECG 1985, "age -16" on its PDF."""
    if device_clock is None or device_clock.replace(tzinfo=None) == EDF_PLACEHOLDER_START:
        return None
    local = device_clock if device_clock.tzinfo else device_clock.replace(tzinfo=zone)
    when = local.astimezone(UTC)
    if when < EARLIEST_ACQUISITION or when > as_utc(uploaded_at) + dt.timedelta(minutes=5):
        return None
    if born_on is not None and when < dt.datetime.combine(born_on, dt.time(), tzinfo=zone):
        return None
    return when.replace(tzinfo=None)
