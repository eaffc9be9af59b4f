"""Signal quality per 10-second segment, so noisy stretches are flagged, not over-read.

A segment is "unusable" when the lead is flat, saturated or drowned in artefact; beats there
are reported as unclassifiable (Q) instead of being given a confident class. "Noisy" segments
are analysed but flagged for the doctor. Besides the shape of the trace itself, a segment is
"noisy" when its beats do not look like one another (`beat_mismatch`): electrode-motion noise
has the ECG's own frequencies, so it hides from spectral tests, but it changes every beat
differently. On the Noise Stress Test Database this flags 95-99 % of the 0 and -6 dB stretches
and about 3 % of clean MIT-BIH DS1 and svdb segments (`python -m ml.train` noise table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ml.dsp import butter_sos, sosfiltfilt
from ml.filters import bandpass_mv

SEGMENT_S = 10.0
FLAT_STD_MV = 0.01
SATURATED_FRACTION = 0.05
NOISY_HF_RATIO = 0.35  # RMS above 40 Hz relative to the QRS band
UNUSABLE_HF_RATIO = 1.0
ARTEFACT_RANGE_MV = 12.0  # no ECG spans 12 mV peak to peak; electrode motion does
# ... but not throughout: a lead whose typical segment spans that much is an ECG at the wrong
# gain or in the wrong units (a clean strip at 10 times its size read "heavy artefact
# throughout", found by a clinician-eye audit, 2026-12-05).
TOO_LARGE_REASON = (
    "signal over 12 mV peak to peak (no ECG reaches that: the recorder's gain or the file's "
    "units are probably wrong)"
)
NOISY_RANGE_RATIO = 2.5  # a segment this much taller than the recording's typical one: motion
UNUSABLE_RANGE_RATIO = 6.0
# Beat-to-beat mismatch: RMS of (beat - segment's median beat) over the median beat's RMS,
# 25th percentile over the segment's beats (so up to 3 in 4 ectopic beats do not count).
# Clean segments: median 0.1; nstdb at 0 dB: 1.2-1.3. Chosen on DS1, svdb and nstdb.
NOISY_BEAT_MISMATCH = 0.6
# Why a segment whose beats differ is flagged: artefact and noise, but also beats of several
# shapes. An on-call audit: MIT-BIH 205's clean ventricular tachycardia and the slow
# ventricular run after it read "(artefact or noise)", which invites a doctor to dismiss them.
BEATS_DIFFER_REASON = (
    "beats differ from one to the next (artefact or noise, or beats of several shapes: "
    "ventricular beats and runs look alike, so check the strip)"
)
MISMATCH_PERCENTILE = 25.0
BEAT_WINDOW_S = (0.2, 0.4)  # before and after the R peak
MAINS_REASON = "mains interference"  # a segment noisy only for the hum notched out of it
FAST_NOISE_REASON = "muscle or mains noise"  # noise above 40 Hz: it blurs small waves


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    level: str  # "good", "noisy", "unusable"
    reason: str = ""


def beat_residuals(band_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray) -> np.ndarray | None:
    """Per whole beat at `r_peaks`: the RMS of the beat minus the beats' median beat, over
    that median beat's RMS; None with fewer than 3 whole beats. `band_mv` is the lead
    band-passed to about 0.5-40 Hz."""
    before, after = (round(s * fs_hz) for s in BEAT_WINDOW_S)
    peaks = r_peaks[(r_peaks >= before) & (r_peaks < band_mv.size - after)]
    if peaks.size < 3:
        return None
    beats = band_mv[peaks[:, None] + np.arange(-before, after)[None, :]]
    beats = beats - np.median(beats, axis=1, keepdims=True)
    template = np.median(beats, axis=0)
    scale = max(float(np.sqrt(np.mean(template**2))), 1e-6)
    return np.asarray(np.sqrt(np.mean((beats - template) ** 2, axis=1)) / scale)


def beat_mismatch(band_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray) -> float | None:
    """How unlike each other the beats at `r_peaks` are (see NOISY_BEAT_MISMATCH); None with
    fewer than 3 whole beats. `band_mv` is the lead band-passed to about 0.5-40 Hz."""
    residual = beat_residuals(band_mv, fs_hz, r_peaks)
    return None if residual is None else float(np.percentile(residual, MISMATCH_PERCENTILE))


@dataclass(frozen=True)
class LeadLevels:
    """Whole-lead figures each segment is judged against: the lead's extremes (saturation)
    and its typical segment spread (motion artefact)."""

    low_mv: float
    high_mv: float
    typical_spread_mv: float


def segment_bounds(n_samples: int, fs_hz: float) -> list[tuple[int, int]]:
    """(start, stop) samples of each 10-s segment; a short tail joins the previous one."""
    step = int(SEGMENT_S * fs_hz)
    bounds = [(start, min(n_samples, start + step)) for start in range(0, n_samples, step)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < step // 2:
        bounds[-2:] = [(bounds[-2][0], n_samples)]
    return bounds


def segment_quality(
    lead_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray | None = None
) -> list[Segment]:
    """Quality of each 10-s segment; with the detected `r_peaks`, beat mismatch counts too."""
    bounds = segment_bounds(len(lead_mv), fs_hz)
    spreads = _spreads(lead_mv, bounds, int(SEGMENT_S * fs_hz))
    levels = LeadLevels(
        float(np.min(lead_mv)), float(np.max(lead_mv)), max(float(np.median(spreads)), 1e-6)
    )
    return judge_segments(lead_mv, fs_hz, r_peaks, bounds, spreads, levels)


def judge_segments(
    lead_mv: np.ndarray,
    fs_hz: float,
    r_peaks: np.ndarray | None,
    bounds: list[tuple[int, int]],
    spreads: np.ndarray,
    levels: LeadLevels,
    offset: int = 0,
) -> list[Segment]:
    """The segments `bounds` (samples of the whole lead, with their `spreads`), judged from
    `lead_mv`, which holds the lead from sample `offset` on (the whole lead, or a chunk of it
    with some signal either side of the segments for the filters); `r_peaks` index it too.
    Every segment's figures are computed together (`_per_segment`, `segment_mismatches`): a
    24-hour recording has 8,640 segments per lead."""
    qrs = bandpass_mv(lead_mv, fs_hz, (5.0, 15.0))
    if fs_hz > 100:
        high = butter_sos(2, min(40.0, 0.4 * fs_hz), "highpass", fs_hz)
        hf = sosfiltfilt(high, lead_mv)
    else:
        hf = np.zeros_like(lead_mv)
    local = [(first - offset, last - offset) for first, last in bounds]
    low, high_value = levels.low_mv, levels.high_mv
    std = _per_segment(lead_mv, local, lambda x: np.std(x, axis=1))
    pinned = _per_segment(lead_mv, local, lambda x: np.mean((x <= low) | (x >= high_value), axis=1))
    hf_rms = _per_segment(hf, local, lambda x: np.sqrt(np.mean(x**2, axis=1)))
    qrs_rms = _per_segment(qrs, local, lambda x: np.sqrt(np.mean(x**2, axis=1)))
    hf_ratio = hf_rms / np.maximum(qrs_rms, 1e-9)
    peaks = np.sort(np.asarray(r_peaks if r_peaks is not None else [], dtype=np.int64))
    mismatch = segment_mismatches(bandpass_mv(lead_mv, fs_hz), fs_hz, peaks, local)
    typical_spread = levels.typical_spread_mv
    segments = []
    for k, ((first, last), spread) in enumerate(zip(bounds, spreads, strict=True)):
        level, reason = "good", ""
        if std[k] < FLAT_STD_MV:
            level, reason = "unusable", "flat line (electrode off?)"
        elif pinned[k] > SATURATED_FRACTION:
            level, reason = "unusable", "amplifier saturated"
        elif spread > ARTEFACT_RANGE_MV and typical_spread > ARTEFACT_RANGE_MV:
            level, reason = "unusable", TOO_LARGE_REASON
        elif (
            spread > ARTEFACT_RANGE_MV
            or spread > UNUSABLE_RANGE_RATIO * typical_spread
            or hf_ratio[k] > UNUSABLE_HF_RATIO
        ):
            level, reason = "unusable", "heavy artefact"
        elif spread > NOISY_RANGE_RATIO * typical_spread:
            level, reason = "noisy", "motion artefact or baseline wander"
        elif hf_ratio[k] > NOISY_HF_RATIO:
            level, reason = "noisy", FAST_NOISE_REASON
        elif (beats_differ := mismatch[k]) is not None and beats_differ > NOISY_BEAT_MISMATCH:
            level, reason = "noisy", BEATS_DIFFER_REASON
        segments.append(Segment(first / fs_hz, last / fs_hz, level, reason))
    return segments


def _per_segment(
    x: np.ndarray, bounds: list[tuple[int, int]], reduce: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """`reduce` (a row-wise reduction of a 2-D array) of x[start:stop] for each segment,
    segments of one length at a time: row by row, the same figures as segment by segment."""
    starts = np.array([a for a, _ in bounds], dtype=np.int64)
    lengths = np.array([b - a for a, b in bounds], dtype=np.int64)
    out = np.empty(len(bounds))
    for length in np.unique(lengths):
        which = np.flatnonzero(lengths == length)
        out[which] = reduce(x[starts[which, None] + np.arange(length)[None, :]])
    return out


def segment_mismatches(
    band_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray, bounds: list[tuple[int, int]]
) -> list[float | None]:
    """`beat_mismatch` of the beats of each segment (`r_peaks` sorted, segments in samples
    of `band_mv`), segments with the same number of beats at a time: the same figures."""
    before, after = (round(s * fs_hz) for s in BEAT_WINDOW_S)
    peaks = r_peaks[(r_peaks >= before) & (r_peaks < band_mv.size - after)]
    first = np.searchsorted(peaks, [a for a, _ in bounds])
    counts = np.searchsorted(peaks, [b for _, b in bounds]) - first
    beats = band_mv[peaks[:, None] + np.arange(-before, after)[None, :]]
    beats = beats - np.median(beats, axis=1, keepdims=True)
    out: list[float | None] = [None] * len(bounds)
    for count in np.unique(counts[counts >= 3]):
        which = np.flatnonzero(counts == count)
        group = beats[first[which, None] + np.arange(count)[None, :]]  # segment, beat, sample
        template = np.median(group, axis=1)
        scale = np.maximum(np.sqrt(np.mean(template**2, axis=1)), 1e-6)
        residual = np.sqrt(np.mean((group - template[:, None, :]) ** 2, axis=2)) / scale[:, None]
        for k, value in zip(
            which, np.percentile(residual, MISMATCH_PERCENTILE, axis=1), strict=True
        ):
            out[k] = float(value)
    return out


def segment_spreads(
    lead_mv: np.ndarray, fs_hz: float, bounds: list[tuple[int, int]], offset: int = 0
) -> np.ndarray:
    """The 0.5-99.5 percentile range of each segment in `bounds` (whole-lead samples) from
    `lead_mv`, which holds the lead from sample `offset` on."""
    shifted = [(a - offset, b - offset) for a, b in bounds]
    first = shifted[0][0] if shifted else 0
    local = [(a - first, b - first) for a, b in shifted]
    return _spreads(lead_mv[first:], local, int(SEGMENT_S * fs_hz))


def _spreads(lead_mv: np.ndarray, bounds: list[tuple[int, int]], step: int) -> np.ndarray:
    """Per segment, the 0.5-99.5 percentile range; whole segments in one vectorised call."""
    whole = [i for i, (a, b) in enumerate(bounds) if b - a == step]
    spreads = np.empty(len(bounds))
    if whole:
        blocks = lead_mv[: len(whole) * step].reshape(len(whole), step)
        low, high = np.percentile(blocks, [0.5, 99.5], axis=1)
        spreads[whole] = high - low
    for i, (a, b) in enumerate(bounds):
        if b - a != step:
            spreads[i] = np.percentile(lead_mv[a:b], 99.5) - np.percentile(lead_mv[a:b], 0.5)
    return spreads


def good_share(
    segments: list[Segment],
    in_some_lead: bool = False,
    clear_spans_s: Sequence[tuple[float, float]] = (),
) -> float:
    """The share of the recording's time whose signal is good (0 without segments); with
    `in_some_lead`, also where it is good once the mains hum is notched out
    (`good_once_filtered`) or good in a lead the read turns to (`READ_FROM`), and the
    segments (start, end) in `clear_spans_s` (noisy only from fast noise the beats stand clear
    of: `ml.strip_rhythm.clear_of_fast_noise_s`)."""
    total_s = sum(s.end_s - s.start_s for s in segments) or 1.0
    clear = set(clear_spans_s)

    def good(s: Segment) -> bool:
        return s.level == "good" or (in_some_lead and good_in_some_lead(s, clear))

    return sum(s.end_s - s.start_s for s in segments if good(s)) / total_s


def good_in_some_lead(
    segment: Segment, clear_spans_s: Collection[tuple[float, float]] = ()
) -> bool:
    """Good, good once the mains hum is notched out, good in another lead
    (`another_lead_good`), or noisy only from fast noise its beats stand clear of (its
    (start, end) in `clear_spans_s`, `ml.strip_rhythm.clear_of_fast_noise_s`): its beats can
    be read."""
    return (
        good_once_filtered(segment)
        or another_lead_good(segment)
        or (segment.start_s, segment.end_s) in clear_spans_s
    )


def noisy_spans_s(
    segments: list[Segment], clear_spans_s: Collection[tuple[float, float]] = ()
) -> list[tuple[float, float]]:
    """(start, end) of each segment noisy or unusable in every lead (not `good_in_some_lead`)."""
    clear = set(clear_spans_s)
    return [(s.start_s, s.end_s) for s in segments if not good_in_some_lead(s, clear)]


def unusable_mask(segments: list[Segment], times_s: np.ndarray) -> np.ndarray:
    """True for each time that falls in an unusable segment."""
    return _segments_at(segments, times_s, [s.level == "unusable" for s in segments])


def noisy_everywhere_mask(segments: list[Segment], times_s: np.ndarray) -> np.ndarray:
    """True for each time that falls in a segment noisy in every lead: flagged noisy, and
    not because the analysis lead is worse than another, good, lead (`another_lead_good`)."""
    noisy = [s.level == "noisy" and not another_lead_good(s) for s in segments]
    return _segments_at(segments, times_s, noisy)


def _segments_at(segments: list[Segment], times_s: np.ndarray, flags: list[bool]) -> np.ndarray:
    """Per time, the flag of the segment it falls in (`flags`: one per segment)."""
    if not segments:
        return np.zeros(len(times_s), dtype=bool)
    starts = np.array([s.start_s for s in segments])
    index = np.clip(np.searchsorted(starts, times_s, side="right") - 1, 0, len(segments) - 1)
    return np.asarray(flags, dtype=bool)[index]


LEVEL_RANK = {"unusable": 0, "noisy": 1, "good": 2}
# In a combined segment's reason, where the analysis lead is worse than another, good, lead:
# unusable, the other lead's beats are read there (`ml.analysis._follow_readable_lead`); merely
# noisy, its own beats are read, checked against the good lead's (`ml.rpeaks`). Every noisy
# segment had said "read from lead V1", though the beats and their types came from MLII (a
# noise audit: MIT-BIH 116 under electrode-motion noise on MLII only read a false VT there).
READ_FROM = "; read from lead "
CHECKED_AGAINST = " good: beats checked against it"
_ANOTHER_LEAD = re.compile(
    f"(?:{re.escape(READ_FROM)}([^;]+)|; lead ([^;]+){re.escape(CHECKED_AGAINST)})$"
)


def another_lead_good(segment: Segment) -> bool:
    """True where the analysis lead is worse than another lead that is good
    (`combine_leads` names it in the reason)."""
    return _ANOTHER_LEAD.search(segment.reason) is not None


def good_in_another_lead(segments: Sequence[Segment]) -> dict[str, float]:
    """Per other lead, the share of the recording's time where the analysis lead is not good
    but that lead is (`combine_leads`): the quality line says it beside the analysis lead's."""
    total_s = sum(s.end_s - s.start_s for s in segments) or 1.0
    shares: dict[str, float] = {}
    for s in segments:
        found = _ANOTHER_LEAD.search(s.reason)
        if found is not None:
            lead = found.group(1) or found.group(2)
            shares[lead] = shares.get(lead, 0.0) + (s.end_s - s.start_s) / total_s
    return shares


