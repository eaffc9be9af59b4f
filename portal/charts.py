"""Small server-drawn SVG charts: a trend reads faster than a table, and needs no JavaScript."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from portal.local_time import as_utc, hospital_day

WIDTH_PX, HEIGHT_PX = 320, 120
PAD_LEFT_PX, PAD_RIGHT_PX, PAD_TOP_PX, PAD_BOTTOM_PX = 44, 12, 22, 22


def trend_svg(
    points: Sequence[tuple[dt.datetime, float | Decimal | int | None]], *, label: str, unit: str
) -> Markup | None:
    """A line chart of the measured values over time, or None when fewer than one exists.
    Times are stored naive UTC: spaced as UTC instants (a naive `timestamp()` reads the
    server's zone) and dated in the hospital's zone, as the rest of the page dates them."""
    values = [(t, float(v)) for t, v in points if v is not None]
    if not values:
        return None
    times = [as_utc(t).timestamp() for t, _ in values]
    ys = [v for _, v in values]
    t0, t1 = min(times), max(times)
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 1, y1 + 1
    span_t = (t1 - t0) or 1.0
    plot_w = WIDTH_PX - PAD_LEFT_PX - PAD_RIGHT_PX
    plot_h = HEIGHT_PX - PAD_TOP_PX - PAD_BOTTOM_PX

    def x(t: float) -> float:
        return PAD_LEFT_PX + (plot_w * (t - t0) / span_t if t1 > t0 else plot_w / 2)

    def y(v: float) -> float:
        return PAD_TOP_PX + plot_h * (1 - (v - y0) / (y1 - y0))

    coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, ys, strict=True))
    dots = "".join(
        f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="3"><title>'
        f"{escape(hospital_day(when))}: {v:g} {escape(unit)}</title></circle>"
        for (when, v), t in zip(values, times, strict=True)
    )
    first, last = hospital_day(values[0][0]), hospital_day(values[-1][0])
    title = f"{label} ({unit}), {len(values)} measurement{'s' if len(values) > 1 else ''}"
    return Markup(
        f'<svg class="trend" viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" role="img" '
        f'aria-label="{escape(title)}, latest {ys[-1]:g}">'
        f'<text x="4" y="14" class="trend-title">{escape(title)}</text>'
        f'<text x="{PAD_LEFT_PX - 4}" y="{y(y1) + 4:.1f}" text-anchor="end">{y1:g}</text>'
        f'<text x="{PAD_LEFT_PX - 4}" y="{y(y0) + 4:.1f}" text-anchor="end">{y0:g}</text>'
        f'<line x1="{PAD_LEFT_PX}" y1="{HEIGHT_PX - PAD_BOTTOM_PX}" x2="{WIDTH_PX - PAD_RIGHT_PX}" '
        f'y2="{HEIGHT_PX - PAD_BOTTOM_PX}" class="axis"/>'
        f'<polyline points="{coords}" fill="none"/>{dots}'
        f'<text x="{PAD_LEFT_PX}" y="{HEIGHT_PX - 6}">{first}</text>'
        f'<text x="{WIDTH_PX - PAD_RIGHT_PX}" y="{HEIGHT_PX - 6}" text-anchor="end">{last}</text>'
        "</svg>"
    )
