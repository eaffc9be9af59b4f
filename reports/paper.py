"""ECG strips as vector SVG on true ECG paper, sized in millimetres.

Standard paper: 25 mm/s, 10 mm/mV; a 1 mm minor and 5 mm major grid; a 1 mV x 200 ms
calibration pulse at the start of each strip; the lead's name above it. The SVG's width and
height are given in mm and its viewBox in mm, so printed at 100 % every square is true size.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

MM_PER_S = 25.0
MM_PER_MV = 10.0
MINOR_MM = 1.0
MAJOR_MM = 5.0
CALIBRATION_WIDTH_MM = 5.0  # 200 ms
CALIBRATION_LEFT_MM = 2.0
TRACE_LEFT_MM = 10.0  # after the calibration pulse
POINTS_PER_MM = 4  # enough for a smooth trace at 25 mm/s (100 points per second)
GRID_MINOR = "#f6c6c6"
GRID_MAJOR = "#e48a8a"


def grid(width_mm: float, height_mm: float) -> str:
    """1 mm and 5 mm grid lines covering the strip."""
    parts = []
    for step, colour, width in ((MINOR_MM, GRID_MINOR, 0.08), (MAJOR_MM, GRID_MAJOR, 0.2)):
        xs = np.arange(0, width_mm + 1e-6, step)
        ys = np.arange(0, height_mm + 1e-6, step)
        path = "".join(f"M{x:.2f} 0V{height_mm:.2f}" for x in xs)
        path += "".join(f"M0 {y:.2f}H{width_mm:.2f}" for y in ys)
        parts.append(f'<path d="{path}" stroke="{colour}" stroke-width="{width}" fill="none"/>')
    return "".join(parts)


def strip_svg(
    signal_mv: np.ndarray,
    fs_hz: float,
    *,
    lead_name: str,
    start_s: float,
    duration_s: float,
    height_mm: float = 30.0,
    markers: Sequence[tuple[float, str]] = (),
    title: str | None = None,
) -> str:
    """One lead from `start_s` for `duration_s` on paper; `markers` are (time_s, label)."""
    width_mm = TRACE_LEFT_MM + duration_s * MM_PER_S
    baseline_mm = height_mm * 0.6
    i0 = max(0, round(start_s * fs_hz))
    i1 = min(len(signal_mv), round((start_s + duration_s) * fs_hz))
    segment = np.nan_to_num(np.asarray(signal_mv[i0:i1], dtype=np.float64))
    if segment.size:
        segment = segment - float(np.median(segment))  # centre the trace on its baseline
    n_points = max(2, int(duration_s * MM_PER_S * POINTS_PER_MM))
    if segment.size > n_points:
        # Keep peaks: take min and max of each bucket, in time order.
        edges = np.linspace(0, segment.size, n_points // 2 + 1).astype(int)
        xs, ys = [], []
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if b <= a:
                continue
            chunk = segment[a:b]
            lo, hi = int(np.argmin(chunk)), int(np.argmax(chunk))
            for k in sorted((lo, hi)):
                xs.append((a + k) / fs_hz)
                ys.append(chunk[k])
        t = np.asarray(xs)
        y = np.asarray(ys)
    else:
        t = np.arange(segment.size) / fs_hz
        y = segment
    x_mm = TRACE_LEFT_MM + t * MM_PER_S
    y_mm = np.clip(baseline_mm - y * MM_PER_MV, 0.5, height_mm - 0.5)
    trace = " ".join(f"{x:.2f},{v:.2f}" for x, v in zip(x_mm, y_mm, strict=True))
    cal_top = baseline_mm - MM_PER_MV
    calibration = (
        f"M0.5 {baseline_mm:.2f}H{CALIBRATION_LEFT_MM:.2f}V{cal_top:.2f}"
        f"H{CALIBRATION_LEFT_MM + CALIBRATION_WIDTH_MM:.2f}V{baseline_mm:.2f}H{TRACE_LEFT_MM:.2f}"
    )
    labels = "".join(
        f'<text x="{TRACE_LEFT_MM + (when - start_s) * MM_PER_S:.2f}" y="3" '
        f'font-size="2.4" text-anchor="middle" fill="#333">{escape(text)}</text>'
        for when, text in markers
        if start_s <= when <= start_s + duration_s
    )
    heading = escape(title or lead_name)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ecg-strip" width="{width_mm:.2f}mm" '
        f'height="{height_mm:.2f}mm" viewBox="0 0 {width_mm:.2f} {height_mm:.2f}" role="img" '
        f'aria-label="ECG lead {escape(lead_name)}, {start_s:.1f} to '
        f'{start_s + duration_s:.1f} s, 25 mm/s, 10 mm/mV">'
        f"{grid(width_mm, height_mm)}"
        f'<path d="{calibration}" stroke="#000" stroke-width="0.25" fill="none"/>'
        f'<polyline points="{trace}" stroke="#000" stroke-width="0.25" fill="none" '
        f'stroke-linejoin="round"/>'
        f'<text x="{TRACE_LEFT_MM + 1}" y="{height_mm - 1.5:.2f}" font-size="3" '
        f'font-weight="bold">{heading}</text>{labels}</svg>'
    )
