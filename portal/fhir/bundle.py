"""Search results as a FHIR searchset Bundle, in pages: `_count` (default 20, at most 100;
0 = the total only) and `_offset`, with `link` self / first / previous / next / last that
repeat the search. Also the date search parameter (prefixes eq, ne, lt, le, gt, ge; a year,
a month, a day in the hospital's time zone, or an instant to the minute or the second, each
the range its precision implies)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import request
from sqlalchemy import and_, or_

from portal.converters import whole_number
from portal.fhir.http import FhirError, base_url
from portal.local_time import day_start_utc

DEFAULT_COUNT = 20
MAX_COUNT = 100


@dataclass(frozen=True)
class Paging:
    offset: int
    count: int


def _whole(name: str, default: int, low: int, high: int, cap: int | None = None) -> int:
    """A whole-number search parameter from `low` to `high`, capped at `cap` when given (a
    larger page asked for is a smaller page given, as R4's search allows)."""
    given = request.args.getlist(name)
    if len(given) > 1:  # one of them would have been taken silently
        raise FhirError(400, f"{name} is given {len(given)} times: give it once.", "invalid",
                        name)  # fmt: skip
    text = request.args.get(name, "").strip()
    if not text:
        return default
    number = whole_number(text, high)
    if number is None or number < low:
        what = f"from {low} to {high}" if cap is None else f"from {low} (at most {cap} a page)"
        raise FhirError(400, f"{name} must be a whole number {what}.", "invalid", name)
    return number if cap is None else min(number, cap)


def paging() -> Paging:
    return Paging(
        offset=_whole("_offset", 0, 0, 10**9),
        # A client asking for 1000 a page gets 100 and the next link (it had been a 400).
        count=_whole("_count", DEFAULT_COUNT, 0, 10**9, cap=MAX_COUNT),
    )


def _link(relation: str, offset: int, count: int) -> dict[str, str]:
    kept = [
        (name, value)
        for name, value in request.args.items(multi=True)
        if name not in ("_offset", "_count")
    ]
    query = urlencode([*kept, ("_count", str(count)), ("_offset", str(offset))])
    return {"relation": relation, "url": f"{request.base_url}?{query}"}


def searchset(page: list[dict[str, Any]], total: int, where: Paging) -> dict[str, Any]:
    """A page of matches (already cut to `where`) as a Bundle with its navigation links."""
    count, offset = where.count, where.offset
    links = [_link("self", offset, count)]
    if count:
        last = max(0, (total - 1) // count * count)
        links.append(_link("first", 0, count))
        if offset > 0:  # past the end, the previous page is the last one (it was past too)
            links.append(_link("previous", min(max(0, offset - count), last), count))
        if offset + count < total:
            links.append(_link("next", offset + count, count))
        links.append(_link("last", last, count))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base_url()}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in page
        ],
    }


# --------------------------------------------------------------------------- dates

PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge")
_DAY = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_CLOCK = re.compile(r"[T ]([0-9:]+)")  # an instant's time of day, up to its fraction or zone


def _precision(value: str) -> dt.timedelta:
    """The span an instant names, by its precision (FHIR's implicit range): `T04:11` is the
    whole minute, 04:11:00 to 04:11:59, and `T04` the hour; seconds (or finer) one second.
    A minute had been taken as its first second, so `eq2000-11-01T04:11Z` missed a report
    of 04:11:29 (an interoperability audit, 2026-12-07)."""
    clock = _CLOCK.search(value)
    digits = len(clock[1].replace(":", "")) if clock else 6
    return {2: dt.timedelta(hours=1), 4: dt.timedelta(minutes=1)}.get(
        digits, dt.timedelta(seconds=1)
    )


@dataclass(frozen=True)
class DateRange:
    """A date search value: its prefix and the span [start, end) it names (naive UTC)."""

    prefix: str
    start: dt.datetime
    end: dt.datetime

    def holds(self, when: dt.datetime) -> bool:
        inside = self.start <= when < self.end
        return {
            "eq": inside, "ne": not inside, "lt": when < self.start, "le": when < self.end,
            "gt": when >= self.end, "ge": when >= self.start,
        }[self.prefix]  # fmt: skip

    def sql(self, column: Any, *, as_date: bool = False) -> Any:
        """The same test as a SQL condition on a DATETIME (or, as_date, a DATE) column."""
        start: Any = self.start.date() if as_date else self.start
        end: Any = self.end.date() if as_date else self.end
        return {
            "eq": and_(column >= start, column < end), "ne": or_(column < start, column >= end),
            "lt": column < start, "le": column < end, "gt": column >= end, "ge": column >= start,
        }[self.prefix]  # fmt: skip


def date_range(name: str, text: str, zone: ZoneInfo) -> DateRange:
    """`ge2024-05`, `2024-05-31`, `lt2024-05-31T08:30:00Z`: dates are the hospital's days."""
    text = text.strip()
    prefix = text[:2] if text[:2] in PREFIXES else "eq"
    value = text[2:] if text[:2] in PREFIXES else text
    day = _DAY.match(value)
    try:
        if day:
            year, month, mday = int(day[1]), int(day[2] or 1), int(day[3] or 1)
            first = dt.date(year, month, mday)
            if day[3]:
                after = first + dt.timedelta(days=1)
            elif day[2]:
                after = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            else:
                after = first.replace(year=year + 1)
            return DateRange(prefix, day_start_utc(first, zone), day_start_utc(after, zone))
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=zone)
        start = when.astimezone(dt.UTC).replace(tzinfo=None)
        return DateRange(prefix, start, start + _precision(value))
    except (ValueError, OverflowError):
        raise FhirError(
            400, f"{name}: “{text[:40]}” is not a date (e.g. 2024-05-31, ge2024-05, "
            "lt2024-05-31T08:30:00Z).", "invalid", name,
        ) from None  # fmt: skip