def combine_leads(by_lead: dict[str, list[Segment]]) -> list[Segment]:
    """One quality list for the recording from each lead's (the first lead is the analysis
    lead): a stretch is as readable as its best lead, because beats seen in any good lead
    count. Where the analysis lead is worse than another, the stretch is flagged "noisy" and
    the reason names both leads and whose beats were read, so the doctor knows which lead to
    look at."""
    names = list(by_lead)
    combined = []
    for segments in zip(*by_lead.values(), strict=True):
        best = max(range(len(segments)), key=lambda i: LEVEL_RANK[segments[i].level])
        first = segments[0]
        if LEVEL_RANK[first.level] >= LEVEL_RANK[segments[best].level]:
            combined.append(first)
        elif segments[best].level == "good":
            combined.append(
                Segment(
                    first.start_s,
                    first.end_s,
                    "noisy",
                    f"lead {names[0]} {first.level} ({first.reason})"
                    + (
                        f"{READ_FROM}{names[best]}"
                        if first.level == "unusable"
                        else f"; lead {names[best]}{CHECKED_AGAINST}"
                    ),
                )
            )
        else:
            combined.append(segments[best])
    return combined


# A gap this long is unusable for its span, and GAP_MARGIN_S either side (the filters' edge, a
# beat's width), the rest of its segment analysed; shorter gaps leave their segment noisy, or
# unusable from this much of them. The whole segment had been unusable: MIT-BIH 100 with its
# first 1.95 s missing read every beat to 9.9 s Q, its PAC at 5.7 s among them, and 205 lost
# a ventricular tachycardia 4 s before a 1.4-s gap (an audit of gaps).
GAP_UNUSABLE_S = 1.0
GAP_MARGIN_S = 0.2


