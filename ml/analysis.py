"""`analyze(recording) -> EcgAnalysis`: the whole machine read of one recording.

Steps: choose the analysis lead -> detect R peaks -> judge signal quality -> classify every beat
(TensorFlow model) -> rhythm episodes -> intervals on the median beat -> heart rate and HRV ->
findings with a risk level -> plain-language notes. Everything in the result is serialisable to
JSON (`to_dict`), which is what the portal stores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ml import rhythm
from ml.after_unclassified import after_unclassified_note, supraventricular_after_unclassified
from ml.artefact_runs import artefact_runs
from ml.atrial import p_waves_where_seen
from ml.av_dissociation import (
    Dissociation,
    atrial_rate_bpm,
    av_dissociation,
    strip_call_with_dissociation,
)
from ml.baseline_swings import NOTE_PHRASE as SWING_PHRASE
from ml.baseline_swings import baseline_swings_mv, qrs_sizes_mv, rides_a_swing, swings_note
from ml.classifier import CLASSES, BeatClassifier
from ml.conducted_in_af import conducted_in_af_strip, conducted_note
from ml.cycle_splitters import (
    cycle_splitters_note,
    splits_a_cycle,
    supraventricular_splits_a_cycle,
    supraventricular_splitters_note,
)
from ml.dsp import find_peaks, use_compiled_routines
from ml.features import PatientBeats, beat_waveforms, rhythm_features
from ml.filters import bandpass_mv, each_band_once
from ml.findings import (
    Finding,
    artefact_runs_note,
    findings_of_read,
    joined_pauses_note,
    main_finding,
    unreadable_findings,
    wide_complex_tachycardia,
    wide_qrs_measured,
    without_doubtful_long_qt,
    without_doubtful_wide_qrs,
    without_pr_in_af,
    without_pr_in_dissociation,
    without_pr_in_mobitz_i,
    without_pr_in_wide_complex_tachycardia,
    without_pr_without_p_waves,
)
from ml.gaps import GapFill, Span, clocks, fill_gaps
from ml.holter_summary import HolterSummary, holter_summary, vf_waves
from ml.hrv import (
    FIBRILLATION_RATE_REASON,
    HeartRateSummary,
    heart_rate_summary,
    on_a_strip,
    rate_not_measurable,
    slow_rate,
)
from ml.intervals import (
    Intervals,
    aligned_beats,
    measure_intervals,
    next_beat_s,
    normal_rr_s,
)
from ml.io.sources import STREAM_FROM_S, RecordingSource
from ml.lead_ii_p_wave import inverted_p_waves, p_wave_polarity_in_lead_ii
from ml.lead_off import lead_off_as_missing
from ml.lead_vote import beats_most_leads_see, lead_detections, lead_that_finds_the_beats
from ml.mains import dehummed
from ml.missed_complexes import QRS_BAND_HZ, missed_complexes_s
from ml.mobitz_ii import second_degree_blocks, strip_call_with_mobitz_ii
from ml.narrow_tachycardia import named_on_the_strip, said_on_the_strip
from ml.noise_bursts import NOTE_PHRASE as BURST_PHRASE
from ml.noise_bursts import (
    bursts_note,
    in_noise_burst,
    judged_classes,
    noise_mv,
    supraventricular_bursts_note,
)
from ml.on_time_beats import ON_TIME_SHARE, on_time_note, on_time_supraventricular
from ml.pause_p_waves import pause_p_waves
from ml.quality import (
    SEGMENT_S,
    Segment,
    combine_leads,
    good_in_another_lead,
    good_once_filtered,
    good_share,
    mark_gaps,
    mark_hum,
    noisy_everywhere_mask,
    noisy_from_fast_noise,
    noisy_spans_s,
    segment_quality,
    unusable_mask,
)
from ml.recording import (
    Recording,
    canonical_lead_name,
    check_some_lead_usable,
    lead_problems,
    usable_leads,
    validated,
)
from ml.rpeaks import detect_r_peaks_both_leads
from ml.sinus_strip import (
    INVERTED_P_REASON,
    not_sinus_with_inverted_p_waves,
    sinus_at_its_rate,
    sinus_without_a_p_wave_said,
)
from ml.standstill import Silence, silences_note, silences_of
from ml.strip_rhythm import (
    FIBRILLATION_STRIP_SHARE,
    LABEL_TEXT,
    OTHER,
    OTHER_AF_NOT_RULED_OUT_TEXT,
    QRS_MISMATCH_FROM_NOISE,
    STRIP_MAX_S,
    UNCLASSIFIABLE,
    WINDOW_S,
    Bands,
    StripCall,
    af_from_noise,
    af_window_spans_s,
    call_strip,
    clear_of_fast_noise_s,
    is_slow_strip_call,
    may_be_fibrillation,
    named_by_rate,
    qrs_mismatch,
    rules_out_sinus,
    strip_call_over_a_pattern,
    strip_call_with_svt_runs,
    unusable_reason,
    unusable_throughout,
    window_starts,
    with_fibrillation,
)
from ml.strip_rhythm import SINUS as SINUS_CALL
from ml.two_to_one import (
    BlockedPWaves,
    TwoToOne,
    blocked_p_waves,
    strip_call_with_two_to_one,
    two_to_one_spans,
)
from ml.unmatched_ventricular import best_matches, unmatched, unmatched_note, ventricular_waves
from ml.ventricular_fibrillation import WINDOW_S as VF_WINDOW_S
from ml.ventricular_fibrillation import fibrillation_spans_s
from ml.vocabulary import STATEMENTS, UNREADABLE, canonical
from ml.wenckebach import (
    NONE,
    BlockCycles,
    conducted_sinus,
    conducted_sinus_note,
    strip_call_with_block,
)

Progress = Callable[[float, str], None]
PREFERRED_LEADS = ("II", "MLII")
EDGE_S = 1.0  # beats this close to the start or end of a recording are not classified (Q)
# The stored machine read's layout. 1: before the version was written (no key); 2: adds
# `schema_version`; 3: adds `pacemaker` (the read honoured the staff's pacemaker flag,
# `ml.paced`). `EcgAnalysis.from_dict` reads every version up to this one.
SCHEMA_VERSION = 3

_classifier: BeatClassifier | None = None


def default_classifier() -> BeatClassifier:
    """The shipped model, loaded once per process (as the server does)."""
    global _classifier
    if _classifier is None:
        _classifier = BeatClassifier.load()
    return _classifier


def warm_up() -> None:
    """Ready a process that analyses one recording after another (the portal's job worker, a
    Celery worker): load the classifier and import SciPy's compiled filters once
    (`ml.dsp.use_compiled_routines`, about 0.6 s), which every read after repays (a 30-min
    2-lead record: 0.66 -> 0.52 s). A one-off command (`cardio analyze`) does neither."""
    default_classifier()
    use_compiled_routines()


@dataclass(frozen=True)
class Beats:
    """Every beat, compactly: sample index, class letter, probability of that class."""

    samples: np.ndarray
    classes: np.ndarray
    probability: np.ndarray  # of the class given, one per beat

    @classmethod
    def of(cls, samples: np.ndarray, classes: np.ndarray, probabilities: np.ndarray) -> Beats:
        """From the classifier's [n, 5] probabilities (columns in CLASSES order)."""
        chosen = probabilities[np.arange(len(classes)), [CLASSES.index(c) for c in classes]]
        return cls(samples, classes, np.asarray(chosen, dtype=np.float64))

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample": self.samples.astype(int).tolist(),
            "class": "".join(self.classes.tolist()),
            "probability": np.round(self.probability, 3).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Beats:
        samples = np.asarray(data["sample"], dtype=np.int64)
        classes = np.asarray(list(data["class"]), dtype="<U1")
        probability = np.asarray(data["probability"], dtype=np.float64)
        if not samples.size == classes.size == probability.size:
            raise MachineReadError("the beats' samples, classes and probabilities differ in length")
        return cls(samples, classes, probability)


class MachineReadError(ValueError):
    """A stored machine read that this version cannot read (damaged, or from a newer one)."""


