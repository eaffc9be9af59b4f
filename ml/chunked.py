"""The analysis of a long recording in overlapping chunks streamed from its file.

`analyze_chunked(source)` gives the `EcgAnalysis` that `ml.analysis.analyze` gives for the
whole recording in memory, holding only a few chunks of signal at a time (30 min, with 60 s
read either side so that the filters' transients have died out before the chunk's own
stretch, its *core*, begins; the R-peak detector reads 5 min before it, so that its adaptive
thresholds are where the whole recording's detector has them, and more when its beats just
before the core disagree with the previous chunk's). Every step that reads the signal works
on one chunk and keeps what falls in its core, WORKERS chunks at a time in forked processes;
every step that needs the whole recording works on compact per-beat or per-segment figures
from all chunks:

1. scan: each lead's extremes, spread and missing samples (the checks of
   `ml.recording.validated`, the usable leads, the quality's reference levels, checksums);
2. R peaks of the analysis lead and its companion, with the per-beat evidence the two-lead
   check reads (`ml.rpeaks.TwoLeadEvidence`), the segments' spreads and the VF windows;
   then the two-lead check over all beats at once;
3. signal quality per 10-s segment against the whole lead's levels;
4. the beats' waveforms (`ml.features.BeatWaveforms`); then the patient normalisation
   (median QRS amplitude, sinus cycle, dominant beat) over all beats and the classifier,
   a batch of beats at a time (on two LiteRT interpreters at once, `RuntimeNetwork.map`);
5. with the classes: P-wave consistency, the AF windows, and the beats of the median beat
   (`ml.intervals.measured_peaks`, at most 400); then rhythm, heart rate, HRV, findings.

Chunk boundaries fall on multiples of the VF window step and of the model-rate resampling
period, so a chunk's samples map to the same model-rate samples as the whole recording's.
A recording with missing samples (gaps) is analysed whole (`ml.gaps` bridges and reports
gaps over the whole recording). Without a usable lead II/MLII, the analysis lead is the one
with the tallest QRS complexes judged chunk by chunk (`_Analysis._lead_choice`), the one
figure that may differ from the whole-record analysis.
"""

from __future__ import annotations

import ctypes
import math
import mmap
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

import numpy as np

from ml import analysis as whole
from ml.analysis import (
    BeatRead,
    EcgAnalysis,
    Progress,
    RhythmEvidence,
    default_classifier,
    summarise,
    unclassified_where_unreadable,
)
from ml.artefact_runs import artefact_runs
from ml.atrial import p_waves_where_seen
from ml.av_dissociation import Dissociation, av_dissociation
from ml.baseline_swings import baseline_swings_mv, qrs_sizes_mv
from ml.classifier import CLASSES, BeatClassifier
from ml.features import (
    MODEL_FS_HZ,
    WINDOW_SAMPLES,
    BeatWaveforms,
    PatientBeats,
    beat_waveforms,
    rhythm_features,
)
from ml.filters import bandpass_mv
from ml.intervals import (
    beat_offsets,
    intervals_of_beats,
    measured_peaks,
    next_beat_s,
    normal_rr_s,
)
from ml.io.sources import RecordingSource
from ml.lead_ii_p_wave import p_wave_polarity_in_lead_ii
from ml.lead_off import FlatRunWatch
from ml.mains import dehummed_source
from ml.missed_complexes import QRS_BAND_HZ, missed_complexes_s
from ml.mobitz_ii import second_degree_blocks
from ml.noise_bursts import judged_classes, noise_mv
from ml.paced import paced_read
from ml.pause_p_waves import pause_p_waves
from ml.quality import (
    LeadLevels,
    Segment,
    combine_leads,
    judge_segments,
    mark_hum,
    segment_bounds,
    segment_spreads,
    unusable_mask,
)
from ml.recording import (
    canonical_lead_name,
    check_layout,
    check_some_lead_usable,
    signal_problem,
)
from ml.rpeaks import TwoLeadEvidence, combine_two_leads, detect_with_bands, two_lead_evidence
from ml.standstill import Silence, qrs_sizes_in_leads_mv, silences_note, silences_of_sizes
from ml.strip_rhythm import Bands, af_window_spans_s, clear_of_fast_noise_s, window_starts
from ml.two_to_one import BlockedPWaves, blocked_p_waves
from ml.unmatched_ventricular import unmatched, ventricular_waves
from ml.ventricular_fibrillation import fibrillation_windows, spans_of_windows, window_step
from ml.wenckebach import BlockCycles