def mark_hum(segments: list[Segment], hum_hz: float | None) -> list[Segment]:
    """A lead's good segments as noisy when mains hum was notched out of it (`ml.mains`): the
    hum is gone, but an electrode that picks it up may also move (cinc2017 A07661's motion
    artefact read as 3 PVCs once its hum was gone and its segments read good), and the
    doctor's strip shows it."""
    if hum_hz is None:
        return segments
    reason = f"{MAINS_REASON} ({hum_hz:.0f} Hz, filtered out)"
    return [
        Segment(s.start_s, s.end_s, "noisy", reason) if s.level == "good" else s for s in segments
    ]


def good_once_filtered(segment: Segment) -> bool:
    """Good, or noisy only for the mains hum `mark_hum` saw notched out: its beats are as
    clear as a good segment's (a clean 10-s strip at 41 bpm under 0.04 mV of hum read "too
    noisy" for its few beats, `ml.strip_rhythm.slow_strip_call`)."""
    return segment.level == "good" or segment.reason.startswith(MAINS_REASON)


def noisy_from_fast_noise(segment: Segment) -> bool:
    """Noisy for noise above 40 Hz only (in the analysis lead, even where another lead reads
    better): tall, sharp beats still stand out of it (`ml.strip_rhythm.slow_strip_call`)."""
    return segment.level == "noisy" and FAST_NOISE_REASON in segment.reason