@dataclass
class EcgAnalysis:
    model_version: str
    fs_hz: float
    duration_s: float
    lead_names: tuple[str, ...]
    analysis_lead: str
    analysis_lead_reason: str
    rhythm_summary: str
    main_finding: Finding
    findings: list[Finding]
    episodes: list[rhythm.Episode]
    heart_rate: HeartRateSummary
    intervals: Intervals
    beat_counts: dict[str, int]
    class_probability_mean: dict[str, float]
    beats: Beats
    quality: list[Segment]
    notes: list[str] = field(default_factory=list)
    classification_leads: tuple[str, ...] = ()  # the leads the beat classes were read from
    strip: StripCall | None = None  # the one rhythm call of a strip of up to `STRIP_MAX_S`
    pacemaker: bool = False  # read as a paced recording (`ml.paced`): staff noted a pacemaker
    # The Holter summary as stored with the read (`holter`), for reads loaded without beats.
    stored_holter: HolterSummary | None = None

    @property
    def holter(self) -> HolterSummary | None:
        """The Holter summary (`ml.holter_summary`; None under 10 min): as stored with the
        read, else counted from the beats (a fresh read, or one stored before summaries).
        Stored first: recounted from a stored read, whose episode bounds are rounded, the PDF
        had said 1,094 S beats where the review page said 1,093 (a Holter audit)."""
        if self.stored_holter is not None or not self.beats.samples.size:
            return self.stored_holter
        unreadable = [(s.start_s, s.end_s) for s in self.quality if s.level == "unusable"]
        return holter_summary(
            self.beats.classes,
            self.beats.samples / self.fs_hz,
            self.duration_s,
            self.episodes,
            self.pacemaker,
            unreadable,
        )

    @property
    def good_quality_fraction(self) -> float:
        return good_share(self.quality)

    @property
    def quality_words(self) -> str:
        """The quality line of the review page and the clinician's PDF (`quality_words`)."""
        return quality_words(
            self.good_quality_fraction, self.notes, good_in_another_lead(self.quality)
        )

    @property
    def flagged_segments(self) -> list[Segment]:
        return [s for s in self.quality if s.level != "good"]

    @property
    def rhythm_overview(self) -> dict[str, Any]:
        """Which episodes to list and how many more of each rhythm (`rhythm.overview`)."""
        return rhythm.overview(self.episodes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        out |= {
            name: _plain(getattr(self, name))
            for name in (
                "model_version",
                "fs_hz",
                "duration_s",
                "lead_names",
                "analysis_lead",
                "analysis_lead_reason",
                "rhythm_summary",
                "main_finding",
                "findings",
                "heart_rate",
                "intervals",
                "beat_counts",
                "class_probability_mean",
                "notes",
                "classification_leads",
                "strip",
                "pacemaker",
            )
        }
        out["rhythm_overview"] = self.rhythm_overview
        out["episodes"] = [_episode(e) for e in self.episodes]
        out["quality"] = {
            "good_fraction": round(self.good_quality_fraction, 4),
            "flagged_segments": [_plain(s) for s in self.flagged_segments],
        }
        holter = self.holter
        out["holter_summary"] = dataclasses.asdict(holter) if holter is not None else None
        out["beats"] = self.beats.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EcgAnalysis:
        """The typed read of a stored `to_dict()` of any schema version up to SCHEMA_VERSION.

        What `to_dict` leaves out comes back as it implies: the quality's good segments are
        the recording outside the flagged ones; only the given class's probability is kept.
        Raises MachineReadError for a damaged document or one written by a newer version."""
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
            raise MachineReadError(
                f"machine read schema version {version!r}: this portal reads 1-{SCHEMA_VERSION}"
            )
        try:
            duration_s = float(data["duration_s"])
            strip, holter = data.get("strip"), data.get("holter_summary")
            return cls(
                model_version=str(data["model_version"]),
                fs_hz=float(data["fs_hz"]),
                duration_s=duration_s,
                lead_names=tuple(data["lead_names"]),
                analysis_lead=str(data["analysis_lead"]),
                analysis_lead_reason=str(data["analysis_lead_reason"]),
                rhythm_summary=str(data["rhythm_summary"]),
                main_finding=_finding(data["main_finding"]),
                findings=[_finding(f) for f in data["findings"]],
                episodes=[_typed(rhythm.Episode, e) for e in data["episodes"]],
                heart_rate=_typed(HeartRateSummary, data["heart_rate"]),
                intervals=_typed(Intervals, data["intervals"]),
                beat_counts=dict(data["beat_counts"]),
                class_probability_mean=dict(data["class_probability_mean"]),
                beats=Beats.from_dict(data["beats"]),
                quality=_quality(data["quality"].get("flagged_segments", []), duration_s),
                notes=list(data.get("notes", [])),
                classification_leads=tuple(data.get("classification_leads", ())),
                strip=_typed(StripCall, strip) if strip else None,
                pacemaker=_flag(data.get("pacemaker", False)),
                stored_holter=HolterSummary.from_dict(holter) if holter else None,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            if isinstance(error, MachineReadError):
                raise
            raise MachineReadError(f"damaged machine read: {error!r}") from error


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise MachineReadError(f"pacemaker is {value!r}, not true or false")
    return value


def _episode(episode: rhythm.Episode) -> dict[str, Any]:
    plain = _plain(episode)  # the duration from the rounded ends: it reads back the same
    return {**plain, "duration_s": round(plain["end_s"] - plain["start_s"], 4)}


def _typed(kind: Any, data: dict[str, Any]) -> Any:
    """A dataclass from its `_plain` dict; keys it does not have (derived ones, such as an
    episode's duration_s) are ignored, missing optional ones take their defaults."""
    names = {f.name for f in dataclasses.fields(kind)}
    return kind(**{k: v for k, v in data.items() if k in names})


def _finding(data: dict[str, Any]) -> Finding:
    return _typed(Finding, {**data, "code": canonical(data["code"])})  # AVB1 -> AV_BLOCK_1


def _quality(flagged: list[dict[str, Any]], duration_s: float) -> list[Segment]:
    """The flagged segments and, between them, good ones covering the rest of the recording."""
    segments, at = [], 0.0
    for flag in sorted((_typed(Segment, f) for f in flagged), key=lambda f: f.start_s):
        if flag.start_s > at:
            segments.append(Segment(at, flag.start_s, "good"))
        segments.append(flag)
        at = max(at, flag.end_s)
    if at < duration_s:
        segments.append(Segment(at, duration_s, "good"))
    return segments


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses to dicts, numpy scalars to Python numbers, floats rounded."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    return value


# A lead's QRS-band peakiness: the 99th percentile of its 5-15 Hz band's magnitude over the
# median. Gaussian noise reads 3.8; of the ECG leads of MIT-BIH, svdb, the QT Database and
# nstdb's records the lowest is 4.4 (MIT-BIH 101's V1, whose QRS complexes are small), every
# MLII 9 or more. Under NOISE_LIKE_PEAKINESS a lead is noise throughout (an electrode off that
# still picks up noise) and is not read while another lead's QRS complexes stand clear
# (CLEAR_PEAKINESS or more): 12-lead and two-lead synthetic ECGs whose lead II was pure noise
# read "Unclassifiable: too noisy", analysed on lead II as the standard rhythm lead.
NOISE_LIKE_PEAKINESS = 4.2
CLEAR_PEAKINESS = 8.0


def qrs_band_levels(filtered_mv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per lead of a signal band-passed to 5-15 Hz: the QRS height (99th percentile of the
    magnitude) and its peakiness (that over the median magnitude)."""
    magnitude = np.abs(filtered_mv)
    heights = np.percentile(magnitude, 99, axis=0)
    return heights, heights / np.maximum(np.median(magnitude, axis=0), 1e-12)


# A lead's beat coherence: the RMS of its mean beat (the 5-15 Hz band 250 ms before to 450 ms
# after each beat of the clearest lead) over the RMS of what is left of each beat around it.
# Noise alone reads 1/sqrt(beats - 1), 0.2-0.35 on 10-s synthetic 12-leads; a clean lead at
# right angles to the QRS axis (its QRS near flat, its P and T waves there) 4.7-7.4, while its
# peakiness, the median raised by more QRS complexes a second, fell under NOISE_LIKE_PEAKINESS
# at 80-100 bpm. A lead under NOISE_LIKE_PEAKINESS whose beats repeat so is read.
MIN_BEAT_COHERENCE = 1.5
COHERENCE_WINDOW_S = (0.25, 0.45)
MIN_BEATS_FOR_COHERENCE = 3


def beat_coherence(filtered_mv: np.ndarray, fs_hz: float, peakiness: np.ndarray) -> np.ndarray:
    """Per lead of a signal band-passed to 5-15 Hz: how much of it repeats at the beats of
    the lead of the highest `peakiness` (`MIN_BEAT_COHERENCE`); zeros with too few beats to
    tell, so nothing is read that was not before."""
    reference = np.abs(filtered_mv[:, int(np.argmax(peakiness))])
    peaks = find_peaks(reference, distance=round(0.25 * fs_hz))
    peaks = peaks[reference[peaks] >= 0.5 * np.percentile(reference, 99)]
    before, after = (round(s * fs_hz) for s in COHERENCE_WINDOW_S)
    beats = peaks[(peaks >= before) & (peaks + after <= len(filtered_mv))]
    if len(beats) < MIN_BEATS_FOR_COHERENCE:
        return np.zeros(filtered_mv.shape[1])
    windows = np.stack([filtered_mv[b - before : b + after] for b in beats])
    mean_beat = windows.mean(axis=0)
    rest_mv = np.sqrt(np.mean(np.square(windows - mean_beat), axis=(0, 1)))
    return np.sqrt(np.mean(np.square(mean_beat), axis=0)) / np.maximum(rest_mv, 1e-12)


def readable_leads(
    lead_names: tuple[str, ...],
    usable: list[int],
    peakiness: np.ndarray,
    coherence: np.ndarray | None = None,
) -> tuple[list[int], list[str]]:
    """The usable leads less those that are noise throughout (`NOISE_LIKE_PEAKINESS`, and
    their beats not repeating, `beat_coherence`, when given) when another lead's QRS complexes
    stand clear, and a note naming the leads set aside."""
    if not np.any(peakiness >= CLEAR_PEAKINESS):
        return usable, []
    coherence = np.zeros(len(usable)) if coherence is None else coherence
    kept = [
        i
        for i, level, repeats in zip(usable, peakiness, coherence, strict=True)
        if level >= NOISE_LIKE_PEAKINESS or repeats >= MIN_BEAT_COHERENCE
    ]
    set_aside = [lead_names[i] for i in usable if i not in kept]
    if not set_aside:
        return usable, []
    return kept, [
        f"Lead(s) {', '.join(set_aside)} not read: no QRS complex stands out of the noise "
        "anywhere on them (an electrode off or in poor contact?)."
    ]


def unusable_leads_note(
    lead_names: tuple[str, ...], problems: list[str | None], noted_missing: Sequence[int]
) -> list[str]:
    """A note naming each lead left out for its signal (`lead_problems`: a flat line, an
    electrode off), beside those the gap note names (`noted_missing`). A 12-lead ECG with V3
    flat read "100 % good quality" and said nothing of V3, whose flat line the sheet showed
    beside a normal read (an upload audit)."""
    by_problem: dict[str, list[str]] = {}
    for i, problem in enumerate(problems):
        if problem is not None and i not in noted_missing:
            by_problem.setdefault(problem, []).append(lead_names[i])
    return [
        f"Lead(s) {', '.join(names)} not read: {problem}." for problem, names in by_problem.items()
    ]


def choose_leads(
    lead_names: tuple[str, ...],
    usable: list[int],
    heights: np.ndarray,
    peakiness: np.ndarray,
    coherence: np.ndarray | None = None,
) -> tuple[list[int], tuple[int, str], list[str]]:
    """The leads read (`readable_leads`), the analysis lead among them with a sentence saying
    why (lead II or MLII, otherwise the tallest QRS `heights`), and the note on the leads set
    aside; `heights` and `peakiness` (`qrs_band_levels`) and `coherence` (`beat_coherence`)
    one per usable lead."""
    readable, note = readable_leads(lead_names, usable, peakiness, coherence)
    choice = preferred_lead(lead_names, readable) or tallest_lead(
        lead_names, readable, heights[[usable.index(i) for i in readable]]
    )
    return readable, choice, note


def preferred_lead(lead_names: tuple[str, ...], usable: list[int]) -> tuple[int, str] | None:
    """The first usable lead II or MLII, and why; None without one."""
    for index in usable:
        name = lead_names[index]
        if canonical_lead_name(name) in PREFERRED_LEADS or name.upper() in PREFERRED_LEADS:
            return index, f"lead {name}, the standard rhythm lead"
    return None


def tallest_lead(
    lead_names: tuple[str, ...], usable: list[int], heights: np.ndarray
) -> tuple[int, str]:
    """The usable lead with the tallest QRS `heights` (one per usable lead), and why."""
    best = usable[int(np.argmax(heights))]
    return best, (
        f"lead {lead_names[best]}: no usable lead II, so the lead with the clearest QRS complexes"
    )


def misread_lead_reason(lead_names: tuple[str, ...], misread: int, chosen: int, found: str) -> str:
    """Why the read left the lead it would have chosen (`ml.lead_vote`; `found`: what that
    lead found)."""
    return (
        f"lead {lead_names[chosen]}: lead {lead_names[misread]} {found} (a QRS complex "
        "isoelectric in it?), so the lead with the clearest QRS complexes among those that "
        "find them"
    )


def companion_lead(
    recording: Recording, lead_index: int, usable: list[int] | None = None
) -> int | None:
    """The second lead the beat classifier reads beside the analysis lead: V1 when usable
    (the classic second Holter lead, where atrial and ventricular beats look most unlike),
    else the next usable lead; None for a single usable lead."""
    usable = usable_leads(recording) if usable is None else usable
    return companion_of(recording.lead_names, lead_index, usable)


def companion_of(lead_names: tuple[str, ...], lead_index: int, usable: list[int]) -> int | None:
    """`companion_lead` from the lead names and the usable leads."""
    others = [i for i in usable if i != lead_index]
    for index in others:
        if canonical_lead_name(lead_names[index]) == "V1":
            return index
    return others[0] if others else None


def classify_beats(
    recording: Recording, leads: list[int], peaks: np.ndarray, classifier: BeatClassifier
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Class probabilities and decided classes from `leads` (the analysis lead first; the
    classifier reads as many as its card says), and the names of the leads it read."""
    read = leads[: classifier.leads_read]
    waves = [beat_waveforms(recording.signal_mv[:, i], recording.fs_hz, peaks) for i in read]
    rr = rhythm_features(waves[0].model_peaks) if len(peaks) else None  # the same in every lead
    per_lead = [PatientBeats.of(w, rr).inputs() for w in waves]
    probabilities = classifier.predict_proba_leads(per_lead)
    classes = classifier.decide(probabilities, per_lead[0]) if len(peaks) else np.array([], "<U1")
    return probabilities, classes, tuple(recording.lead_names[i] for i in read)


def analyze(
    recording: Recording | RecordingSource,
    classifier: BeatClassifier | None = None,
    progress: Progress | None = None,
    pacemaker: bool = False,
) -> EcgAnalysis:
    """The machine read of a recording (validated first; raises RecordingError if unusable).
    A `RecordingSource` (a long file read piece by piece, `ml.io.sources.open_recording`) is
    analysed chunk by chunk (`ml.chunked`), to the same result in bounded memory.
    `pacemaker`: staff noted that the patient has one; the read is then a paced read
    (`ml.paced.paced_read`: no rhythm, beat types or intervals asserted)."""
    if not isinstance(recording, Recording) or recording.duration_s > STREAM_FROM_S:
        use_compiled_routines()  # SciPy's compiled filters repay their import on long reads
    if not isinstance(recording, Recording):
        from ml.chunked import analyze_chunked

        return analyze_chunked(recording, classifier, progress, pacemaker=pacemaker)
    analysis = _analyze_whole(recording, classifier, progress)
    if pacemaker:
        from ml.paced import paced_read  # it builds on this module

        return paced_read(analysis)
    return analysis


def _analyze_whole(
    recording: Recording, classifier: BeatClassifier | None, progress: Progress | None
) -> EcgAnalysis:
    # A minute of flat line in every lead is lead-off, read as missing (`ml.lead_off`); short
    # gaps are bridged, long ones zeroed and kept as spans (`ml.gaps`).
    gaps = fill_gaps(lead_off_as_missing(validated(recording)))
    notched, hum_hz_by_lead = dehummed(gaps.recording)  # mains hum notched out (`ml.mains`)
    gaps = replace(gaps, recording=notched)
    with each_band_once(gaps.recording.signal_mv):  # a lead's band is filtered once
        return _read(gaps, classifier or default_classifier(), progress, hum_hz_by_lead)


def _read(
    gaps: GapFill,
    classifier: BeatClassifier,
    progress: Progress | None,
    hum_hz_by_lead: dict[int, float],
) -> EcgAnalysis:
    """The whole-record read of a validated recording whose gaps are filled and whose mains
    hum is notched out (`hum_hz_by_lead`: its leads, flagged noisy)."""
    report = progress or (lambda fraction, message: None)
    recording = gaps.recording
    fs = recording.fs_hz

    report(0.05, "Choosing the analysis lead")
    problems = lead_problems(recording)
    leads = [i for i, problem in enumerate(problems) if problem is None]
    if not leads:  # usable with its gaps, yet flat once they are zeroed (a lead of microvolts)
        check_some_lead_usable(recording.lead_names, problems)
    qrs_band_mv = bandpass_mv(recording.signal_mv[:, leads], fs, (5.0, 15.0))
    heights, peakiness = qrs_band_levels(qrs_band_mv)
    height_of = dict(zip(leads, heights.tolist(), strict=True))
    leads, (lead_index, lead_reason), set_aside_note = choose_leads(
        recording.lead_names, leads, heights, peakiness, beat_coherence(qrs_band_mv, fs, peakiness)
    )
    detections = lead_detections(recording.signal_mv, fs, leads)  # 3 leads or more
    finder, misread = lead_that_finds_the_beats(detections, fs, lead_index, height_of)
    if misread:
        lead_index, lead_reason = (
            finder,
            misread_lead_reason(recording.lead_names, lead_index, finder, misread),
        )
    set_aside_note = unusable_leads_note(recording.lead_names, problems, gaps.mostly_missing) + (
        set_aside_note
    )
    lead_mv = recording.signal_mv[:, lead_index]

    report(0.15, "Detecting heartbeats")
    second = companion_lead(recording, lead_index, leads)
    peaks, other_peaks = detect_r_peaks_both_leads(
        lead_mv, None if second is None else recording.signal_mv[:, second], fs
    )
    peaks = beats_most_leads_see(detections, fs, peaks)
    quality_leads = [lead_index] + ([] if second is None else [second])
    quality, peaks, swapped = _judge_leads(
        recording, gaps, quality_leads, peaks, other_peaks, hum_hz_by_lead
    )
    if second is not None and len(swapped) and swapped.all():
        # Unreadable throughout: the rhythm, its P waves and the strips are read on another
        # lead, a limb lead where one is read (the strip rhythm's model learned lead I), else
        # the one every beat came from. A 12-lead audit: lead II under heavy noise, its P
        # waves crisp in the other leads, read "Other rhythm: no consistent P wave", and the
        # signed PDF's rhythm strip was that noise. (Each beat's class is the companion's.)
        usual = recording.lead_names[lead_index]
        lead_index = _rhythm_lead_instead(recording.lead_names, leads, lead_index, second)
        lead_reason = (
            f"lead {recording.lead_names[lead_index]}: lead {usual}, the usual one, is "
            "unreadable throughout"
        )
        lead_mv = recording.signal_mv[:, lead_index]
    fibrillation = fibrillation_on_a_live_lead(
        recording.signal_mv, fs, fibrillation_spans_s(lead_mv, fs), gaps.long_gaps_s,
        (lead_index, second),
    )  # fmt: skip
    silent, not_beats = silences_of(
        recording.signal_mv,
        quality_leads,
        fs,
        peaks,
        ~unusable_mask(quality, peaks / fs),
        [*gaps.spans_s(quality_leads), *fibrillation],
    )
    peaks, swapped = peaks[~not_beats], swapped[~not_beats]  # noise in a silence: no beats
    set_aside_note += [silences_note(silent, int(not_beats.sum()))] if not_beats.any() else []

    report(0.35, "Classifying beats")
    probabilities, classes, classification_leads = classify_beats(
        recording, quality_leads, peaks, classifier
    )
    if swapped.any() and second is not None:
        # Where the analysis lead is unreadable, its window would only mislead the network.
        alone, alone_classes, _ = classify_beats(recording, [second], peaks, classifier)
        probabilities[swapped], classes[swapped] = alone[swapped], alone_classes[swapped]
    read_leads = quality_leads[: classifier.leads_read]
    for live, where in beats_missing_a_lead(peaks / fs, read_leads, gaps.long_gaps_s):
        alone, alone_classes, _ = classify_beats(recording, live, peaks, classifier)
        probabilities[where], classes[where] = alone[where], alone_classes[where]
    unreadable = unusable_mask(quality, peaks / fs)
    missing = spans_every_lead_misses(gaps.long_gaps_s, quality_leads)
    classes = unclassified_where_unreadable(
        classes, peaks / fs, recording.duration_s, unreadable, fibrillation, missing
    )

    report(0.55, "Measuring intervals")  # before the rhythm: a strip's P region is its P wave's
    normal = (classes == "N") & ~unreadable
    filtered = np.column_stack([bandpass_mv(recording.signal_mv[:, i], fs) for i in leads])
    interval_leads = tuple(canonical_lead_name(recording.lead_names[i]) for i in leads)
    # `measure_intervals` by name: `ml.research.intervals_eval` captures its inputs here.
    intervals = measure_intervals(
        filtered, fs, peaks[normal], interval_leads, normal_rr_s(peaks, normal, fs),
        next_s=next_beat_s(peaks, normal, fs),
    )  # fmt: skip
    lead_ii_p = p_wave_polarity_in_lead_ii(
        aligned_beats(filtered, fs, peaks[normal]), fs, interval_leads, intervals
    )

    report(0.7, "Finding rhythm episodes")
    beat_s = peaks / fs
    bands = Bands.of(lead_mv, fs)  # the lead filtered once for the P waves and the AF features
    open_silences = [(q.start_s, q.end_s) for q in silent if q.open]
    pause_p = pause_p_waves(bands.p_waves_mv, fs, beat_s, classes, open_silences)
    p_consistency = p_waves_where_seen(bands.p_waves_mv, fs, beat_s, classes)
    block, constant_pr_block = second_degree_blocks(bands.p_waves_mv, fs, beat_s, classes)
    dissociation = av_dissociation(bands.p_waves_mv, fs, beat_s, classes)
    held_block = blocked_p_waves(bands.p_waves_mv, fs, beat_s, classes)
    missed = missed_complexes_s(
        bandpass_mv(recording.signal_mv[:, leads], fs, QRS_BAND_HZ), fs, beat_s, classes
    )
    is_strip = recording.duration_s <= STRIP_MAX_S
    af_windows = [] if is_strip else af_window_spans_s(lead_mv, fs, peaks, classes, bands=bands)
    if not is_strip:
        p_consistency, af_windows = atrial_evidence_on_a_live_lead(
            recording.signal_mv,
            fs,
            (peaks, classes),
            (p_consistency, af_windows),
            gaps.long_gaps_s,
            (lead_index, second),
        )
    good_s = [(s.start_s, s.end_s) for s in quality if good_once_filtered(s)]
    fast_noise_s = [(s.start_s, s.end_s) for s in quality if noisy_from_fast_noise(s)]
    clear_of_noise = [] if is_strip else clear_of_fast_noise_s(lead_mv, fs, peaks, quality)
    set_aside = [
        (float(beat_s[first]), float(beat_s[stop - 1]))
        for first, stop in artefact_runs(bands.beats_mv, fs, peaks, classes, quality)
    ]

    qrs_mv = qrs_sizes_where_read(lead_mv, fs, peaks, gaps.long_gaps_s[lead_index])
    surroundings = None  # only V (and S) calls are judged on a swing or in a burst of noise
    in_noise = np.isin(classes, judged_classes())
    if np.any(in_noise):
        surroundings = (
            baseline_swings_mv(lead_mv, fs, peaks),
            qrs_mv,
            noise_mv(lead_mv, fs, peaks, in_noise),
        )
    on_swing, in_burst = shape_doubts(classes, surroundings)
    v_waves = ventricular_waves(bands.beats_mv, fs, peaks[classes == "V"])
    unmatched_v = unmatched(ventricular_matches(classes, beat_s, quality, v_waves, qrs_mv))
    strip = None
    if is_strip:
        t_end_ms = None if block.cycles_s else intervals.t_end_ms  # as `summarise` reads it
        held = two_to_one_spans(held_block, t_end_ms)
        reported, _ = reported_classes(beat_s, classes, on_swing, in_burst, unmatched_v, held)
        p_onset_s = None if intervals.p_onset_ms is None else intervals.p_onset_ms / 1000
        strip = call_strip(
            lead_mv,
            fs,
            peaks,
            classes,
            None,
            bands,
            good_s,
            reported,
            fast_noise_s,
            silent,
            p_onset_s=p_onset_s,
        )
        strip = sinus_at_its_rate(strip, intervals, lead_ii_p)
        strip = not_sinus_with_inverted_p_waves(strip, intervals, lead_ii_p)
        strip = named_on_the_strip(strip, intervals)
        strip = strip_call_with_block(strip, block)
        strip = strip_call_with_mobitz_ii(strip, constant_pr_block)
        strip = strip_call_with_dissociation(strip, dissociation, recording.duration_s)
        strip = sinus_without_a_p_wave_said(strip, intervals)
        unusable = bool(quality) and all(s.level == "unusable" for s in quality)
        if unusable and strip.label != UNCLASSIFIABLE:
            strip = unusable_throughout(strip, [s.reason for s in quality])
        clear_s = clear_of_fast_noise_s(lead_mv, fs, peaks, quality)
        strip = af_from_noise(strip, lead_mv, fs, peaks, noisy_spans_s(quality, clear_s))
        strip = mostly_noise_strip(strip, quality, clear_s, (lead_mv, fs, peaks))
        strip = strip_call_with_svt_runs(strip, beat_s, reported)
        intervals = _with_conducted_beats_in_af(
            intervals, strip, classes, unreadable, (filtered, fs, peaks, interval_leads)
        )

    report(0.9, "Summarising findings")
    analysis = summarise(
        BeatRead(
            peaks,
            classes,
            probabilities,
            unreadable,
            quality,
            classification_leads,
            on_swing,
            in_burst,
            qrs_mv,
            unmatched_v,
        ),
        RhythmEvidence(
            p_consistency,
            fibrillation,
            af_windows,
            strip,
            set_aside,
            block,
            dissociation,
            silent,
            pause_p,
            held_block,
            constant_pr_block,
            clear_of_noise,
            lead_ii_p,
            missing,
            missed,
        ),
        intervals,
        recording_facts=(fs, recording.duration_s, recording.lead_names),
        lead=(lead_index, lead_reason),
        model_version=str(classifier.card_.get("version", "unknown")),
        notes=list(recording.notes) + list(gaps.notes) + set_aside_note,
        leads_not_read=tuple(n for i, n in enumerate(recording.lead_names) if i not in leads),
    )
    report(1.0, "Done")
    return analysis


def _with_conducted_beats_in_af(
    intervals: Intervals,
    strip: StripCall,
    classes: np.ndarray,
    unreadable: np.ndarray,
    measured: tuple[np.ndarray, float, np.ndarray, tuple[str, ...]],
) -> Intervals:
    """On a strip called AF, the intervals measured again with its S calls as the conducted
    beats they are (`ml.conducted_in_af`): measured before the call, with them as early
    ectopic beats, the QT read "not measurable (the next beat (an early ectopic beat 587 ms
    after each normal one) comes before the T wave ends)" on 3 of 8 AF strips of a
    clinician-eye audit, a reason untrue in AF and a QT lost."""
    conducted = conducted_in_af_strip(classes, strip.label)
    if not conducted.any():
        return intervals
    filtered, fs, peaks, leads = measured
    beats = (conducted | (classes == "N")) & ~unreadable
    return measure_intervals(
        filtered, fs, peaks[beats], leads, normal_rr_s(peaks, beats, fs),
        next_s=next_beat_s(peaks, beats, fs),
    )  # fmt: skip


def qrs_sizes_where_read(
    lead_mv: np.ndarray, fs: float, peaks: np.ndarray, lead_gaps_s: Sequence[Span]
) -> np.ndarray:
    """Each beat's QRS size on the lead (`ml.baseline_swings.qrs_sizes_mv`), NaN (not
    measured) for beats in its long gaps: their zeros had counted as QRS complexes of 0 mV,
    and with MLII missing for 47 s of MIT-BIH 207's 120 the median QRS fell to 0 and 60 V
    calls, a ventricular bigeminy untouched by the gap, were left unclassified as riding a
    baseline swing "more than 2 times as large as the QRS complexes"."""
    qrs_mv = qrs_sizes_mv(lead_mv, fs, peaks)
    return np.where(rhythm.within(peaks / fs, list(lead_gaps_s)), np.nan, qrs_mv)


def shape_doubts(
    classes: np.ndarray, surroundings: tuple[np.ndarray, np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Which beats ride a baseline swing and which sit in a burst of noise, from each beat's
    (swing, QRS size, noise) (`ml.baseline_swings`, `ml.noise_bursts`); None without the
    calls these rules judge. Shared by the whole-record and the chunked analysis."""
    if surroundings is None or not np.any(np.isin(classes, judged_classes())):
        return None, None
    swing_mv, qrs_mv, noise = surroundings
    return rides_a_swing(swing_mv, qrs_mv), in_noise_burst(noise, qrs_mv, classes)


def quality_words(
    good_fraction: float,
    notes: Sequence[str],
    good_elsewhere: Mapping[str, float] | None = None,
) -> str:
    """How much of the recording is of good quality, in words. Quality is judged in 10-s
    segments, which a burst of noise or a swing of a second or two passes: "100 % of the
    recording is of good quality" had stood beside a note of a beat left unclassified in a
    burst of noise (helper C5), so such a note is pointed to. A share just short of all is
    never rounded up to 100 %. Where another lead is good while the analysis lead is not
    (`good_elsewhere`, `ml.quality.good_in_another_lead`), that is said too: "3 % ... good"
    had stood alone where lead V1 was clean throughout (a noise audit, MIT-BIH 116)."""
    percent = round(good_fraction * 100)
    if good_fraction < 1 and percent == 100:
        percent = 99
    words = f"{percent} % of the recording is of good quality"
    if good_elsewhere:
        words += " in the lead analysed"
    if any(BURST_PHRASE in n or SWING_PHRASE in n for n in notes):
        words += (
            f" (judged in {SEGMENT_S:g}-s segments); shorter bursts of noise or baseline "
            "swings inside them are in the machine notes"
        )
    for lead, share in (good_elsewhere or {}).items():
        further = min(max(round(share * 100), 1), 99 if share < 1 - 1e-9 else 100)
        words += f"; lead {lead} is good over a further {further} %"
    return words + "."


@dataclass(frozen=True)
class BeatRead:
    """Every beat (sample, decided class, class probabilities), which beats sit in unusable
    signal, the recording's quality, and the leads the classes were read from."""

    peaks: np.ndarray
    classes: np.ndarray
    probabilities: np.ndarray
    unreadable: np.ndarray
    quality: list[Segment]
    classification_leads: tuple[str, ...]
    on_swing: np.ndarray | None = None  # riding a baseline swing (`ml.baseline_swings`)
    in_burst: np.ndarray | None = None  # inside a burst of fast noise (`ml.noise_bursts`)
    qrs_mv: np.ndarray | None = None  # each beat's QRS size (`ml.baseline_swings.qrs_sizes_mv`)
    # V calls in noisy signal unlike every other V call (`ml.unmatched_ventricular`)
    unmatched: np.ndarray | None = None


@dataclass(frozen=True)
class RhythmEvidence:
    """What the rhythm analysis reads besides the beats: P-wave consistency per beat,
    ventricular fibrillation spans, AF windows, and the strip call of a short strip."""

    p_consistency: np.ndarray
    fibrillation: list[tuple[float, float]]
    af_windows: list[tuple[float, float]]
    strip: StripCall | None
    # Ventricular runs on artefact (`ml.artefact_runs`): (first, last beat time), not VT.
    artefact_runs: list[tuple[float, float]] = field(default_factory=list)
    mobitz_i: BlockCycles = NONE  # a Mobitz I block's long cycles (`ml.wenckebach`)
    # Where P waves march apart from the QRS complexes (`ml.av_dissociation`).
    dissociation: list[Dissociation] = field(default_factory=list)
    # Stretches with no QRS complex (`ml.standstill`): pauses, open at a recording's ends.
    silences: list[Silence] = field(default_factory=list)
    # P waves found in each pause, keyed by its (start, end) (`ml.pause_p_waves`).
    pause_p_waves: dict[tuple[float, float], int | None] = field(default_factory=dict)
    # Each window's P waves halfway between the beats (`ml.two_to_one`): 2:1 AV block.
    blocked_p_waves: list[BlockedPWaves] = field(default_factory=list)
    mobitz_ii: BlockCycles = NONE  # a Mobitz II block's long cycles (`ml.mobitz_ii`)
    # Segments noisy only from fast noise whose beats stand clear of it: read as good
    # (`ml.strip_rhythm.clear_of_fast_noise_s`; a long recording only).
    clear_of_fast_noise: list[tuple[float, float]] = field(default_factory=list)
    # The median P wave's polarity in lead II (`ml.lead_ii_p_wave`), None without lead II.
    p_wave_in_lead_ii: int | None = None
    # Where every lead read is missing (`spans_every_lead_misses`): no episode runs through.
    missing: list[tuple[float, float]] = field(default_factory=list)
    # Complexes the detector missed in intervals of two cycles (`ml.missed_complexes`).
    missed_complexes: np.ndarray = field(default_factory=lambda: np.zeros(0))


def ventricular_matches(
    classes: np.ndarray,
    beat_s: np.ndarray,
    quality: list[Segment],
    waves: np.ndarray,
    qrs_mv: np.ndarray | None,
) -> np.ndarray | None:
    """Per beat, the best match with another V call of each V call the unmatched-V rule
    judges, from the `ventricular_waves` of every V call in order (NaN for the rest); None
    without V calls. Judged: V calls in signal noisy in every lead, except faint detections in
    poor signal, left to the pause rule, which reads them as no beat at all
    (`faint_in_poor_signal`: left unclassified, they would end the pause they sit in). Shared
    by the whole-record and the chunked analysis."""
    ventricular = classes == "V"
    if not ventricular.any():
        return None
    faint = faint_in_poor_signal(qrs_mv, quality, beat_s)
    judged = noisy_everywhere_mask(quality, beat_s[ventricular]) & ~faint[ventricular]
    out = np.full(classes.size, np.nan)
    out[ventricular] = best_matches(waves, judged)
    return out


NO_GOOD_SIGNAL_DETAIL = (
    "no stretch of the recording is of good quality: the rate, beat types and rhythm were read "
    "through noise; check the strip, or repeat the recording"
)


def read_through_noise(
    quality: list[Segment], clear_spans_s: Sequence[tuple[float, float]]
) -> list[Finding]:
    """A medium-risk quality finding when no segment is of good quality but the read went on
    (noisy, not unusable, signal): a 60-s strip of nstdb 118e00, 0 % good quality, read 114
    beats for the reference's 74, a rate of 108 bpm and 7 false PVCs, "Routine" on the
    worklist (an on-call audit). The read stays; the doctor is told not to take it on trust.
    Good here as the strip call counts it (`good_share(..., in_some_lead=True)`): a lead good
    once its mains hum is notched out, or beats standing clear of fast noise."""
    if not quality or good_share(quality, True, clear_spans_s) > 0:
        return []
    label = STATEMENTS["ARTIFACT"].label
    return [Finding("ARTIFACT", label, "medium", None, NO_GOOD_SIGNAL_DETAIL)]


def low_confidence_through_noise(intervals: Intervals) -> Intervals:
    """`intervals` of low confidence at most where no stretch of the recording is of good
    quality (`read_through_noise`): its median beat is a median of noise too. 10 s of nstdb
    119e00 from 560 s (MIT-BIH 119, QRS 83 ms, under 0 dB of electrode-motion noise) read a
    QRS of 158 ms at high confidence, made a wide-complex tachycardia of it ("Ventricular
    tachycardia", "Emergency" on the worklist) and showed an ST level of +3.37 mV in II. Of
    low confidence, a QRS that would be wide and a QT that would be long are withheld, and
    the ST levels read after the QRS end are not shown (`Intervals.st_levels_shown_mv`)."""
    return replace(intervals, confidence={name: "low" for name in intervals.confidence})


def vt_through_noise_note(runs: Sequence[rhythm.Episode]) -> str:
    """What the read says of the ventricular runs it did not read as ventricular tachycardia
    for want of any stretch of good signal: 60 s of nstdb 118e00 from 540 s (MIT-BIH 118,
    no ventricular run in its reference, under 0 dB of electrode-motion noise) read a 5-beat
    "ventricular tachycardia" at high risk."""
    where = clocks(run.start_s for run in runs)
    said = "1 run" if len(runs) == 1 else f"{len(runs)} runs"
    return (
        f"{said} of beats called ventricular over 100 /min (at {where}) not read as "
        "ventricular tachycardia: no stretch of the recording is of good quality, and motion "
        "artefact makes such runs; check the strip there."
    )


def beats_missing_a_lead(
    beat_s: np.ndarray, read_leads: list[int], long_gaps_s: Sequence[Sequence[Span]]
) -> list[tuple[list[int], np.ndarray]]:
    """(the leads still there, the beats) wherever some of the leads the classifier reads are
    missing (a long gap, an electrode off) and others are not: those beats are classified
    from the leads still there alone. The missing lead's zeros had gone into the network
    beside the live lead, and every beat of a minute with V1 off while MLII beat on was left
    unclassified (MIT-BIH 119: 101 beats Q, 15 PVCs lost, a "paced or unclassifiable rhythm"
    of 90 s; an audit of the lead-off notes)."""
    missing = np.array([rhythm.within(beat_s, list(long_gaps_s[i])) for i in read_leads])
    if len(read_leads) < 2 or not missing.any():
        return []
    groups = []
    for pattern in {tuple(column) for column in missing.T if column.any() and not column.all()}:
        gone = np.array(pattern)
        where = (gone == missing.T).all(axis=1)
        live = [lead for lead, off in zip(read_leads, pattern, strict=True) if not off]
        groups.append((live, where))
    return groups


def atrial_evidence_on_a_live_lead(
    signal_mv: np.ndarray,
    fs: float,
    beats: tuple[np.ndarray, np.ndarray],
    evidence: tuple[np.ndarray, list[tuple[float, float]]],
    long_gaps_s: Sequence[Sequence[Span]],
    leads: tuple[int, int | None],
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The AF evidence, (per-beat P-wave consistency, AF windows), read from the companion
    lead wherever the rhythm lead is in a long gap (an electrode off) and the companion is
    not: each beat's P-wave consistency there, and every 30-s window touching such a span,
    judged on the companion alone. The rhythm lead's zeros have no P wave, and MIT-BIH 119
    with MLII off for 10 min while V1 beat on read 5 AF episodes (high risk) in its
    ventricular bigeminy: the window model had called the flat lead's windows AF."""
    rhythm_lead, companion = leads
    consistency, windows = evidence
    if companion is None or companion == rhythm_lead or not long_gaps_s[rhythm_lead]:
        return consistency, windows
    peaks, classes = beats
    off, companion_off = list(long_gaps_s[rhythm_lead]), list(long_gaps_s[companion])
    beat_s = peaks / fs
    on_companion = rhythm.within(beat_s, off) & ~rhythm.within(beat_s, companion_off)
    width_s = WINDOW_S  # the windows start every WINDOW_HOP_S, as `af_window_spans_s` reads them
    touching = [
        start
        for start in window_starts(signal_mv.shape[0], fs)
        if rhythm.overlap_s(start / fs, start / fs + width_s, off) > 0
        and rhythm.overlap_s(start / fs, start / fs + width_s, companion_off) == 0
    ]
    if not on_companion.any() and not touching:
        return consistency, windows
    lead_mv = signal_mv[:, companion]
    bands = Bands.of(lead_mv, fs)
    if on_companion.any():
        live = p_waves_where_seen(bands.p_waves_mv, fs, beat_s, classes)
        consistency = np.where(on_companion, live, consistency)
    moved = {start / fs for start in touching}
    kept = [w for w in windows if w[0] not in moved]
    judged = af_window_spans_s(lead_mv, fs, peaks, classes, starts=touching, bands=bands)
    return consistency, sorted(kept + judged)


def fibrillation_on_a_live_lead(
    signal_mv: np.ndarray,
    fs: float,
    fibrillation: list[tuple[float, float]],
    long_gaps_s: Sequence[Sequence[Span]],
    leads: tuple[int, int | None],
) -> list[tuple[float, float]]:
    """The VF spans, with those the companion lead finds wherever the rhythm lead is in a
    long gap (or within a VF window of it: those windows read its zeros), as
    `atrial_evidence_on_a_live_lead` reads AF; the companion's own zeros flag no window.
    MIT-BIH 207 with MLII off for 47 s while V1 showed 32 s of ventricular flutter read no
    VF at all, "Sinus rhythm" over the flutter and a first-degree AV block."""
    rhythm_lead, companion = leads
    if companion is None or companion == rhythm_lead or not long_gaps_s[rhythm_lead]:
        return fibrillation
    margin_s = VF_WINDOW_S
    off = [
        (max(0.0, a - margin_s), b + margin_s)
        for a, b in rhythm.merged_spans(list(long_gaps_s[rhythm_lead]))
    ]
    live = [
        (max(a, c), min(b, d))
        for a, b in fibrillation_spans_s(signal_mv[:, companion], fs)
        for c, d in off
        if max(a, c) < min(b, d)
    ]
    return rhythm.merged_spans([*fibrillation, *live]) if live else fibrillation


def spans_every_lead_misses(long_gaps_s: Sequence[Sequence[Span]], leads: list[int]) -> list[Span]:
    """Where every one of `leads` is in a long gap: the beats there (and within a second of
    it) are left unclassified (`unclassified_where_unreadable`). Where one lead goes on, its
    beats are read (`beats_missing_a_lead`)."""
    common = rhythm.merged_spans(list(long_gaps_s[leads[0]]))
    for lead in leads[1:]:
        others = rhythm.merged_spans(list(long_gaps_s[lead]))
        common = [
            (max(a, c), min(b, d)) for a, b in common for c, d in others if max(a, c) < min(b, d)
        ]
    return common


def unclassified_where_unreadable(
    classes: np.ndarray,
    beat_s: np.ndarray,
    duration_s: float,
    unreadable: np.ndarray,
    fibrillation: list[tuple[float, float]],
    gap_spans_s: list[tuple[float, float]],
) -> np.ndarray:
    """Q for beats in unusable signal, at the recording's edges or a gap's, or inside
    ventricular fibrillation (its waves are not beats)."""
    at_edge = _at_edges(beat_s, duration_s, gap_spans_s)
    return np.where(unreadable | at_edge | rhythm.within(beat_s, fibrillation), "Q", classes)


def unclassified_where_doubtful(
    beat_s: np.ndarray,
    classes: np.ndarray,
    on_swing: np.ndarray | None,
    in_burst: np.ndarray | None = None,
    unmatched_calls: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Ectopic calls the read does not trust become Q, each rule with its note, in this order:
    V, then S calls inside one cycle (`ml.cycle_splitters`), V calls on a baseline swing
    (`ml.baseline_swings`), V and S calls in a burst of noise (`ml.noise_bursts`), V calls in
    noisy signal unlike every other (`ml.unmatched_ventricular`), S calls right after a Q
    (`ml.after_unclassified`)."""
    notes = []
    none = np.zeros(len(classes), dtype=bool)
    swinging = none if on_swing is None else on_swing
    bursting = none if in_burst is None else in_burst
    lone = none if unmatched_calls is None else unmatched_calls
    rules = (
        (lambda c: splits_a_cycle(beat_s, c), cycle_splitters_note),
        (lambda c: supraventricular_splits_a_cycle(beat_s, c), supraventricular_splitters_note),
        (lambda c: (c == "V") & swinging, swings_note),
        (lambda c: (c == "V") & bursting, bursts_note),
        (lambda c: (c == "S") & bursting, supraventricular_bursts_note),
        (lambda c: (c == "V") & lone, unmatched_note),
        (supraventricular_after_unclassified, after_unclassified_note),
    )
    for find, note in rules:
        doubtful = find(classes)
        if np.any(doubtful):
            classes = np.where(doubtful, "Q", classes)
            notes.append(note(beat_s[doubtful]))
    return classes, notes


def reported_classes(
    beat_s: np.ndarray,
    classes: np.ndarray,
    on_swing: np.ndarray | None,
    in_burst: np.ndarray | None,
    unmatched_calls: np.ndarray | None,
    two_to_one: Sequence[TwoToOne] = (),
) -> tuple[np.ndarray, list[str]]:
    """The classes the read reports, and the notes that say why some changed: the doubtful
    ectopic calls taken back (`unclassified_where_doubtful`), then S calls that came on time
    turned N (`ml.on_time_beats`; on time also against the atrial rate of a 2:1 block its P
    waves show, `two_to_one`)."""
    classes, notes = unclassified_where_doubtful(
        beat_s, classes, on_swing, in_burst, unmatched_calls
    )
    atrial_cycles_s = [(t.start_s, t.end_s, 60.0 / t.atrial_bpm) for t in two_to_one]
    on_time = on_time_supraventricular(beat_s, classes, atrial_cycles_s)
    if on_time.any():
        classes = np.where(on_time, "N", classes)
        notes = [*notes, on_time_note(beat_s[on_time])]
    return classes, notes


def unclassified_in_svt_note(
    episodes: list[rhythm.Episode], beat_s: np.ndarray, classes: np.ndarray, called: np.ndarray
) -> str:
    """What the read says of the unclassified (Q) beats an SVT run holds between its S beats
    (`rhythm.run_bounds`): where, how many, and how many the beat classifier itself left
    unclassified (`called` Q), not a rule of the read's; "" when none."""
    runs = [e for e in episodes if e.label == rhythm.SVT]
    held = []
    for e in runs:
        q = (beat_s >= e.start_s) & (beat_s <= e.end_s) & (classes == "Q")
        if q.any():
            held.append((e, int(q.sum()), int(np.sum(q & (called == "Q")))))
    if not held:
        return ""
    where = ", ".join(f"{clocks([e.start_s])} ({e.n_beats} beats, {n} Q)" for e, n, _ in held)
    total, by_model = sum(n for _, n, _ in held), sum(m for _, _, m in held)
    return (
        f"Supraventricular tachycardia at {where} counts {total} beats left unclassified "
        f"between its S beats, at the run's rate: {by_model} of them the beat classifier "
        "could not name (its own Q call), the others S calls taken back; check the strip there."
    )


# Run episodes, the calls they are runs of, and whether they are the slow runs (`run_bounds`).
RUN_CLASS = {rhythm.VT: ("V", False), rhythm.SVT: ("S", False), rhythm.IVR: ("V", True)}


FAINT_QRS_SHARE = 0.25  # of the recording's median QRS size


def in_poor_signal(beat_s: np.ndarray, quality: list[Segment]) -> np.ndarray:
    """Per beat: inside a stretch signal quality does not call good (noisy or unusable)."""
    return rhythm.within(beat_s, [(s.start_s, s.end_s) for s in quality if s.level != "good"])


def faint_in_poor_signal(
    qrs_mv: np.ndarray | None, quality: list[Segment], beat_s: np.ndarray
) -> np.ndarray:
    """Detections that may be no beat at all: in a stretch signal quality does not call good,
    and under a quarter of the recording's median QRS size (`qrs_mv`, per beat: svdb 850's
    "beats" inside a 12.5-s sinus arrest, both leads flat; an escape beat is full size)."""
    if qrs_mv is None or qrs_mv.size != beat_s.size or not np.isfinite(qrs_mv).any():
        return np.zeros(beat_s.size, dtype=bool)
    poor = in_poor_signal(beat_s, quality)
    with np.errstate(invalid="ignore"):
        faint = qrs_mv < FAINT_QRS_SHARE * np.nanmedian(qrs_mv)
    return np.asarray(faint & poor)


def taken_back_on_time(beat_s: np.ndarray, classes: np.ndarray, called: np.ndarray) -> np.ndarray:
    """Calls taken back as doubtful (Q now, not Q as `called`) that came on time, at least
    `ON_TIME_SHARE` of the sinus cycle before them: beats of the rhythm whatever their shape,
    so they end a pause. A clean strip's last beat before a 3.7-s pause, riding a swing of
    the baseline, was called V and taken back, and the pause went unread."""
    taken_back = (classes == "Q") & (called != "Q")
    if not taken_back.any():
        return taken_back
    cycle_s = rhythm.sinus_cycle_before_s(beat_s, classes)
    rr_before_s = np.diff(beat_s, prepend=np.nan)
    with np.errstate(invalid="ignore"):
        return taken_back & (rr_before_s >= ON_TIME_SHARE * cycle_s)


def _within_any(episode: rhythm.Episode, spans_s: list[tuple[float, float]]) -> bool:
    return any(start <= episode.start_s and episode.end_s <= end for start, end in spans_s)


def summarise(
    beats: BeatRead,
    evidence: RhythmEvidence,
    intervals: Intervals,
    *,
    recording_facts: tuple[float, float, tuple[str, ...]],
    lead: tuple[int, str],
    model_version: str,
    notes: list[str],
    leads_not_read: tuple[str, ...] = (),
) -> EcgAnalysis:
    """Rhythm episodes, heart rate, findings and notes from the beats: the part of the
    analysis that reads no signal, shared by the whole-record and the chunked analysis.
    `leads_not_read`: the leads left out for their signal (the notes say why)."""
    fs, duration_s, lead_names = recording_facts
    peaks, classes, probabilities = beats.peaks, beats.classes, beats.probabilities
    beat_s = peaks / fs
    # Taking calls back may end a run but never starts one: with its first V call left
    # unclassified, a 4-beat run at 98 bpm would become a 3-beat run at 154 bpm.
    runs_as_called = {
        label: [
            (float(beat_s[first]), float(beat_s[stop - 1]))
            for first, stop in rhythm.run_bounds(beat_s, classes, beat_class, slow)
        ]
        for label, (beat_class, slow) in RUN_CLASS.items()
    }
    called = classes
    # A Mobitz I block's conduction changes: its blocked P waves make no 2:1 block.
    t_end_ms = None if evidence.mobitz_i.cycles_s else intervals.t_end_ms
    two_to_one = two_to_one_spans(evidence.blocked_p_waves, t_end_ms)
    classes, class_notes = reported_classes(
        beat_s, classes, beats.on_swing, beats.in_burst, beats.unmatched, two_to_one
    )
    notes = [*notes, *class_notes]
    block = evidence.mobitz_i
    sinus_conducted = conducted_sinus(beat_s, classes, block) | conducted_sinus(
        beat_s, classes, evidence.mobitz_ii
    )
    if sinus_conducted.any():
        classes = np.where(sinus_conducted, "N", classes)
        notes = [*notes, conducted_sinus_note(int(sinus_conducted.sum()))]
    # Beats the read could not read: unusable signal, or a call taken back as doubtful (it
    # may be artefact, not a beat). No rhythm or rate is read from them.
    # Nor from the waves of ventricular flutter/fibrillation: they are no QRS complexes (five
    # minutes of it had read a mean rate of 187 bpm and a tachycardia finding).
    in_fibrillation = rhythm.within(beat_s, evidence.fibrillation)
    unread = beats.unreadable | ((classes == "Q") & (called != "Q")) | in_fibrillation
    strip = evidence.strip
    if strip is not None:
        strip = with_fibrillation(strip, evidence.fibrillation, duration_s)
        strip = strip_call_with_two_to_one(strip, two_to_one, duration_s)
    detected = rhythm.detect_rhythms(
        beat_s,
        classes,
        duration_s,
        evidence.p_consistency,
        evidence.fibrillation,
        evidence.af_windows,
        unread,
        block.cycles_s,
        mobitz_ii_cycles_s=evidence.mobitz_ii.cycles_s,
        p_waves_may_lack=strip is None and not intervals.shows_p_wave(),
        wide_qrs=wide_qrs_measured(intervals),
        p_waves_absent=intervals.lacks_p_wave_in_every_lead(),
        no_room_for_p_waves=intervals.no_room_for_p_wave(),
        bound_pauses=taken_back_on_time(beat_s, classes, called) & ~beats.unreadable,
        dissociation_spans_s=[(d.start_s, d.end_s) for d in evidence.dissociation],
        silences_s=[(q.start_s, q.end_s) for q in evidence.silences],
        two_to_one_spans_s=[(t.start_s, t.end_s) for t in two_to_one],
        noisy_spans_s=noisy_spans_s(beats.quality, evidence.clear_of_fast_noise),
        p_waves_inverted=strip is None and inverted_p_waves(evidence.p_wave_in_lead_ii, intervals),
        missing_spans_s=evidence.missing,
        missed_complexes_s=evidence.missed_complexes,
    )
    set_aside = evidence.artefact_runs  # a run with beats left unclassified above is shorter
    noise = read_through_noise(beats.quality, evidence.clear_of_fast_noise)
    vt_in_noise = [e for e in detected if e.label == rhythm.VT and noise]
    episodes = rhythm.consolidate(
        [
            e
            for e in detected
            if not (e.label == rhythm.VT and _within_any(e, set_aside))
            and not (e.label in RUN_CLASS and not _within_any(e, runs_as_called[e.label]))
            and e not in vt_in_noise
        ]
    )
    if set_aside:
        notes = [*notes, artefact_runs_note(sorted(set_aside))]
    bridged_note = unclassified_in_svt_note(episodes, beat_s, classes, called)
    if bridged_note:
        notes = [*notes, bridged_note]
    if vt_in_noise:
        notes = [*notes, vt_through_noise_note(vt_in_noise)]
    faint = faint_in_poor_signal(beats.qrs_mv, beats.quality, beat_s)
    episodes, joined = rhythm.join_pauses(episodes, beat_s[faint])
    if joined:
        notes = [*notes, joined_pauses_note(joined)]
    if strip is not None:
        patterns = [
            (e.label, e.start_s, e.end_s)
            for e in episodes
            if e.label in (rhythm.BIGEMINY, rhythm.TRIGEMINY)
        ]
        strip = strip_call_over_a_pattern(strip, patterns, duration_s)
        # Nor under a call that found the P waves inverted in lead II: its episode table
        # listed "Sinus rhythm 1.3-9.3 s" below "Other rhythm ... P waves inverted in lead II"
        # (an audit of the 12-lead path).
        sinus_possible = (
            not rules_out_sinus(strip)
            and not evidence.dissociation
            and INVERTED_P_REASON not in strip.reason
            and not said_on_the_strip(strip)
        )
        episodes = rhythm.strip_episodes(episodes, strip.label, beat_s, sinus_possible)
    # After a strip's call has set its AF: an AF episode the call drops holds no SVT away.
    episodes = rhythm.without_svt_in_af(episodes)
    unusable = bool(beats.quality) and all(s.level == "unusable" for s in beats.quality)
    noise_only = (
        strip is None
        and bool(beats.quality)
        and not unusable
        and good_share(beats.quality, True, evidence.clear_of_fast_noise) < READABLE_GOOD_SHARE
    )
    if noise_only:  # as a strip too noisy to read: no beat-based episode
        episodes = [e for e in episodes if e.label == rhythm.VF]
    normal = (classes == "N") & ~beats.unreadable
    readable_sinus = ~beats.unreadable & _in_sinus_rhythm(beat_s, episodes)
    # Nor from detections the classifier left unclassified in signal that quality calls noisy:
    # more likely noise than heartbeats (a regular 63-bpm strip read a mean of 89, max 145).
    counted = ~unread & ~((called == "Q") & in_poor_signal(beat_s, beats.quality))
    pause_spans = [(e.start_s, e.end_s) for e in episodes if e.label == rhythm.PAUSE]
    between_s = (beat_s[:-1] + beat_s[1:]) / 2  # one per interval between two beats
    paused = rhythm.within(between_s, pause_spans)
    heart_rate = heart_rate_summary(
        peaks, fs, normal & readable_sinus, readable_sinus, counted, paused
    )
    if noise_only:
        heart_rate = rate_not_measurable(
            mostly_noise_reason(beats.quality, evidence.clear_of_fast_noise)
        )
    if heart_rate.mean_bpm is None and np.mean(in_fibrillation) >= FIBRILLATION_STRIP_SHARE:
        heart_rate = rate_not_measurable(FIBRILLATION_RATE_REASON)
    if strip is not None:
        strip = named_by_rate(strip, heart_rate.mean_bpm)
        if strip.label == UNCLASSIFIABLE and strip.features:  # hidden by noise, not too few
            heart_rate = rate_not_measurable(strip.reason)
        elif is_slow_strip_call(strip) and heart_rate.mean_bpm is None:  # beats > 2.5 s apart
            heart_rate = slow_rate(peaks, fs)
        heart_rate = on_a_strip(heart_rate, duration_s)
    in_af = rhythm.within(beat_s, [(e.start_s, e.end_s) for e in episodes if e.label == rhythm.AF])
    intervals = without_pr_in_af(intervals, in_af[normal])
    if noise:
        intervals = low_confidence_through_noise(intervals)
    intervals = without_doubtful_wide_qrs(without_doubtful_long_qt(intervals))
    if block.cycles_s:
        intervals = without_pr_in_mobitz_i(intervals)
    if strip is not None and rules_out_sinus(strip):
        intervals = without_pr_without_p_waves(intervals)
    if any(e.label == rhythm.COMPLETE_BLOCK for e in episodes):
        intervals = without_pr_in_dissociation(intervals)
    af_share = float(np.mean(in_af)) if len(in_af) else 0.0
    one_lead = len(beats.classification_leads) == 1
    if wide_complex_tachycardia(intervals, heart_rate, af_share, one_lead):
        intervals = without_pr_in_wide_complex_tachycardia(intervals)
    conducted = conducted_in_af_strip(classes, None if strip is None else strip.label)
    if conducted.any():
        classes = np.where(conducted, "N", classes)
        notes = [*notes, conducted_note(int(conducted.sum()))]
    counts = {c: int(np.sum(classes == c)) for c in CLASSES}
    mean_probability = (
        {c: float(probabilities[:, i].mean()) for i, c in enumerate(CLASSES)}
        if len(peaks)
        else {c: 0.0 for c in CLASSES}
    )
    if strip is not None:
        # Before the findings: a 10-s strip called sinus tachycardia at 110 bpm had its short
        # sinus stretch read as sinus rhythm there, "No significant arrhythmia", prefilled as
        # a "Normal ECG" the signing rule refuses at that rate (MIT-BIH 215).
        episodes = rhythm.named_as_the_strip(episodes, strip.text, beat_s, classes)
    if strip is not None and strip.label == UNCLASSIFIABLE:
        findings = unreadable_findings(strip.reason, episodes)
    elif strip is None and unusable:
        # A longer recording with no usable stretch had read "Undetermined" with "No
        # significant arrhythmia" at low risk: two minutes of pure noise among them.
        findings = unreadable_findings(unusable_reason([s.reason for s in beats.quality]), episodes)
    elif noise_only:
        findings = unreadable_findings(
            mostly_noise_reason(beats.quality, evidence.clear_of_fast_noise), episodes
        )
    else:
        findings = findings_of_read(
            episodes,
            intervals,
            heart_rate,
            counts,
            classes,
            probabilities,
            af_share,
            one_lead=one_lead,
            other_strip=strip if strip is not None and strip.label == OTHER else None,
            atrial_bpm=atrial_rate_bpm(evidence.dissociation),
            two_to_one_atrial_bpm=atrial_rate_bpm(two_to_one),
            silences=evidence.silences,
            pause_p_waves=evidence.pause_p_waves,
            s_in_af=int(np.sum((classes == "S") & in_af)),
            leads_not_read=leads_not_read,
            through_noise=bool(noise),
            vf_waves=int(np.sum(vf_waves(beat_s, episodes))),
        )
        if noise:
            # Read through noise, nothing is vouched for as normal: cinc2017 A00984, 0 % good
            # signal, read "No significant arrhythmia" beside this (a clinician audit).
            findings = [f for f in findings if f.code != "NORMAL"] + noise
    if strip is not None and may_be_fibrillation(strip):
        # An other-rhythm call with AF's signs does not say "not atrial fibrillation", with or
        # without its finding (a read through noise lists none: cinc2017 A08514, reference AF).
        strip = replace(strip, text=OTHER_AF_NOT_RULED_OUT_TEXT)
    main = main_finding(findings)
    analysis = EcgAnalysis(
        model_version=model_version,
        fs_hz=fs,
        duration_s=duration_s,
        lead_names=lead_names,
        analysis_lead=lead_names[lead[0]],
        analysis_lead_reason=lead[1],
        rhythm_summary=_headline(strip, episodes, main),
        main_finding=main,
        findings=findings,
        episodes=episodes,
        heart_rate=heart_rate,
        intervals=intervals,
        beat_counts=counts,
        class_probability_mean=mean_probability,
        beats=Beats.of(peaks, classes, probabilities),
        quality=beats.quality,
        classification_leads=beats.classification_leads,
        strip=strip,
    )
    analysis.notes = notes + machine_notes(analysis)
    return analysis


# A recording longer than a strip whose signal is good in some lead (`quality.good_share(...,
# in_some_lead=True)`: good, good once the mains hum is notched out, or good in the lead the
# read turns to; 4 min of lead II under 0.4 mV of hum beside a clean V1 are all "noisy") over
# less than this share of it is read as too noisy as a whole, as one with no usable stretch is
# (`mostly_noise_reason`). nstdb's noise recordings, with no ECG in them (baseline wander,
# electrode motion, muscle artefact), are so over 0, 8 and 0 % and read "Atrial
# fibrillation/flutter" and "ventricular tachycardia" at high risk; of the 118 MIT-BIH (DS1
# and paced), svdb and QT Database reads the least good is 31 % (paced 104), nstdb's records
# at -6 dB 56 %.
READABLE_GOOD_SHARE = 0.10


def mostly_noise_reason(
    quality: list[Segment], clear_spans_s: Sequence[tuple[float, float]] = ()
) -> str:
    """What a read says of a longer recording good over less than READABLE_GOOD_SHARE (the
    stretches' own reasons are in its signal quality; `clear_spans_s`: segments noisy only
    from fast noise the beats stand clear of, read as good)."""
    share = good_share(quality, True, clear_spans_s)
    return (
        f"good signal over only {share:.0%} of the recording, noise or artefact elsewhere: too "
        "little to read the rhythm"
    )


def mostly_noise_strip(
    strip: StripCall,
    quality: list[Segment],
    clear_spans_s: Sequence[tuple[float, float]],
    beats: tuple[np.ndarray, float, np.ndarray],
) -> StripCall:
    """The strip's call, unless its signal is good in some lead over less than
    READABLE_GOOD_SHARE of it: then unclassifiable, too noisy, as a longer recording is
    (`mostly_noise_reason`). A strip's signal is vouched for, and its call kept, by a call
    already unclassifiable, the slow call (`strip_rhythm.slow_strip_call`: its few beats in
    good signal) and QRS complexes found alike (`strip_rhythm.qrs_mismatch` at most
    QRS_MISMATCH_FROM_NOISE: beats, not noise, as `af_from_noise` reads them; true AF keeps
    its call, cinc2017 A01363). `beats`: the analysis lead, its rate and the beats found.
    Before, a strip "noisy" in every segment was read: 60 s of nstdb 118e_6 from 780 s, 0 %
    good, read "Other rhythm", ventricular bigeminy and a mean rate of 106 bpm (truth about
    72), where 62 s of it read too noisy."""
    if strip.label == UNCLASSIFIABLE or is_slow_strip_call(strip) or not quality:
        return strip
    if good_share(quality, True, clear_spans_s) >= READABLE_GOOD_SHARE:
        return strip
    if qrs_mismatch(*beats) <= QRS_MISMATCH_FROM_NOISE:
        return strip
    reason = mostly_noise_reason(quality, clear_spans_s)
    return StripCall(UNCLASSIFIABLE, LABEL_TEXT[UNCLASSIFIABLE], reason, None, strip.features)


def _headline(strip: StripCall | None, episodes: list[rhythm.Episode], main: Finding) -> str:
    """The read's rhythm line: a strip's one call (a sinus call with the main finding's VF or
    VT beside it, `rhythm.with_ventricular_run`); a longer recording's dominant rhythm, or
    "Unclassifiable: too noisy" when nothing on it could be read."""
    if strip is not None and strip.label == SINUS_CALL:
        return rhythm.with_ventricular_run(strip.text, episodes, main.label)
    if strip is not None:
        return strip.text
    if main.code == UNREADABLE:
        return main.label
    return rhythm.headline(episodes, main.label)


RHYTHM_LEADS_INSTEAD = ("I", "aVF", "III")  # in this order, where lead II is unreadable


def _rhythm_lead_instead(
    lead_names: tuple[str, ...], leads: list[int], unreadable: int, companion: int
) -> int:
    """The lead to read the rhythm on when `unreadable` is so throughout: the first of
    RHYTHM_LEADS_INSTEAD among the leads read, else `companion`."""
    by_name = {canonical_lead_name(lead_names[i]): i for i in leads if i != unreadable}
    return next((by_name[n] for n in RHYTHM_LEADS_INSTEAD if n in by_name), companion)


def _judge_leads(
    recording: Recording,
    gaps: GapFill,
    leads: list[int],
    peaks: np.ndarray,
    other_peaks: np.ndarray | None,
    hum_hz_by_lead: dict[int, float],
) -> tuple[list[Segment], np.ndarray, np.ndarray]:
    """(quality of the recording, beats, which beats came from the companion lead).

    Each lead is judged with its own beats and its own gaps; the companion only matters
    where the analysis lead is not good, so a clean analysis lead spares judging it."""
    fs = recording.fs_hz
    every_gap_s = [span for index in leads for span in gaps.spans_s([index])]  # cut alike

    def judged(index: int, beats: np.ndarray) -> list[Segment]:
        lead_quality = segment_quality(recording.signal_mv[:, index], fs, beats)
        lead_quality = mark_hum(lead_quality, hum_hz_by_lead.get(index))
        return mark_gaps(lead_quality, gaps.spans_s([index]), every_gap_s)

    first = judged(leads[0], peaks)
    by_lead = {recording.lead_names[leads[0]]: first}
    if len(leads) > 1 and other_peaks is not None and any(s.level != "good" for s in first):
        by_lead[recording.lead_names[leads[1]]] = judged(leads[1], other_peaks)
    swapped = np.zeros(len(peaks), dtype=bool)
    if len(by_lead) == 2 and other_peaks is not None:
        peaks, swapped = _follow_readable_lead(peaks, other_peaks, fs, *by_lead.values())
    return combine_leads(by_lead), peaks, swapped


def _at_edges(
    beat_s: np.ndarray, duration_s: float, gap_spans_s: list[tuple[float, float]]
) -> np.ndarray:
    """Beats in the first or last second, or within a second of missing signal: they lack
    their neighbours and sit in the filters' settling transient (on handheld strips they were
    called V 3-5 times as often as mid-strip). They are left unclassified (Q), and so bound
    no pause."""
    edges = [(-np.inf, EDGE_S), (duration_s - EDGE_S, np.inf)] + [
        (start - EDGE_S, end + EDGE_S) for start, end in gap_spans_s
    ]
    return rhythm.within(beat_s, edges)


def _follow_readable_lead(
    peaks: np.ndarray,
    other: np.ndarray,
    fs_hz: float,
    analysis_quality: list[Segment],
    other_quality: list[Segment],
) -> tuple[np.ndarray, np.ndarray]:
    """Beats of the other lead replace the analysis lead's in stretches where the analysis
    lead is unusable and the other lead good (an electrode pulled on one lead only). Returns
    the beats and which of them came from the other lead."""
    spans = [  # in samples; a segment's end belongs to the next one
        (a.start_s * fs_hz, a.end_s * fs_hz - 0.5)
        for a, b in zip(analysis_quality, other_quality, strict=True)
        if a.level == "unusable" and b.level == "good"
    ]
    if not spans:
        return peaks, np.zeros(len(peaks), dtype=bool)
    kept, taken = peaks[~rhythm.within(peaks, spans)], other[rhythm.within(other, spans)]
    merged = np.concatenate([kept, taken])
    order = np.argsort(merged, kind="stable")
    from_other = np.concatenate([np.zeros(kept.size, bool), np.ones(taken.size, bool)])
    return merged[order], from_other[order]


def _in_sinus_rhythm(beat_s: np.ndarray, episodes: list[rhythm.Episode]) -> np.ndarray:
    """True for beats outside AF, VF and paced/unclassifiable stretches, a Mobitz I or II
    block's long cycles, a 2:1 block and complete AV block: where HRV means something (in AF it
    measures the fibrillation, in a Mobitz block the dropped beats, in a 2:1 block two
    sinus cycles per interval, in complete block an escape rhythm, not the sinus node's
    autonomic tone)."""
    without_sinus_tone = (
        rhythm.AF,
        rhythm.VF,
        rhythm.PACED,
        rhythm.MOBITZ_I,
        rhythm.MOBITZ_II,
        rhythm.TWO_TO_ONE,
        rhythm.COMPLETE_BLOCK,
    )
    excluded = [(e.start_s, e.end_s) for e in episodes if e.label in without_sinus_tone]
    return ~rhythm.within(beat_s, excluded)


MEASURE_NAMES = {"axis": "QRS axis"}  # in the notes; the intervals' keys upper-cased ("PR")


def machine_notes(analysis: EcgAnalysis) -> list[str]:
    """Sentences for the reviewing doctor, in plain words (after the reader's and the gap
    notes, which come from the recording)."""
    notes = [f"Analysed on {analysis.analysis_lead_reason}."]
    if len(analysis.classification_leads) > 1:
        notes.append(
            "Beat types were read from leads "
            + " and ".join(analysis.classification_leads)
            + " together."
        )
    rate = analysis.heart_rate
    if rate.mean_bpm is not None:
        notes.append(
            f"Average heart rate {rate.mean_bpm:.0f} bpm (range "
            f"{rate.min_bpm:.0f}-{rate.max_bpm:.0f})."
        )
    elif rate.rate_reason:
        notes.append(f"Heart rate not measurable: {rate.rate_reason}.")
    summary = analysis.rhythm_summary
    notes.append(f"Main rhythm: {summary[:1].lower()}{summary[1:]}.")  # "AV block" keeps capitals
    flagged = [s for s in analysis.quality if s.level != "good"]
    if flagged:
        seconds = sum(s.end_s - s.start_s for s in flagged)
        notes.append(
            f"Signal quality is reduced for {seconds:.0f} s "
            f"({', '.join(sorted({s.reason for s in flagged}))}); beats in unusable "
            "stretches are marked unclassifiable (Q) rather than guessed."
        )
    by_reason: dict[str, list[str]] = {}
    for name, reason in analysis.intervals.not_measurable.items():
        by_reason.setdefault(reason, []).append(MEASURE_NAMES.get(name, name.upper()))
    for reason, names in by_reason.items():
        if analysis.intervals.n_beats:  # one sentence per reason: "QRS and QT not ..."
            named = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            notes.append(f"{named} not measurable: {reason}.")
    for name, level in analysis.intervals.confidence.items():
        if level == "low":
            notes.append(
                f"{name.upper()} measured with low confidence: check it on the median beat; "
                "no finding is drawn from it."
            )
    if len(analysis.lead_names) == 1:
        notes.append(
            "Single-lead recording: the QRS axis cannot be measured, and the P-wave onset and "
            "T-wave end have no second lead to confirm them, so the PR and QT are of low "
            "confidence."
        )
    notes.append("This is a machine read; a doctor must review and sign it.")
    return notes