CHUNK_S = 1800.0  # the core of each chunk
OVERLAP_S = 60.0  # read before and after the core: the filters' transients settle in it
LEAD_IN_S = 300.0  # the R-peak detector reads this much before the core: its thresholds settle
CHECK_S = 30.0  # ... checked on the beats of this stretch before the core ...
MAX_LEAD_IN_S = 3600.0  # ... and lengthened (x4) up to this when they disagree
CLASSIFY_BATCH = 8192  # beats per call of the classifier
WORKERS = 2  # chunks analysed at once
T = TypeVar("T")
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
_forked_step: Callable[[int], Any] | None = None  # what a forked chunk process runs
_forking_pid = 0  # the process that forks the chunk processes (`_die_with_parent`)
PR_SET_PDEATHSIG = 1  # Linux's prctl option (linux/prctl.h)
_fork_lock = threading.Lock()  # one pool of chunk processes at a time per process


@dataclass(frozen=True)
class _Detections:
    """What the detection pass keeps of one chunk: the beats of its core, those of the
    CHECK_S before it (`before`), each core segment's spread per lead, the VF windows."""

    core: TwoLeadEvidence
    before: TwoLeadEvidence
    before_span: tuple[int, int]
    spreads: list[np.ndarray]
    vf_starts: np.ndarray
    vf_flagged: np.ndarray

    def agrees_with(self, previous: _Detections) -> bool:
        """Whether this chunk found the beats `previous` found in the CHECK_S before this
        chunk's core (in both leads)."""
        theirs = previous.core.within(*self.before_span)
        return np.array_equal(theirs.peaks, self.before.peaks) and np.array_equal(
            theirs.other, self.before.other
        )


class NeedsWholeRecording(Exception):
    """The recording has gaps (missing samples): `ml.gaps` must see all of it at once."""


@dataclass(frozen=True)
class Chunk:
    start: int  # first sample read
    stop: int  # after the last sample read
    core_start: int  # the samples this chunk answers for
    core_stop: int

    def core(self, samples: np.ndarray) -> np.ndarray:
        """Which of `samples` (of the whole recording) fall in the core."""
        return (samples >= self.core_start) & (samples < self.core_stop)

    def local(self, samples: np.ndarray) -> np.ndarray:
        """`samples` (sorted, of the whole recording) that were read, as indices of the chunk."""
        lo, hi = np.searchsorted(samples, [self.start, self.stop])
        return samples[lo:hi] - self.start


def plan_chunks(
    n_samples: int, fs_hz: float, chunk_s: float = CHUNK_S, overlap_s: float = OVERLAP_S
) -> list[Chunk]:
    """Chunks whose cores tile the recording; every boundary on the alignment unit."""
    unit = _alignment(fs_hz)
    core = max(unit, math.ceil(chunk_s * fs_hz / unit) * unit)
    overlap = math.ceil(overlap_s * fs_hz / unit) * unit
    chunks = []
    for core_start in range(0, n_samples, core):
        core_stop = min(n_samples, core_start + core)
        if n_samples - core_stop < unit:  # no sliver of a last chunk
            core_stop = n_samples
        chunks.append(
            Chunk(
                max(0, core_start - overlap),
                min(n_samples, core_stop + overlap),
                core_start,
                core_stop,
            )
        )
        if core_stop == n_samples:
            break
    return chunks


def _alignment(fs_hz: float) -> int:
    """Samples between possible chunk boundaries: the VF window step and the period after
    which resampling to the model's rate repeats its phase."""
    ratio = Fraction(MODEL_FS_HZ / fs_hz).limit_denominator(1000)
    period = 1 if abs(fs_hz - MODEL_FS_HZ) <= 1e-9 else ratio.denominator
    return math.lcm(window_step(fs_hz), period)


