"""ECG strips as vector SVG on true ECG paper, sized in millimetres.

Standard paper: 25 mm/s, 10 mm/mV; a 1 mm minor and 5 mm major grid; a 1 mV x 200 ms
calibration pulse at the start of each strip; the lead's name above it. The SVG's width and
height are given in mm and its viewBox in mm, so printed at 100 % every square is true size.

A lane (the strip's height) grows to hold the trace's actual range, in whole 5 mm squares, up
to a maximum; a wave taller than that is clipped at the lane's edge, and the clipped part is
drawn in another colour under a small triangle and the word "clipped", so a reader knows the
wave is taller than drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

MM_PER_S = 25.0
MM_PER_MV = 10.0
MINOR_MM = 1.0
MAJOR_MM = 5.0
CALIBRATION_WIDTH_MM = 5.0  # 200 ms
CALIBRATION_LEFT_MM = 2.0
CALIBRATION_MM = 1.0 * MM_PER_MV  # the pulse is 1 mV tall
TRACE_LEFT_MM = 10.0  # after the calibration pulse
POINTS_PER_MM = 4  # enough for a smooth trace at 25 mm/s (100 points per second)
GRID_MINOR = "#f6c6c6"
GRID_MAJOR = "#e48a8a"
TRACE = "#000"
CLIPPED = "#0b57d0"  # the clipped part of a wave, and its marker
EDGE_MM = 0.5  # the trace stays this far inside its lane
STRIP_MIN_MM = 30.0  # a single strip's lane: at least this tall ...
STRIP_MAX_MM = 60.0  # ... and at most this (taller waves are clipped, visibly)


def grid(width_mm: float, height_mm: float) -> str:
    """1 mm and 5 mm grid lines covering the strip; the lines on its edges are moved in by
    half their width so that they show whole (a border), not half cut off."""
    parts = []
    for step, colour, width in ((MINOR_MM, GRID_MINOR, 0.08), (MAJOR_MM, GRID_MAJOR, 0.2)):
        xs = np.clip(np.arange(0, width_mm + 1e-6, step), width / 2, width_mm - width / 2)
        ys = np.clip(np.arange(0, height_mm + 1e-6, step), width / 2, height_mm - width / 2)
        path = "".join(f"M{x:.2f} 0V{height_mm:.2f}" for x in xs)
        path += "".join(f"M0 {y:.2f}H{width_mm:.2f}" for y in ys)
        parts.append(f'<path d="{path}" stroke="{colour}" stroke-width="{width}" fill="none"/>')
    return "".join(parts)


def trace_points(
    signal_mv: np.ndarray, fs_hz: float, start_s: float, duration_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """(seconds from `start_s`, mV about the segment's median) of one lead's segment, thinned
    to POINTS_PER_MM points per mm of paper keeping every peak (min and max of each bucket)."""
    i0 = max(0, round(start_s * fs_hz))
    i1 = min(len(signal_mv), round((start_s + duration_s) * fs_hz))
    segment = np.nan_to_num(np.asarray(signal_mv[i0:i1], dtype=np.float64))
    if segment.size:
        segment = segment - float(np.median(segment))  # centre the trace on its baseline
    offset_s = i0 / fs_hz - start_s
    n_points = max(2, int(duration_s * MM_PER_S * POINTS_PER_MM))
    if segment.size <= n_points:
        return offset_s + np.arange(segment.size) / fs_hz, segment
    edges = np.linspace(0, segment.size, n_points // 2 + 1).astype(int)
    xs, ys = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b <= a:
            continue
        chunk = segment[a:b]
        lo, hi = int(np.argmin(chunk)), int(np.argmax(chunk))
        for k in sorted({lo, hi}):
            xs.append((a + k) / fs_hz)
            ys.append(chunk[k])
    return offset_s + np.asarray(xs), np.asarray(ys)


def extent_mm(y_mv: np.ndarray) -> tuple[float, float]:
    """How far the trace reaches above and below its baseline, in mm (both >= 0)."""
    if not y_mv.size:
        return 0.0, 0.0
    return max(0.0, float(y_mv.max()) * MM_PER_MV), max(0.0, -float(y_mv.min()) * MM_PER_MV)


@dataclass(frozen=True)
class Lane:
    height_mm: float
    baseline_mm: float  # from the lane's top


def lane(
    up_mm: float,
    down_mm: float,
    *,
    min_mm: float,
    max_mm: float,
    top_pad_mm: float = 1.0,
    bottom_pad_mm: float = 1.0,
) -> Lane:
    """The smallest lane of whole 5 mm squares (at least `min_mm`, at most `max_mm`) that holds
    a trace reaching `up_mm` above and `down_mm` below its baseline, and the calibration pulse.

    If it cannot hold it all, only the side that does not fit in half the lane is clipped
    (both, in proportion, if neither does); the calibration pulse is always whole."""
    up = max(up_mm, CALIBRATION_MM)
    need = top_pad_mm + up + down_mm + bottom_pad_mm
    height = min(max_mm, max(min_mm, MAJOR_MM * math.ceil(need / MAJOR_MM - 1e-9)))
    if need <= height:  # spare room split evenly above and below
        return Lane(height, top_pad_mm + up + (height - need) / 2)
    room = height - top_pad_mm - bottom_pad_mm
    if down_mm <= room / 2:  # a tall R wave: clip it, keep the S wave whole
        below = down_mm
    elif up <= room / 2:  # a deep S (or QS) wave: clip it, keep the rest whole
        below = room - up
    else:
        below = room * down_mm / (up + down_mm)
    baseline = max(top_pad_mm + CALIBRATION_MM, height - bottom_pad_mm - below)
    return Lane(height, baseline)


def calibration_path(x0_mm: float, baseline_mm: float) -> str:
    """The 1 mV x 200 ms pulse at `x0_mm`, as an SVG path running to the trace's start."""
    top = baseline_mm - CALIBRATION_MM
    left = x0_mm + CALIBRATION_LEFT_MM
    return (
        f'<path d="M{x0_mm + 0.5:.2f} {baseline_mm:.2f}H{left:.2f}V{top:.2f}'
        f"H{left + CALIBRATION_WIDTH_MM:.2f}V{baseline_mm:.2f}H{x0_mm + TRACE_LEFT_MM:.2f}"
        f'" stroke="{TRACE}" stroke-width="0.25" fill="none"/>'
    )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


def _points(x_mm: np.ndarray, y_mm: np.ndarray) -> str:
    return " ".join(f"{x:.2f},{v:.2f}" for x, v in zip(x_mm, y_mm, strict=True))


def trace_svg(x_mm: np.ndarray, y_mm: np.ndarray, top_mm: float, bottom_mm: float) -> str:
    """The trace as a polyline kept within [top_mm, bottom_mm]. Where it goes beyond, it is
    drawn at the edge in the CLIPPED colour, with a triangle pointing the way it went and, at
    the first such place, the word "clipped"."""
    if not x_mm.size:
        return ""
    low, high = top_mm + EDGE_MM, bottom_mm - EDGE_MM
    shown = np.clip(y_mm, low, high)
    parts = [
        f'<polyline points="{_points(x_mm, shown)}" stroke="{TRACE}" stroke-width="0.25" '
        f'fill="none" stroke-linejoin="round"/>'
    ]
    runs = _runs((y_mm < low) | (y_mm > high))
    marks, word = [], ""
    for n, (a, b) in enumerate(runs):
        lo, hi = max(0, a - 1), min(len(x_mm) - 1, b + 1)
        parts.append(
            f'<polyline points="{_points(x_mm[lo : hi + 1], shown[lo : hi + 1])}" '
            f'stroke="{CLIPPED}" stroke-width="0.45" fill="none"/>'
        )
        x = float(x_mm[(a + b) // 2])
        above = bool(y_mm[a] < low)
        # A triangle pointing the way the wave went, just inside the lane's edge.
        tip, base = (low + 0.3, low + 1.8) if above else (high - 0.3, high - 1.8)
        marks.append(f"M{x - 0.9:.2f} {base:.2f}L{x:.2f} {tip:.2f}L{x + 0.9:.2f} {base:.2f}Z")
        if n == 0:
            word = (
                f'<text x="{x + 1.3:.2f}" y="{low + 1.9 if above else high - 0.4:.2f}" '
                f'font-size="2" fill="{CLIPPED}">clipped</text>'
            )
    if runs:
        parts.append(
            f'<g class="clipped"><title>Clipped: the wave is taller than drawn</title>'
            f'<path d="{"".join(marks)}" fill="{CLIPPED}"/>{word}</g>'
        )
    return "".join(parts)


def strip_svg(
    signal_mv: np.ndarray,
    fs_hz: float,
    *,
    lead_name: str,
    start_s: float,
    duration_s: float,
    height_mm: float | None = None,
    markers: Sequence[tuple[float, str]] = (),
    title: str | None = None,
    min_height_mm: float = STRIP_MIN_MM,
    max_height_mm: float = STRIP_MAX_MM,
) -> str:
    """One lead from `start_s` for `duration_s` on paper; `markers` are (time_s, label).

    The lane is `height_mm` tall if given, else as tall as the trace needs in whole 5 mm
    squares (`min_height_mm` to `max_height_mm`); beyond it a wave is clipped, visibly."""
    width_mm = TRACE_LEFT_MM + duration_s * MM_PER_S
    t, y = trace_points(signal_mv, fs_hz, start_s, duration_s)
    shown = [(when, text) for when, text in markers if start_s <= when <= start_s + duration_s]
    top_pad = 3.5 if shown else 1.0  # room for the markers' labels
    up, down = extent_mm(y)
    if height_mm is None:
        paper = lane(up, down, min_mm=min_height_mm, max_mm=max_height_mm, top_pad_mm=top_pad)
    else:
        paper = lane(up, down, min_mm=height_mm, max_mm=height_mm, top_pad_mm=top_pad)
    height, baseline = paper.height_mm, paper.baseline_mm
    x_mm = TRACE_LEFT_MM + t * MM_PER_S
    trace = trace_svg(x_mm, baseline - y * MM_PER_MV, 0.0, height)
    labels = "".join(
        f'<text x="{TRACE_LEFT_MM + (when - start_s) * MM_PER_S:.2f}" y="3" '
        f'font-size="2.4" text-anchor="middle" fill="#333">{escape(text)}</text>'
        for when, text in shown
    )
    heading = escape(title or lead_name)
    clipped = ", some waves clipped (taller than drawn)" if 'class="clipped"' in trace else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ecg-strip" width="{width_mm:.2f}mm" '
        f'height="{height:.2f}mm" viewBox="0 0 {width_mm:.2f} {height:.2f}" role="img" '
        f'aria-label="ECG lead {escape(lead_name)}, {start_s:.1f} to '
        f'{start_s + duration_s:.1f} s, 25 mm/s, 10 mm/mV{clipped}">'
        f"{grid(width_mm, height)}{calibration_path(0.0, baseline)}{trace}"
        f'<text x="{TRACE_LEFT_MM + 1}" y="{height - 1.5:.2f}" font-size="3" '
        f'font-weight="bold">{heading}</text>{labels}</svg>'
    )
