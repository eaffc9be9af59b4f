"""The classic 12-lead page (as MUSE and most carts print it): a 3 x 4 grid of leads, columns
I/II/III, aVR/aVL/aVF, V1/V2/V3, V4/V5/V6, each lead showing its own consecutive 2.5 s of the
first 10 s, then a full-width 10 s lead II rhythm strip; 25 mm/s, 10 mm/mV on one continuous
1 mm / 5 mm grid, a calibration pulse at the start of each row and every lead named.

Each row is as tall as its tallest lead needs (whole 5 mm squares, ROW_MIN_MM to ROW_MAX_MM,
and all rows together at most TOTAL_MAX_MM so the grid fits on page 1 under the patient, the
measurements and the statements); a wave beyond its row is clipped, visibly (`paper.trace_svg`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from ml.recording import Recording, canonical_lead_name
from reports.paper import (
    MM_PER_MV,
    MM_PER_S,
    TRACE,
    TRACE_LEFT_MM,
    Lane,
    calibration_path,
    extent_mm,
    grid,
    lane,
    trace_points,
    trace_svg,
)

COLUMNS = (("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"))
TWELVE_LEADS = tuple(lead for column in COLUMNS for lead in column)
RHYTHM_LEAD = "II"
SPAN_S = 10.0
COLUMN_S = SPAN_S / len(COLUMNS)  # 2.5 s
LABEL_PAD_MM = 3.5  # room at the top of each row for the lead names (and beat markers)
ROW_MIN_MM = 25.0
ROW_MAX_MM = 40.0
TOTAL_MAX_MM = 130.0  # the 4 rows together: what page 1 has room for
WIDTH_MM = TRACE_LEFT_MM + SPAN_S * MM_PER_S  # 260 mm: fits landscape A4 and Letter


def lead_indices(lead_names: Sequence[str]) -> dict[str, int] | None:
    """Standard lead name -> column of the recording, if all 12 standard leads are present
    (under any spelling `canonical_lead_name` knows); else None."""
    found: dict[str, int] = {}
    for index, name in enumerate(lead_names):
        found.setdefault(canonical_lead_name(name), index)
    if not all(lead in found for lead in TWELVE_LEADS):
        return None
    return {lead: found[lead] for lead in TWELVE_LEADS}


@dataclass(frozen=True)
class Segment:
    lead: str
    column: int  # 0-3; the rhythm strip is one segment in column 0
    start_s: float
    t_s: np.ndarray  # from start_s
    y_mv: np.ndarray


@dataclass(frozen=True)
class Layout:
    """Rows 0-2 of the grid, then the rhythm strip (row 3), with their lanes."""

    rows: tuple[tuple[Segment, ...], ...]
    lanes: tuple[Lane, ...]
    span_s: float

    @property
    def height_mm(self) -> float:
        return float(sum(lane.height_mm for lane in self.lanes))

    def top_mm(self, row: int) -> float:
        return float(sum(lane.height_mm for lane in self.lanes[:row]))


def layout(recording: Recording, rhythm_lead: str = RHYTHM_LEAD) -> Layout:
    """Which part of which lead goes where, and how tall each row is; the rhythm strip is
    `rhythm_lead` (lead II, or the lead the read turned to when lead II could not be read)."""
    index = lead_indices(recording.lead_names)
    if index is None:
        raise ValueError("a 12-lead layout needs all of I, II, III, aVR, aVL, aVF, V1-V6")
    fs = recording.fs_hz
    span = min(SPAN_S, recording.duration_s)
    rows: list[tuple[Segment, ...]] = []
    for row in range(3):
        segments = []
        for column, leads in enumerate(COLUMNS):
            start = column * COLUMN_S
            length = min(COLUMN_S, span - start)
            if length <= 0:
                continue
            signal = recording.signal_mv[:, index[leads[row]]]
            t, y = trace_points(signal, fs, start, length)
            segments.append(Segment(leads[row], column, start, t, y))
        rows.append(tuple(segments))
    rhythm_lead = rhythm_lead if rhythm_lead in index else RHYTHM_LEAD
    t, y = trace_points(recording.signal_mv[:, index[rhythm_lead]], fs, 0.0, span)
    rows.append((Segment(rhythm_lead, 0, 0.0, t, y),))
    extents = [_extent(segments) for segments in rows]
    caps = [ROW_MAX_MM] * len(rows)
    lanes = [_lane(extent, cap) for extent, cap in zip(extents, caps, strict=True)]
    # Too tall for the page: take 5 mm at a time from the tallest row (its waves are clipped).
    while sum(x.height_mm for x in lanes) > TOTAL_MAX_MM:
        tallest = max(range(len(lanes)), key=lambda i: lanes[i].height_mm)
        if lanes[tallest].height_mm <= ROW_MIN_MM:
            break
        caps[tallest] = lanes[tallest].height_mm - 5.0
        lanes[tallest] = _lane(extents[tallest], caps[tallest])
    return Layout(tuple(rows), tuple(lanes), span)


def _extent(segments: Sequence[Segment]) -> tuple[float, float]:
    reach = [extent_mm(s.y_mv) for s in segments] or [(0.0, 0.0)]
    return max(up for up, _ in reach), max(down for _, down in reach)


def _lane(extent: tuple[float, float], cap_mm: float) -> Lane:
    up, down = extent
    return lane(up, down, min_mm=ROW_MIN_MM, max_mm=cap_mm, top_pad_mm=LABEL_PAD_MM)


def twelve_lead_svg(
    recording: Recording,
    markers: Sequence[tuple[float, str]] = (),
    rhythm_lead: str = RHYTHM_LEAD,
) -> str:
    """The 3 x 4 grid and the rhythm strip (`layout`) as one SVG in true millimetres;
    `markers` (time_s, label), such as the analysis's non-normal beats, are written over the
    rhythm strip."""
    plan = layout(recording, rhythm_lead)
    height = plan.height_mm
    parts = [grid(WIDTH_MM, height)]
    for row, (segments, paper) in enumerate(zip(plan.rows, plan.lanes, strict=True)):
        top = plan.top_mm(row)
        baseline = top + paper.baseline_mm
        parts.append(calibration_path(0.0, baseline))
        for segment in segments:
            x0 = TRACE_LEFT_MM + segment.start_s * MM_PER_S
            if segment.column:  # where one lead gives way to the next: a short tick
                parts.append(
                    f'<path d="M{x0:.2f} {baseline - 2.5:.2f}V{baseline + 2.5:.2f}" '
                    f'stroke="{TRACE}" stroke-width="0.3"/>'
                )
            x_mm = x0 + segment.t_s * MM_PER_S
            y_mm = baseline - segment.y_mv * MM_PER_MV
            parts.append(trace_svg(x_mm, y_mm, top, top + paper.height_mm))
            parts.append(
                f'<text x="{x0 + 1:.2f}" y="{top + 3:.2f}" font-size="3" '
                f'font-weight="bold">{escape(segment.lead)}</text>'
            )
    rhythm_top = plan.top_mm(len(plan.rows) - 1)
    parts.extend(
        f'<text x="{TRACE_LEFT_MM + when * MM_PER_S:.2f}" y="{rhythm_top + 3:.2f}" '
        f'font-size="2.4" text-anchor="middle" fill="#333">{escape(text)}</text>'
        for when, text in markers
        if 0.0 <= when <= plan.span_s
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ecg-twelve-lead" '
        f'width="{WIDTH_MM:.2f}mm" height="{height:.2f}mm" viewBox="0 0 {WIDTH_MM:.2f} '
        f'{height:.2f}" role="img" aria-label="12-lead ECG, 0 to {plan.span_s:.1f} s: I, II, '
        f"III, aVR, aVL, aVF, V1-V6 for 2.5 s each in 3 rows of 4, and a 10 s lead II rhythm "
        f'strip; 25 mm/s, 10 mm/mV">{"".join(parts)}</svg>'
    )