@dataclass
class _LeadStats:
    """Running figures of one lead over the scan (`ml.recording._lead_problem`)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    at_low: int = 0
    at_high: int = 0
    missing: int = 0

    def add(self, x: np.ndarray) -> None:
        finite = np.isfinite(x)
        self.missing += int(x.size - finite.sum())
        if not finite.all():
            return
        n, mean = x.size, float(x.mean())
        m2 = float(((x - mean) ** 2).sum())
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total
        low, high = float(x.min()), float(x.max())
        if low < self.low:
            self.low, self.at_low = low, 0
        if low == self.low:
            self.at_low += int((x == low).sum())
        if high > self.high:
            self.high, self.at_high = high, 0
        if high == self.high:
            self.at_high += int((x == high).sum())

    def problem(self) -> str | None:
        def pinned() -> float:
            at = self.at_low + (self.at_high if self.high != self.low else 0)
            return at / max(self.n, 1)

        return signal_problem(math.sqrt(self.m2 / max(self.n, 1)), pinned)


def analyze_chunked(
    source: RecordingSource,
    classifier: BeatClassifier | None = None,
    progress: Progress | None = None,
    *,
    chunk_s: float = CHUNK_S,
    overlap_s: float = OVERLAP_S,
    pacemaker: bool = False,
) -> EcgAnalysis:
    """The machine read of a long recording, read chunk by chunk from `source` (see the
    module docstring). A recording with gaps is read whole and analysed as usual.
    `pacemaker`: a paced read, as `ml.analysis.analyze` makes it (`ml.paced`)."""
    report = progress or (lambda fraction, message: None)
    check_layout(source.fs_hz, len(source.lead_names), source.duration_s)
    report(0.03, "Checking the recording")
    try:
        stats = _scan(source, chunk_s)
    except NeedsWholeRecording:
        return whole.analyze(source.whole(), classifier, progress, pacemaker=pacemaker)
    classifier = classifier or default_classifier()
    source = dehummed_source(source)  # mains hum notched out, as `analyze` does a whole read
    chunks = plan_chunks(source.n_samples, source.fs_hz, chunk_s, overlap_s)
    analysis = _Analysis(source, classifier, report, stats, chunks).run()
    return paced_read(analysis) if pacemaker else analysis


def check_source(source: RecordingSource) -> None:
    """The checks of `ml.recording.validated` (and the file's checksums) on a source, read
    once chunk by chunk; RecordingError when it cannot be analysed. One with gaps is read
    whole for them (`validated` judges each lead without its missing samples)."""
    check_layout(source.fs_hz, len(source.lead_names), source.duration_s)
    try:
        _scan(source, CHUNK_S)
    except NeedsWholeRecording:
        source.whole()


def _scan(source: RecordingSource, chunk_s: float) -> list[_LeadStats]:
    """Each lead's figures, after the checks of `ml.recording.validated` (some lead usable);
    NeedsWholeRecording at the first missing sample, or at a lead-off stretch (`ml.lead_off`:
    read as missing samples, by the whole read)."""
    stats = [_LeadStats() for _ in source.lead_names]
    lead_off = FlatRunWatch(source.fs_hz)
    for _, samples in _read_ahead(source.scan(max(1, int(chunk_s * source.fs_hz)))):
        for lead, lead_stats in zip(samples.T, stats, strict=True):
            lead_stats.add(lead)
            if lead_stats.missing:
                raise NeedsWholeRecording
        if lead_off.add(samples):
            raise NeedsWholeRecording
    check_some_lead_usable(source.lead_names, [s.problem() for s in stats])
    return stats


def _read_ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, each next one made by a thread while the caller works on the current one
    (the scan decodes chunk k + 1 while the lead figures of chunk k are summed: NumPy
    releases the interpreter lock for both)."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(next, items, None)
        while (item := pending.result()) is not None:
            pending = reader.submit(next, items, None)
            yield item


class _Analysis:
    """The passes of one chunked analysis (module docstring), with what they gather."""

    def __init__(
        self,
        source: RecordingSource,
        classifier: BeatClassifier,
        report: Progress,
        stats: list[_LeadStats],
        chunks: list[Chunk],
    ) -> None:
        self.source, self.classifier, self.report = source, classifier, report
        self.fs = source.fs_hz
        self.n = source.n_samples
        self.stats = stats
        self.usable = [i for i, s in enumerate(stats) if s.problem() is None]
        self.chunks = chunks
        self.bounds = segment_bounds(self.n, self.fs)
        self.segment_starts = np.array([a for a, _ in self.bounds], dtype=np.int64)

    def _read(self) -> Iterator[tuple[Chunk, np.ndarray]]:
        for chunk in self.chunks:
            yield chunk, self.source.read(chunk.start, chunk.stop)

    def _each(
        self, step: Callable[..., T], span: tuple[float, float], message: str, read: bool = True
    ) -> list[T]:
        """`step(chunk, its samples)` (`step(chunk)` without `read`) for every chunk, in
        order, WORKERS chunks at a time in forked processes (`_chunk_pool`); progress is
        reported here, in the caller's thread."""

        def run(index: int) -> T:
            chunk = self.chunks[index]
            if not read:
                return step(chunk)
            return step(chunk, self.source.read(chunk.start, chunk.stop))

        results = []
        with _chunk_pool(run, len(self.chunks)) as (pool, call):
            for done, result in enumerate(pool.map(call, range(len(self.chunks))), start=1):
                results.append(result)
                self.report(span[0] + (span[1] - span[0]) * done / len(self.chunks), message)
        return results

    def _core_segments(self, chunk: Chunk) -> list[int]:
        return np.flatnonzero(chunk.core(self.segment_starts)).tolist()

    def run(self) -> EcgAnalysis:
        fs, names = self.fs, self.source.lead_names
        self.report(0.05, "Choosing the analysis lead")
        lead, lead_reason, set_aside_note = self._lead_choice()
        second = whole.companion_of(names, lead, self.usable)
        quality_leads = [lead] + ([] if second is None else [second])

        self.report(0.1, "Detecting heartbeats")
        peaks, other, spreads, fibrillation = self._detect(lead, second)
        self.report(0.3, "Judging signal quality")
        quality, peaks, swapped = self._quality(quality_leads, peaks, other, spreads)
        silent, not_beats = self._silences(quality_leads, peaks, quality, fibrillation)
        peaks, swapped = peaks[~not_beats], swapped[~not_beats]  # noise in a silence
        set_aside_note += [silences_note(silent, int(not_beats.sum()))] if not_beats.any() else []

        self.report(0.35, "Classifying beats")
        read = quality_leads[: self.classifier.leads_read]
        wave_leads = sorted(
            set(read) | ({second} if swapped.any() and second is not None else set())
        )
        waves = self._waveforms(wave_leads, peaks)
        rr = rhythm_features(waves[wave_leads[0]].model_peaks)  # the same in every lead
        with ThreadPoolExecutor(max_workers=WORKERS) as threads:  # NumPy releases the GIL
            normalised = threads.map(lambda i: PatientBeats.of(waves.pop(i), rr), wave_leads)
            patient = dict(zip(wave_leads, normalised, strict=True))
        probabilities, classes = self._classify([patient[i] for i in read])
        if swapped.any() and second is not None:
            index = np.flatnonzero(swapped)
            alone, alone_classes = self._classify([patient[second]], index)
            probabilities[index], classes[index] = alone, alone_classes
        del patient
        unreadable = unusable_mask(quality, peaks / fs)
        classes = unclassified_where_unreadable(
            classes, peaks / fs, self.source.duration_s, unreadable, fibrillation, []
        )

        self.report(0.6, "Finding rhythm episodes")
        normal = (classes == "N") & ~unreadable
        evidence, dissociation, pause_p, held_block, missed = self._rhythm_and_median_beat(
            lead, peaks, classes, peaks[normal], quality, [q for q in silent if q.open]
        )
        p_consistency, af_windows, beats, set_aside, surroundings, qrs_mv, v_waves = evidence[:7]
        block, constant_pr_block, clear_of_noise = evidence[7:]
        self.report(0.87, "Measuring intervals")
        interval_leads = tuple(canonical_lead_name(names[i]) for i in self.usable)
        intervals = intervals_of_beats(
            beats, fs, peaks[normal], interval_leads, normal_rr_s(peaks, normal, fs),
            next_s=next_beat_s(peaks, normal, fs),
        )  # fmt: skip
        lead_ii_p = p_wave_polarity_in_lead_ii(beats, fs, interval_leads, intervals)
        self.report(0.9, "Summarising findings")
        analysis = summarise(
            BeatRead(
                peaks,
                classes,
                probabilities,
                unreadable,
                quality,
                tuple(names[i] for i in read),
                *whole.shape_doubts(classes, surroundings),
                qrs_mv,
                unmatched(whole.ventricular_matches(classes, peaks / fs, quality, v_waves, qrs_mv)),
            ),
            RhythmEvidence(
                p_consistency,
                fibrillation,
                af_windows,
                None,
                set_aside,
                block,
                dissociation,
                silent,
                pause_p,
                held_block,
                constant_pr_block,
                clear_of_noise,
                lead_ii_p,
                missed_complexes=missed,
            ),
            intervals,
            recording_facts=(fs, self.source.duration_s, names),
            lead=(lead, lead_reason),
            model_version=str(self.classifier.card_.get("version", "unknown")),
            notes=list(self.source.notes) + set_aside_note,
            leads_not_read=tuple(n for i, n in enumerate(names) if i not in self.usable),
        )
        self.report(1.0, "Done")
        return analysis

    def _lead_choice(self) -> tuple[int, str, list[str]]:
        """`ml.analysis.choose_leads` (which narrows `self.usable` to the leads read) from the
        QRS height, peakiness and beat coherence of each lead, the median of each chunk's."""
        levels = [
            self._band_levels(bandpass_mv(x[:, self.usable], self.fs, (5.0, 15.0)))
            for _, x in self._read()
        ]
        heights = np.median([h for h, _, _ in levels], axis=0)
        peakiness = np.median([p for _, p, _ in levels], axis=0)
        coherence = np.median([c for _, _, c in levels], axis=0)
        self.usable, choice, note = whole.choose_leads(
            self.source.lead_names, self.usable, heights, peakiness, coherence
        )
        problems = [s.problem() for s in self.stats]
        # Leads mostly gaps are named by the gap note already.
        gaps = [i for i, problem in enumerate(problems) if "missing" in (problem or "")]
        return (*choice, whole.unusable_leads_note(self.source.lead_names, problems, gaps) + note)

    def _band_levels(self, qrs_band_mv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A chunk's `ml.analysis.qrs_band_levels` and `ml.analysis.beat_coherence`."""
        heights, peakiness = whole.qrs_band_levels(qrs_band_mv)
        return heights, peakiness, whole.beat_coherence(qrs_band_mv, self.fs, peakiness)

    def _detect(
        self, lead: int, second: int | None
    ) -> tuple[np.ndarray, np.ndarray | None, dict[int, np.ndarray], list[tuple[float, float]]]:
        """Pass 2: R peaks (two-lead check over all of them), each segment's spread per
        lead, and the VF spans of the analysis lead."""
        fs = self.fs
        leads = [lead] + ([] if second is None else [second])
        unit = _alignment(fs)

        def step(chunk: Chunk, lead_in_s: float) -> _Detections:
            # The detector's adaptive thresholds need a lead-in to reach the state the whole
            # recording's detector is in when the core begins (longer than the filters').
            lead_in = math.ceil(lead_in_s * fs / unit) * unit
            first = max(0, min(chunk.start, chunk.core_start - lead_in))
            x = self.source.read(first, chunk.stop)
            peaks, bp, _ = detect_with_bands(x[:, lead], fs)
            if second is None:
                other, envelope = np.zeros(0, np.int64), np.zeros(bp.size)
            else:
                other, _, envelope = detect_with_bands(x[:, second], fs)
            if peaks.size == 0 or envelope.size != bp.size:
                part = TwoLeadEvidence(peaks, peaks * 0.0, peaks * 0.0, other, other * 0.0)
            else:
                part = two_lead_evidence(peaks, bp, other, envelope, fs)
            mine = [self.bounds[k] for k in self._core_segments(chunk)]
            starts, flags = fibrillation_windows(x[:, lead], fs)
            starts = starts + first
            kept = chunk.core(starts)
            check = round(CHECK_S * fs)
            return _Detections(
                part.within(chunk.core_start - first, chunk.core_stop - first, first),
                part.within(chunk.core_start - check - first, chunk.core_start - first, first),
                (chunk.core_start - check, chunk.core_start),
                [segment_spreads(x[:, i], fs, mine, first) for i in leads],
                starts[kept],
                flags[kept],
            )

        results = self._each(
            lambda chunk: step(chunk, LEAD_IN_S), (0.1, 0.3), "Detecting heartbeats", read=False
        )
        for k in range(1, len(results)):
            # The lead-in sufficed when the chunk's beats just before its core are the
            # previous chunk's there; otherwise (the detector still settling, as it may in
            # ventricular fibrillation) this chunk is detected again with a longer one.
            lead_in_s = LEAD_IN_S
            while not results[k].agrees_with(results[k - 1]) and lead_in_s < MAX_LEAD_IN_S:
                lead_in_s = min(4 * lead_in_s, MAX_LEAD_IN_S)
                results[k] = step(self.chunks[k], lead_in_s)
        gathered = TwoLeadEvidence.concatenate([r.core for r in results])
        if second is None:
            peaks, other = gathered.peaks, None
        else:
            usable_pair = gathered.peaks.size >= 5
            peaks = combine_two_leads(gathered, fs) if usable_pair else gathered.peaks
            other = gathered.other
        fibrillation = spans_of_windows(
            np.concatenate([r.vf_starts for r in results]) / fs,
            np.concatenate([r.vf_flagged for r in results]),
        )
        spreads = {i: np.concatenate([r.spreads[k] for r in results]) for k, i in enumerate(leads)}
        return peaks, other, spreads, fibrillation

    def _quality(
        self,
        leads: list[int],
        peaks: np.ndarray,
        other: np.ndarray | None,
        spreads: dict[int, np.ndarray],
    ) -> tuple[list[Segment], np.ndarray, np.ndarray]:
        """Pass 3: each lead's segments judged against its whole-lead levels, combined as
        `ml.analysis._judge_leads` does (the companion judged throughout: where the
        analysis lead is good, the combination keeps it whatever the companion's)."""
        fs, names = self.fs, self.source.lead_names
        beats_of = {leads[0]: peaks}
        if len(leads) > 1 and other is not None:
            beats_of[leads[1]] = other
        levels = {i: self._levels(i, spreads[i]) for i in leads}

        def step(chunk: Chunk, x: np.ndarray) -> list[list[Segment]]:
            mine = self._core_segments(chunk)
            return [
                judge_segments(
                    x[:, i],
                    fs,
                    chunk.local(beats_of[i]),
                    [self.bounds[k] for k in mine],
                    spreads[i][mine],
                    levels[i],
                    chunk.start,
                )
                for i in leads
            ]

        results = self._each(step, (0.3, 0.33), "Judging signal quality")
        hums = getattr(self.source, "hum_hz_by_lead", {})  # `ml.mains.DehummedSource`
        judged = {
            i: mark_hum([s for r in results for s in r[k]], hums.get(i))
            for k, i in enumerate(leads)
        }
        by_lead = {names[i]: judged[i] for i in leads}
        swapped = np.zeros(len(peaks), dtype=bool)
        if len(leads) > 1 and other is not None:
            if any(s.level != "good" for s in judged[leads[0]]):
                peaks, swapped = whole._follow_readable_lead(
                    peaks, other, fs, judged[leads[0]], judged[leads[1]]
                )
            else:
                by_lead = {names[leads[0]]: judged[leads[0]]}
        return combine_leads(by_lead), peaks, swapped

    def _silences(
        self,
        leads: list[int],
        peaks: np.ndarray,
        quality: list[Segment],
        fibrillation: list[tuple[float, float]],
    ) -> tuple[list[Silence], np.ndarray]:
        """Pass 3b: every detection's QRS size in the leads read, for the stretches with no
        QRS complex (`ml.standstill`) and the detections inside them, which are no beats."""
        fs = self.fs

        def step(chunk: Chunk, x: np.ndarray) -> np.ndarray:
            lo, hi = np.searchsorted(peaks, [chunk.start, chunk.stop])
            mine = chunk.core(peaks[lo:hi])
            local = peaks[lo:hi] - chunk.start
            return qrs_sizes_in_leads_mv([x[:, i] for i in leads], fs, local)[mine]

        sizes = np.concatenate(self._each(step, (0.33, 0.35), "Judging signal quality"))
        return silences_of_sizes(
            sizes,
            peaks,
            ~unusable_mask(quality, peaks / fs),
            (fs, self.n),
            lambda lo, hi: self.source.read(lo, hi)[:, leads],
            fibrillation,
        )

    def _levels(self, lead: int, spreads: np.ndarray) -> LeadLevels:
        stats = self.stats[lead]
        return LeadLevels(stats.low, stats.high, max(float(np.median(spreads)), 1e-6))

    def _waveforms(self, leads: list[int], peaks: np.ndarray) -> dict[int, BeatWaveforms]:
        """Pass 4: every beat's waveform in each lead the classifier reads. The windows (about
        100 MB per lead for 24 h) are written by the chunk processes straight into arrays
        shared with them (`_shared_rows`), not sent back and joined."""
        windows = {i: _shared_rows(peaks.size, WINDOW_SAMPLES // 2) for i in leads}

        def step(chunk: Chunk, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            local = chunk.local(peaks)
            mine = chunk.core(local + chunk.start)
            rows = slice(*np.searchsorted(peaks, [chunk.core_start, chunk.core_stop]))
            shift = round(chunk.start * MODEL_FS_HZ / self.fs)
            per_lead = []
            for i in leads:
                waves = beat_waveforms(x[:, i], self.fs, local).subset(mine)
                windows[i][rows] = waves.windows
                per_lead.append(
                    (waves.peak_mv, waves.p_wave_consistency, waves.model_peaks + shift)
                )
            return per_lead

        parts = self._each(step, (0.35, 0.45), "Classifying beats")
        joined = {}
        for k, i in enumerate(leads):
            peak_mv, consistency, model_peaks = (
                np.concatenate(column) for column in zip(*(part[k] for part in parts), strict=True)
            )
            joined[i] = BeatWaveforms(windows[i], peak_mv, consistency, model_peaks)
        return joined

    def _classify(
        self, patient: list[PatientBeats], index: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and decided classes from the leads' beats (the analysis lead first),
        a batch of beats at a time; for the beats at `index` only when given."""
        rows = np.arange(len(patient[0])) if index is None else index
        probabilities = np.zeros((rows.size, len(CLASSES)), np.float32)
        classes = np.empty(rows.size, dtype="<U1")
        for at in range(0, rows.size, CLASSIFY_BATCH):
            batch = rows[at : at + CLASSIFY_BATCH]
            per_lead = [p.inputs(batch) for p in patient]
            proba = self.classifier.predict_proba_leads(per_lead)
            probabilities[at : at + batch.size] = proba
            classes[at : at + batch.size] = self.classifier.decide(proba, per_lead[0])
        return probabilities, classes

    def _rhythm_and_median_beat(
        self,
        lead: int,
        peaks: np.ndarray,
        classes: np.ndarray,
        normal_peaks: np.ndarray,
        quality: list[Segment],
        open_silences: list[Silence],
    ) -> tuple[
        tuple[
            np.ndarray,
            list[tuple[float, float]],
            np.ndarray,
            list[tuple[float, float]],
            tuple[np.ndarray, np.ndarray, np.ndarray],
            np.ndarray,
            np.ndarray,
            BlockCycles,
            BlockCycles,
            list[tuple[float, float]],
        ],
        list[Dissociation],
        dict[tuple[float, float], int | None],
        list[BlockedPWaves],
        np.ndarray,
    ]:
        """Pass 5: P-wave consistency per beat, the AF windows, a Mobitz I and a Mobitz II
        block's cycles (`ml.wenckebach`, `ml.mobitz_ii`, each read by the chunk whose core holds
        its first beat), the stretches of AV dissociation (`ml.av_dissociation`, each window
        read by the chunk whose core holds its start), the P waves halfway between beats
        (`ml.two_to_one`, likewise), the beats of the median beat (in every usable lead,
        band-passed), the ventricular runs on artefact (`ml.artefact_runs`, each read by the
        chunk whose core holds its first beat), and each beat's baseline swing, QRS size
        (`ml.baseline_swings`) and noise around it (`ml.noise_bursts`) for V (and S) calls,
        every beat's QRS size, the waveform of every V call
        (`ml.unmatched_ventricular.ventricular_waves`), and the segments noisy only from fast
        noise whose beats stand clear of it (`ml.strip_rhythm.clear_of_fast_noise_s`, each read
        by the chunk whose core holds its start), and the complexes the detector missed in
        intervals of two cycles (`ml.missed_complexes`, each read by the chunk whose core
        holds it)."""
        fs = self.fs
        measured = measured_peaks(normal_peaks, self.n, fs)
        offsets = beat_offsets(fs)
        af_starts = np.asarray(window_starts(self.n, fs), dtype=np.int64)
        window = (offsets.size, len(self.usable))
        ventricular = classes == "V"
        judged = np.isin(classes, judged_classes())  # only these are judged on a swing or in noise

        def step(chunk: Chunk, x: np.ndarray) -> tuple[Any, ...]:
            lo, hi = np.searchsorted(peaks, [chunk.start, chunk.stop])
            local = peaks[lo:hi] - chunk.start
            mine = chunk.core(peaks[lo:hi])
            bands = Bands.of(x[:, lead], fs)  # filtered once for the P waves and AF windows
            set_aside = [
                (float(peaks[lo + first] / fs), float(peaks[lo + stop - 1] / fs))
                for first, stop in artefact_runs(
                    bands.beats_mv, fs, peaks[lo:hi], classes[lo:hi], quality, chunk.start
                )
                if mine[first]
            ]
            consistency = p_waves_where_seen(bands.p_waves_mv, fs, local / fs, classes[lo:hi])[mine]
            starts = af_starts[chunk.core(af_starts)] - chunk.start
            af_windows = af_window_spans_s(
                x[:, lead],
                fs,
                local,
                classes[lo:hi],
                starts=starts.tolist(),
                offset=chunk.start,
                bands=bands,
            )
            here = measured[chunk.core(measured)] - chunk.start
            beats = np.zeros((0, *window))
            if here.size:  # the analysis lead is already filtered (the same band)
                at = here[:, None] + offsets[None, :]
                beats = np.stack(
                    [
                        (bands.beats_mv if i == lead else bandpass_mv(x[:, i], fs))[at]
                        for i in self.usable
                    ],
                    axis=-1,
                )
            sizes = qrs_sizes_mv(x[:, lead], fs, local)[mine]
            surroundings = (np.zeros(0), np.zeros(0), np.zeros(0))
            v_waves = ventricular_waves(bands.beats_mv, fs, local[mine & ventricular[lo:hi]])
            if judged.any():
                swing = baseline_swings_mv(x[:, lead], fs, local, chunk.start)
                noise = noise_mv(x[:, lead], fs, local, judged[lo:hi])
                surroundings = (swing[mine], sizes, noise[mine])
            blocks = second_degree_blocks(bands.p_waves_mv, fs, local / fs, classes[lo:hi])
            block, constant_pr_block = (_in_core(b, chunk, fs) for b in blocks)
            in_core = lambda t_s: bool(chunk.core(np.array([round(t_s * fs)]))[0])  # noqa: E731
            # Windows of 30 s from the recording's start, each read by the chunk whose core
            # holds its start.
            windows = (bands.p_waves_mv, fs, local / fs, classes[lo:hi])
            whereabouts = (chunk.start / fs, self.source.duration_s)
            dissociated = [d for d in av_dissociation(*windows, *whereabouts) if in_core(d.start_s)]
            held = [w for w in blocked_p_waves(*windows, *whereabouts) if in_core(w.start_s)]
            read = (
                consistency,
                af_windows,
                beats,
                set_aside,
                surroundings,
                sizes,
                v_waves,
                block,
                constant_pr_block,
                clear_of_fast_noise_s(
                    x[:, lead],
                    fs,
                    local,
                    [q for q in quality if in_core(q.start_s)],
                    chunk.start,
                ),
            )
            mine_open = [(q.start_s, q.end_s) for q in open_silences if in_core(q.start_s)]
            found = pause_p_waves(
                bands.p_waves_mv, fs, peaks[lo:hi] / fs, classes[lo:hi], mine_open, chunk.start / fs
            )
            pause_p = {span: n for span, n in found.items() if in_core(span[0])}
            qrs_band = bandpass_mv(x[:, self.usable], fs, QRS_BAND_HZ)
            missed = missed_complexes_s(
                qrs_band, fs, peaks[lo:hi] / fs, classes[lo:hi], chunk.start / fs
            )
            return read, dissociated, pause_p, held, [t for t in missed if in_core(t)]

        both = self._each(step, (0.6, 0.85), "Finding rhythm episodes")
        results = [r for r, *_ in both]
        return (
            (
                np.concatenate([r[0] for r in results]),
                [span for r in results for span in r[1]],
                np.concatenate([r[2] for r in results]),
                [span for r in results for span in r[3]],
                (
                    np.concatenate([r[4][0] for r in results]),
                    np.concatenate([r[4][1] for r in results]),
                    np.concatenate([r[4][2] for r in results]),
                ),
                np.concatenate([r[5] for r in results]),
                np.concatenate([r[6] for r in results]),
                _joined([r[7] for r in results]),
                _joined([r[8] for r in results]),
                [span for r in results for span in r[9]],
            ),
            [d for _, found, *_ in both for d in found],
            {span: n for _, _, pauses, *_ in both for span, n in pauses.items()},
            [w for _, _, _, held, _ in both for w in held],
            np.array([t for *_, missed in both for t in missed]),
        )


def _joined(blocks: list[BlockCycles]) -> BlockCycles:
    """The chunks' reads of one block (`_in_core`), in order, as one."""
    return BlockCycles(
        [cycle for b in blocks for cycle in b.cycles_s],
        np.concatenate([b.conducted_s for b in blocks]),
    )


def _in_core(block: BlockCycles, chunk: Chunk, fs_hz: float) -> BlockCycles:
    """A chunk's Mobitz I or II read (times from the chunk's start) kept to the chunk's core, the
    cycles by their first beat, in times from the recording's start."""
    shift_s = chunk.start / fs_hz

    def core(times_s: np.ndarray) -> np.ndarray:
        return chunk.core(np.round(np.asarray(times_s) * fs_hz).astype(np.int64) + chunk.start)

    starts_s = np.array([start_s for start_s, _ in block.cycles_s])
    kept = core(starts_s) if starts_s.size else np.zeros(0, dtype=bool)
    return BlockCycles(
        [(a + shift_s, b + shift_s) for (a, b), k in zip(block.cycles_s, kept, strict=True) if k],
        block.conducted_s[core(block.conducted_s)] + shift_s,
    )


@contextmanager
def _chunk_pool(
    run: Callable[[int], Any], n_chunks: int
) -> Iterator[tuple[Executor, Callable[[int], Any]]]:
    """An executor and the function to map over chunk indices. Forked processes where the
    platform forks and this process may have children (a daemonic pool worker may not):
    each child inherits `run` and the analysis it closes over at the fork, so nothing but
    the chunk's index and its compact result cross between processes, and the Python
    loops of the passes run on both cores (threads share one interpreter lock). Threads
    otherwise, and for a single chunk. Two analyses in threads of one process take turns
    (`_fork_lock`), so a child never inherits another analysis's step."""
    global _forked_step, _forking_pid
    forks = "fork" in multiprocessing.get_all_start_methods()
    if n_chunks < 2 or not forks or multiprocessing.current_process().daemon:
        with ThreadPoolExecutor(max_workers=WORKERS) as threads:
            yield threads, run
        return
    with _fork_lock:
        _forked_step = run
        _forking_pid = os.getpid()
        try:
            context = multiprocessing.get_context("fork")
            workers = min(WORKERS, n_chunks)
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=_start_chunk_process
            ) as pool:
                yield pool, _run_forked_step
        finally:
            _forked_step = None


def _shared_rows(n_rows: int, width: int) -> np.ndarray:
    """A zeroed float64 [n_rows, width] array in memory shared with the chunk processes forked
    after it is made (an anonymous shared mapping): what they write in it, the parent sees."""
    buffer = mmap.mmap(-1, max(n_rows * width * 8, 1))
    return np.frombuffer(buffer, dtype=np.float64, count=n_rows * width).reshape(n_rows, width)


def _start_chunk_process() -> None:
    _die_with_parent()
    _reuse_freed_memory()


def _die_with_parent() -> None:
    """Have the kernel kill this chunk process when the process that forked it dies (Linux's
    PR_SET_PDEATHSIG). A Celery worker killed with SIGKILL mid-analysis had left its two
    chunk processes asleep for ever, about 290 MB each (an operations audit)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: nothing to ask
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != _forking_pid:  # the parent died before the request: go now
        os._exit(1)


def _reuse_freed_memory() -> None:
    """Have this chunk process's allocator keep the memory it frees for its next arrays
    (glibc: arrays up to 32 MB from its heap, never handed back) instead of returning it to
    the system and faulting it in again, which on a virtual machine costs more than the
    filter that needed it (a 24-h recording: 2.1 million page faults in the chunk processes
    against 0.14 million). The process lives for one pass, so nothing is held for long."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: its defaults stay
        return
    mallopt(M_MMAP_THRESHOLD, 32 * 2**20)
    mallopt(M_TRIM_THRESHOLD, 2**31 - 1)


def _run_forked_step(index: int) -> Any:
    assert _forked_step is not None, "runs only in a process forked by _chunk_pool"
    return _forked_step(index)