def mark_gaps(
    segments: list[Segment],
    gap_spans_s: list[tuple[float, float]],
    cut_at_gaps_s: Sequence[tuple[float, float]] | None = None,
) -> list[Segment]:
    """Segments holding missing signal (`ml.gaps`), each saying how much is missing. A gap of
    GAP_UNUSABLE_S or more is cut out of its segment, unusable for its span and GAP_MARGIN_S
    either side, the rest keeping its level; shorter gaps leave their segment noisy, unusable
    from GAP_UNUSABLE_S missing. `cut_at_gaps_s`: the gaps of every lead judged together, this
    one's among them (this lead's alone by default), so that all of them are cut alike
    (`combine_leads` pairs their segments)."""
    if not gap_spans_s and not cut_at_gaps_s:
        return segments
    own = _long_gaps_widened(gap_spans_s)
    cuts = sorted({t for span in _long_gaps_widened(cut_at_gaps_s or gap_spans_s) for t in span})
    short = [(start, end) for start, end in gap_spans_s if end - start < GAP_UNUSABLE_S]
    marked = []
    for segment in segments:
        rest = _with_short_gaps(segment, short)
        inside = [t for t in cuts if segment.start_s < t < segment.end_s]
        bounds = [segment.start_s, *inside, segment.end_s]
        for start, end in pairwise(bounds):
            missing_s = next(
                (gap_s for (a, b), gap_s in own.items() if a <= (start + end) / 2 <= b), None
            )
            if missing_s is None or segment.level == "unusable":
                marked.append(Segment(start, end, rest.level, rest.reason))
            else:
                marked.append(
                    Segment(start, end, "unusable", f"{missing_s:.1f} s of signal missing")
                )
    return marked


