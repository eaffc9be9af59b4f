"""What a URL may carry: ids inside the database's range, filter dates inside sane years.

A number past what an id column holds (ids are 32-bit `INTEGER` columns on MariaDB) used to
reach the database driver and end in a 500 (`2**63` overflows SQLite's and MySQL's integers).
`IdConverter` (registered as `<id:...>`) matches 1..MAX_ID only, so anything else is a plain
404 before a view runs. Query-string dates (`?from=`, `?to=`) are read by `date_arg`, which
refuses a date outside EARLIEST_DATE..LATEST_DATE (`9999-12-31` + 1 day overflowed) with a
message on the page instead of an error.
"""

from __future__ import annotations

import datetime as dt

from flask import flash, request
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1  # the largest value of a signed 32-bit INTEGER primary key
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def whole_numbers_up_to(limit: int) -> str:
    """A regex matching 1..limit written without sign or leading zeros, and nothing else."""
    digits = str(limit)
    shorter = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = [
        f"{digits[:i]}[{1 if i == 0 else 0}-{int(d) - 1}][0-9]{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if int(d) > (1 if i == 0 else 0)
    ]
    return "(?:" + "|".join([*shorter, *same_length, digits]) + ")"


def whole_number(text: str, limit: int = MAX_ID) -> int | None:
    """`text` as a whole number 0..limit in ASCII digits, else None. (`str.isdigit` alone
    lets "²" through, which int() refuses, and thousands of digits, past int()'s limit.)"""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(limit)):
        return None
    number = int(text)
    return number if number <= limit else None


class IdConverter(BaseConverter):
    """A row id: a positive whole number without sign or leading zeros, at most MAX_ID.

    The range is in the regex itself, not only in `to_python`: werkzeug checks a rule's
    methods before its converters, so on a path with two rules (GET and PATCH of
    /api/v1/patients/<id>) an id past the range would otherwise be a 405, not a 404."""

    regex = whole_numbers_up_to(MAX_ID)
    weight = 50  # like werkzeug's int converter: a static path part still wins

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()  # the rule does not match: a 404
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]


def parse_filter_date(text: str, label: str) -> dt.date | None:
    """A filter date from year-month-day text; None when empty; ValueError said in words."""
    text = text.strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"The {label} date “{text[:40]}” is not a date: enter it as year-month-day, "
            "for example 2024-05-31. It was not applied."
        ) from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(
            f"The {label} date {day.isoformat()} must be between {EARLIEST_DATE.isoformat()} "
            f"and {LATEST_DATE.isoformat()}. It was not applied."
        )
    return day


def date_arg(name: str) -> dt.date | None:
    """The query-string date `name`, or None (with a message on the page) when it is absurd."""
    try:
        return parse_filter_date(request.args.get(name, ""), f"“{name}”")
    except ValueError as problem:
        flash(str(problem), "error")
        return None
