"""Counting rows for a pager without reading every row: past a few thousand, a pager's
"Page 1 of 3,981" serves no one, while counting 100,000 reports or a million audit rows on
every page view costs more than the page itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

COUNT_CAP = 10_000


def capped_count(session: Session, query: Select[Any], cap: int = COUNT_CAP) -> int:
    """How many rows `query` gives, up to cap + 1 (more than `cap`: "10,000+")."""
    return capped_counts(session, [query], cap)[0]


def capped_counts(session: Session, queries: list[Select[Any]], cap: int = COUNT_CAP) -> list[int]:
    """`capped_count` of each query, in one statement (one round trip to the database)."""
    counts = [
        select(func.count())
        .select_from(
            query.with_only_columns(literal(1), maintain_column_froms=True)
            .limit(cap + 1)
            .subquery()
        )
        .scalar_subquery()
        for query in queries
    ]
    return [int(n or 0) for n in session.execute(select(*counts)).one()]


def shown_count(n: int, cap: int = COUNT_CAP) -> str:
    """A count as a page says it: "1,234", or "10,000+" past the cap."""
    return f"{cap:,}+" if n > cap else f"{n:,}"


def page_count(total: int, per_page: int, cap: int = COUNT_CAP) -> int:
    """Pages a pager offers: at least one; never past the cap (filters narrow a long list)."""
    return max(1, -(-min(total, cap) // per_page))