def _long_gaps_widened(
    gap_spans_s: Sequence[tuple[float, float]],
) -> dict[tuple[float, float], float]:
    """The gaps of GAP_UNUSABLE_S or more, each widened by GAP_MARGIN_S either side (those
    that then overlap joined), with the seconds missing in each."""
    widened: list[list[float]] = []
    for start, end in sorted(gap_spans_s):
        if end - start < GAP_UNUSABLE_S:
            continue
        if widened and start - GAP_MARGIN_S <= widened[-1][1]:
            widened[-1][1:] = [end + GAP_MARGIN_S, widened[-1][2] + end - start]
        else:
            widened.append([start - GAP_MARGIN_S, end + GAP_MARGIN_S, end - start])
    return {(a, b): missing_s for a, b, missing_s in widened}


def _with_short_gaps(segment: Segment, short_gaps_s: list[tuple[float, float]]) -> Segment:
    """The segment noisy for the gaps shorter than GAP_UNUSABLE_S in it, unusable from
    GAP_UNUSABLE_S of them; unchanged without them, or when unusable already."""
    missing_s = sum(
        max(0.0, min(end, segment.end_s) - max(start, segment.start_s))
        for start, end in short_gaps_s
    )
    if missing_s <= 0 or segment.level == "unusable":
        return segment
    level = "unusable" if missing_s >= GAP_UNUSABLE_S else "noisy"
    return Segment(segment.start_s, segment.end_s, level, f"{missing_s:.1f} s of signal missing")
