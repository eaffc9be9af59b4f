"""PR, QRS, QT, QTc and the frontal QRS axis, measured on the median beat of every lead.

As clinical ECG systems do: beats are aligned on their R peaks, the sample-wise median over many
beats removes noise and ectopy, and the intervals are global (earliest onset, latest offset
across the leads that show a wave clearly). QRS limits come from the spatial velocity (how fast
the signal changes in all leads together); the T end from where the T wave's descent flattens
out, the P onset from where the P wave's upstroke does (slopes relative to their steepest, so
the thresholds hold at any gain). The thresholds are in `IntervalSettings`.

A measurement the algorithm is unsure of is not given as a number: it is None, and
`Intervals.not_measurable` says why in a clinician's words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ml.dsp import resample_poly, savgol_derivative
from ml.einthoven import (
    LIMB_LEADS_DISAGREE,
    augmented_leads_disagree_reason,
    augmented_leads_that_disagree,
    limb_leads_disagree,
)
from ml.lead_reversal import ARMS_SWAPPED, arm_electrodes_swapped
from ml.st_segment import ST_LATE_MS, st_levels_mv
from ml.voltage import limb_qrs_mv, sokolow_lyon_mv

BEFORE_R_S, AFTER_R_S = 0.50, 0.70
MAX_BEATS = 400  # a median over this many beats is already stable; more only costs time
MIN_BEATS = 3
# A median over fewer beats is still noisy: low confidence. With two leads or more, 7, not 10,
# since 2026-12-05: a standard 10-s 12-lead ECG holds 7-9 beats at 50-70 bpm once its edges
# are left out, and no 10-s ECG's PR, QRS or QT was of high confidence, so none made a finding
# (first-degree AV block, wide QRS, long QT). On QT Database 10-s windows (two leads), 7-9
# beats read as close to the cardiologists as 10 or more, 4-6 beats do not (`python -m
# ml.research.few_beat_intervals`). One lead alone keeps 10: unmeasured, and at 7-9 beats two
# cinc2017 strips read a QRS of 140 ms where the strip shows narrow complexes.
FEW_BEATS = 7
FEW_BEATS_ONE_LEAD = 10
# Below this rate one sample spans more than the 10 ms within which PR and QRS are read (the
# IEC 60601-2-25 tolerance): at 50 Hz a normal 90-ms QRS read 120 ms, "wide", at high confidence.
MIN_INTERVALS_FS_HZ = 100.0
# The boundary settings were chosen on the QT Database's 250 Hz; beats sampled more coarsely
# (a 128 Hz Holter) are interpolated to at least this rate first, so a boundary is not rounded
# to a whole coarse sample (synthetic beats at 100-200 Hz: QRS RMS error 6.6-13.3 -> 2.6-5.9 ms).
MEASURE_FS_HZ = 250.0
# A swing this steep (share of the QRS's peak spatial velocity, over noise) within this long
# after a QRS end found is still the QRS (`_qrs_end`); T waves swing at under a tenth.
QRS_RESUMES_FRACTION = 0.25
QRS_RESUMES_WITHIN_S = 0.06
QRS_PROMINENCE = 8.0  # the QRS changes this many times faster than the beat's median (ECGs: 19+)
MIN_T_MV = 0.05  # a smaller T wave is not looked at
P_CONSISTENCY = 2.0  # a P wave stands at least this many times above the beat-to-beat spread
P_SEARCH_S = 0.40  # the P wave is looked for this far before the QRS at most
# A PR over 200 ms (a first-degree AV block) needs its P wave to end in a PR segment at the
# baseline. Where the P wave runs into the QRS (a short PR, pre-excitation), the level just
# before the QRS is the P wave's own, and the search, finding no wave ending there, took a
# stretch of the diastole before it for one: synthetic PRs of 87-100 ms with a P wave of 100
# ms read 318-346 ms, "first-degree AV block" at high confidence. There the signal at the
# onset found lies 0.93-0.95 of the P wave's size off the PR segment's level (zero of the
# centred beat); in the 18 high-confidence PRs over 200 ms of the 1,618 non-DS2 reads at most
# 0.42 (QT Database sel15814). Such a PR is not measurable (`_off_the_pr_segment`), its P
# onset kept as found, as a doubted marked first-degree block's is.
LONG_PR_MS = 200.0
# A PR under this is short: a normal ECG's PR is 120-200 ms, and a short one with a delta wave
# is ventricular pre-excitation (`ml.vocabulary.measurement_contradictions`, `ml.findings`).
SHORT_PR_MS = 120.0
WIDE_QRS_MS = 120  # a QRS this long or longer is wide (`ml.findings`, `ml.narrow_tachycardia`)
PR_SEGMENT_OFF_BASELINE = 0.7
NO_P_WAVE_REASON = "no consistent P wave before the QRS in any lead"
NO_ROOM_FOR_P_REASON = "no room for a P wave between the T wave and the QRS"
NO_PR_SEGMENT_REASON = (
    "no flat PR segment at the baseline between the P onset found ({ms:.0f} ms before the QRS) "
    "and the QRS: the P wave may run into the QRS (a short PR or pre-excitation), or the onset "
    "found is not the P wave's; check the PR on the strip"
)
# Where the previous T wave cuts the P search short (a fast rate), a wave found to begin within
# this of the search's start, after the trace already stood further from the PR baseline than
# anywhere after it, is the far side of a P wave that began inside the T wave (`_under_way`).
# Synthetic sinus tachycardia at 110-165 bpm (1, 2 and 12 leads): every lead so read its PR
# 48-78 ms short (the wave found 6-38 ms from the start); no right one did, nor any QT Database
# record. Before, 10 of 60 fuzzer tachycardias read a PR 30-80 ms short, "PR 122 ms" for 186 at
# high confidence.
P_UNDER_WAY_S = 0.06
# Where the T-wave end is not found, the previous T wave is taken to end no earlier than a QT
# this short for the cycle (QTc by Bazett; short-QT syndrome lies below about 340 ms; 0: not
# assumed): the P search had reached back into the previous beat. A clean narrow-complex
# tachycardia at 190-210 bpm without P waves, whose T wave runs into the next QRS, read its
# previous QRS and T wave as a P wave: "PR 303 ms" at high confidence, "first-degree AV block",
# "sinus tachycardia". QT Database: PR measured in 45 -> 46 of 49 records (sel52 now 192 ms
# against the cardiologists' 216; sel41 284 -> 280 against 252), every other record identical.
SHORTEST_QTC_S = 0.34
# With 3 leads or more showing a P wave, the global P onset is the earliest of those within
# this of the leads' median onset (`_near_the_bulk`): a synthetic 12-lead under 0.8 mV of
# baseline wander had 8 leads agree on the onset and V1 and V2, whose P wave is small, find
# one 100-116 ms earlier on a bump of the baseline: "PR 292 ms, first-degree AV block" at
# high confidence for a PR of 176 ms. Recordings of one or two leads (every database here)
# keep the earliest, their leads' disagreement judged as before. 50 ms let two early leads
# 43-49 ms ahead of the median through on a noisy fuzzer 12-lead (PR 217 ms for 157).
P_ONSET_BULK_LEADS = 3
P_ONSET_FROM_BULK_MS = 30.0
# A lead whose beats differ from their median beat this many times more than the leads' median
# does (with 3 leads or more) or than the other lead's (with 2) is left out of the QRS
# boundaries (one electrode in poor contact): its median beat keeps enough noise to keep the
# spatial velocity from going flat. A synthetic 12-lead with 0.5 mV of noise on one lead read
# "QRS 124 ms, wide QRS" at high confidence for a QRS of 88 ms; a 10-s two-lead strip with it
# on MLII "QRS 164 ms" (spread 43 times V1's). The two leads of the 118 MIT-BIH DS1, svdb and
# QT Database records differ by at most 2.2 times (svdb 868 1.9, qtdb 2.24 at most).
NOISY_LEAD_SPREAD = 5.0
CLEAR_SHARE = 0.5  # a lead shows a wave clearly when it is at least half the largest one
# Where no lead shows a T peak within a QT of 0.5 s x sqrt(RR), the T peak is looked for up to
# this x sqrt(RR), ending `T_PEAK_CLEAR_OF_NEXT_S` before the next QRS (its P wave): a markedly
# long QT. Synthetic 1-, 2- and 12-lead ECGs with a QTc of 440-660 ms at 45-95 bpm read
# "T-wave end not found" in 15 of 60 (and, the P wave then looked for inside the T wave, 3
# false first-degree AV blocks); with QT allowed to 700 ms (`PLAUSIBLE_MS`, 600 before: QTs
# of 608-672 ms were "more likely a measurement error"), 0, and the long-QT finding missed
# on 4 of the 2- and 12-lead ones with a QTc of 500 or more instead of 16 (those 4 measured
# with low confidence, 10-s strips). The QT Database reads identically.
T_PEAK_QTC_S = 0.6
T_PEAK_CLEAR_OF_NEXT_S = 0.2
FLAT_T_SHARE = 0.1  # a T wave under this share of the QRS height is flat: low confidence
# Outside these ranges (ms) a measurement is far more likely an error than a finding.
PLAUSIBLE_MS: dict[str, tuple[float, float]] = {
    "pr": (80, 400),
    "qrs": (60, 200),
    "qt": (250, 700),
}
LABELS = {"pr": "PR", "qrs": "QRS", "qt": "QT"}
# Beyond these an interval is a number only when measured with high confidence: a marked
# first-degree AV block (PR over 300 ms) is a strong claim. Of the 16 PRs over 300 ms in the
# 1,618 reads of MIT-BIH (without DS2), svdb, the QT Database and cinc2017, 15 were of low
# confidence: paced MIT-BIH 104 (and its excerpt sel104, PR 368 ms against the cardiologists'
# 172) and 13 cinc2017 strips whose "P wave" was a 0.02-0.05 mV bump rising over 90-240 ms from
# the start of the P search window, where the strips show none.
SURE_ONLY_ABOVE_MS: dict[str, tuple[float, str]] = {"pr": (300, "a marked first-degree AV block")}
# How the reason of an interval withheld so ends (also a long QT's, `ml.findings`).
WITHHELD_AS_UNSURE = "but it was measured with low confidence"
OUTSIDE_PLAUSIBLE = "more likely a measurement error than a finding"
# A QT on a median beat whose QRS is refused as too long (over `PLAUSIBLE_MS`): the QT starts
# at that QRS's onset and its T wave is looked for after that QRS's end. 10 s of nstdb 119e06
# from 330 s (MIT-BIH 119, QT 411 ms clean) read "QRS found (242 ms) ... more likely a
# measurement error" beside a QT of 503 ms at high confidence and "Prolonged QTc 602 ms" at
# high risk (an electrophysiologist's audit). A QRS refused as too short leaves the QT:
# MIT-BIH 208's 50 ms stands beside a QT of 331 ms.
QT_OF_A_REFUSED_QRS_REASON = (
    "the QT starts at the onset of a QRS found too long to be one ({ms:.0f} ms, over "
    f"{PLAUSIBLE_MS['qrs'][1]:.0f} ms: {OUTSIDE_PLAUSIBLE}), and its T wave is looked for "
    "after that QRS's end"
)
# An interval that the median beats of the even and of the odd beats measure more than this
# (ms) apart from each other or from the median beat of all is of low confidence
# (`_halves_disagree`): it rests on the noise left on the median beat, not on the beats.
# Muscle noise at 18 and 12 dB on MIT-BIH 112 (a slowly descending T wave) moved a T end by
# 30-90 ms and read "Long QT" at high confidence where the clean strip's QT was of low
# confidence or 452-460 ms. Chosen on 220 10-s pieces of MIT-BIH DS1, clean against muscle
# noise at 18 and 12 dB: of the 5 long QTs the noise made, 4 are so caught, and no clean
# long QT is lost (7 of 47 clean high-confidence QTs become low).
# A QRS so measured 15 ms apart: muscle noise at 12 dB on MIT-BIH 122 widened a QRS of 117 ms
# to 133, "Wide QRS complex" at high confidence (halves 131 and 117). On the same DS1 pieces,
# 5 of the 7 wide QRSs the noise made are caught (missed: 122 at 1110 s, 13.9 ms apart, and
# 207 at 1110 s, 11.1), 2 of 34 clean ones lost (108 at 1650 s, 203 at 390 s, whose halves
# read 125/144 and 119/194 ms); at 12 ms 3 are lost, at 20 ms the audit's 122 is missed.
HALVES_AGREE_MS: dict[str, float] = {"qrs": 15, "qt": 40}
# Clear leads whose boundaries differ by more than this (ms) disagree: not measurable.
DISAGREEMENT_MS: dict[str, float] = {"pr": 80, "qt": 80}
LOW_CONFIDENCE_GAP_MS: dict[str, float] = {"pr": 40, "qt": 40}


@dataclass(frozen=True)
class IntervalSettings:
    """The few thresholds that decide where a wave starts or ends: of those that measure
    synthetic beats (exact intervals) within 10 ms, the closest to cardiologists' marks on the
    QT Database, chosen by cross-validation grouped by record
    (`python -m ml.research.intervals_eval --data-dir DIR --cv-folds 5`)."""

    # The QRS lies where the spatial velocity is above these fractions of its peak (over noise).
    qrs_onset_fraction: float = 0.08
    qrs_offset_fraction: float = 0.05
    # ... bounded where the velocity stays below them this long (after the QRS, a shorter dip
    # is a notch inside a wide QRS, a longer one the ST segment).
    qrs_flat_s: float = 0.020
    # The P wave starts where its upstroke slope falls below this fraction of its steepest.
    p_onset_fraction: float = 0.3
    # The T wave ends where its downstroke slope falls below this fraction of its steepest
    # (0: where the tangent at the steepest descent meets the baseline).
    t_end_fraction: float = 0.25
    # The T peak is the turning point farthest from a level this share of the way from the PR
    # baseline (0) to the ST level 60 ms after the QRS (1): with 0, an ST segment depressed
    # below the PR baseline can be taken for an inverted T wave that ends where the T begins.
    t_level_st_share: float = 1.0
    # When a turning point before that one lies on the other side of the level and departs
    # from it by at least this share as much, it is the T peak (None: never): the farthest
    # turning point was then the swing after the T wave, whose end lies 150-200 ms late.
    t_earlier_share: float | None = 0.7
    min_p_mv: float = 0.02


DEFAULT_SETTINGS = IntervalSettings()
# What `measure_intervals` reads: the filtered signal [samples, leads], its rate, the R peaks of
# normal beats, the lead names and the sinus cycle (`normal_rr_s`; research tools capture them
# to try many settings).
MeasureInputs = tuple[np.ndarray, float, np.ndarray, tuple[str, ...], float | None]


def normal_rr_s(peaks: np.ndarray, normal: np.ndarray, fs_hz: float) -> float | None:
    """The sinus cycle that QTc corrects for and that bounds the T wave and the next P wave:
    the median interval between two consecutive normal beats (NN), or, where no two normal
    beats are adjacent (bigeminy), the median interval before a normal beat (Bazett's RR
    preceding the QT). Not the median gap between the normal beats alone: with frequent
    ectopic beats those gaps span them (MIT-BIH 232's normal beats lie 2.98 s apart in the
    median, adjacent ones 1.24 s, and its QTc read 254 ms instead of 394). None with no
    interval before a normal beat."""
    peaks = np.asarray(peaks)
    normal = np.asarray(normal, dtype=bool)
    intervals = np.diff(peaks)
    ends_normal = normal[1:]
    both = ends_normal & normal[:-1]
    chosen = intervals[both] if both.any() else intervals[ends_normal]
    return float(np.median(chosen)) / fs_hz if chosen.size else None


def next_beat_s(peaks: np.ndarray, normal: np.ndarray, fs_hz: float) -> float | None:
    """The median time from a normal beat to the next beat of any class: in bigeminy the
    ectopic beat 0.5 s on, where the sinus cycle (`normal_rr_s`) spans it. None with no normal
    beat followed by another."""
    peaks = np.asarray(peaks)
    follows = np.asarray(normal, dtype=bool)[:-1]
    gaps = np.diff(peaks)[follows]
    return float(np.median(gaps)) / fs_hz if gaps.size else None


# The next QRS starts about this long before its R peak: a T wave is looked for before it.
NEXT_QRS_BEFORE_R_S = 0.06
EARLY_NEXT_BEAT_REASON = (
    "the next beat (an early ectopic beat {ms:.0f} ms after each normal one) comes before "
    "the T wave ends"
)


@dataclass(frozen=True)
class Intervals:
    """Global intervals in ms, None when not measurable (`not_measurable` says why).

    `confidence` holds "high" or "low" for every interval given as a number. "Low" when the
    median beat rests on fewer than FEW_BEATS (7) beats, FEW_BEATS_ONE_LEAD (10) in one lead;
    when only one of several leads shows the wave,
    or the leads' boundaries differ by over 40 ms (over 80 ms is not measurable); when the T
    wave is under a tenth of the QRS in every lead; when the QRS does not start or end on a
    flat line; when the P wave starts right where the previous T wave ends; when the medians of
    the even and of the odd beats measure it apart (`HALVES_AGREE_MS`). Both dictionaries
    are keyed "pr", "qrs", "qt" (the QTc follows the QT); `not_measurable` may also say why
    the QRS axis is not given ("axis": the arm electrodes look swapped, `ml.lead_reversal`;
    leads I, II and III do not add up, or an augmented lead does not match them, `ml.einthoven`).
    """

    rr_ms: float | None
    pr_ms: float | None
    qrs_ms: float | None
    qt_ms: float | None
    qtc_bazett_ms: float | None
    qtc_fridericia_ms: float | None
    qrs_axis_deg: float | None
    n_beats: int
    # Fiducial points relative to the R peak (ms), for drawing on the median beat.
    p_onset_ms: float | None = None
    qrs_onset_ms: float | None = None
    qrs_offset_ms: float | None = None
    t_end_ms: float | None = None
    not_measurable: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, str] = field(default_factory=dict)
    # The ST level of each standard lead after the QRS end, and ST_LATE_MS later (mV;
    # `ml.st_segment`).
    st_mv: dict[str, float] = field(default_factory=dict)
    st_late_mv: dict[str, float] = field(default_factory=dict)
    # S in V1 plus the taller R of V5 and V6 (mV; `ml.voltage`), where those leads are.
    sokolow_lyon_mv: float | None = None
    limb_qrs_mv: float | None = None  # the largest limb-lead QRS (`ml.voltage.limb_qrs_mv`)

    def shows_p_wave(self) -> bool:
        """The median beat holds a P wave at a plausible PR, measured or withheld for doubt
        (a marked first-degree AV block read with low confidence: one lead alone)."""
        if self.p_onset_ms is None or self.qrs_onset_ms is None:
            return False
        return self.qrs_onset_ms - self.p_onset_ms >= PLAUSIBLE_MS["pr"][0]

    def lacks_p_wave_in_every_lead(self) -> bool:
        """No lead's median beat holds a consistent P wave before the QRS (not: the leads
        found one and disagree on its onset, as on svdb 874's sinus rhythm)."""
        return self.not_measurable.get("pr") == NO_P_WAVE_REASON

    def no_room_for_p_wave(self) -> bool:
        """The median beat's T wave ends too near the next QRS to hold a P wave (a fast rate):
        none is seen, and one may hide in the T wave."""
        return self.not_measurable.get("pr") == NO_ROOM_FOR_P_REASON

    def qrs_end_sure(self) -> bool:
        """The QRS measured with high confidence: its end, the J point the ST levels are read
        after, can be trusted (the ST findings ask the same, `ml.findings._st_findings`)."""
        return self.qrs_ms is not None and self.confidence.get("qrs", "high") == "high"

    def st_levels_shown_mv(self) -> dict[str, float]:
        """The ST levels a page may show: none after a QRS end not measured with confidence.
        A clinician-eye audit read "ST level ... II +0.88" beside "QRS not measurable (the QRS
        found (253 ms) ...)": 8.8 mm of apparent ST elevation read inside the T wave."""
        return self.st_mv if self.qrs_end_sure() else {}


def not_measured(reason: str, n_beats: int = 0) -> Intervals:
    """Every interval None, for one reason."""
    return Intervals(
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        n_beats,
        not_measurable=dict.fromkeys((*LABELS, "axis"), reason),
    )


@dataclass(frozen=True)
class Boundary:
    """A wave boundary (sample of the median beat), or why there is none."""

    sample: int | None
    reason: str = ""
    confident: bool = True
    # Where leads found the boundary but disagree (no `sample`), the latest of them: the P
    # wave is looked for after it, not inside a T wave whose end was not measurable.
    latest: int | None = None


def aligned_beats(signal_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray) -> np.ndarray:
    """[beats, window samples, leads]: the beats around `r_peaks` (at most `MAX_BEATS`)."""
    usable = measured_peaks(r_peaks, len(signal_mv), fs_hz)
    return signal_mv[usable[:, None] + beat_offsets(fs_hz)[None, :]]


def measured_peaks(r_peaks: np.ndarray, n_samples: int, fs_hz: float) -> np.ndarray:
    """The R peaks whose beats make the median beat: whole beats inside the recording, at
    most `MAX_BEATS` of them spread evenly over it (a 24-hour recording needs no more)."""
    before, after = int(BEFORE_R_S * fs_hz), int(AFTER_R_S * fs_hz)
    usable = r_peaks[(r_peaks >= before) & (r_peaks + after < n_samples)]
    if len(usable) > MAX_BEATS:
        usable = usable[np.linspace(0, len(usable) - 1, MAX_BEATS).astype(int)]
    return usable


def beat_offsets(fs_hz: float) -> np.ndarray:
    """Samples of a beat's window relative to its R peak."""
    return np.arange(-int(BEFORE_R_S * fs_hz), int(AFTER_R_S * fs_hz))


def beat_to_beat_spread_mv(
    beats: np.ndarray, beat: np.ndarray, start: int, stop: int
) -> np.ndarray:
    """Per lead, how much single beats differ from the median beat between `start` and `stop`
    (a robust SD, each beat's offset removed): small where every beat has the same wave,
    large where the activity is unrelated to the QRS (fibrillatory waves, noise)."""
    deviation = beats[:, start:stop, :] - beat[None, start:stop, :]
    deviation = deviation - np.median(deviation, axis=1, keepdims=True)
    return 1.4826 * np.median(np.abs(deviation), axis=(0, 1))


def measure_intervals(
    signal_mv: np.ndarray,
    fs_hz: float,
    r_peaks: np.ndarray,
    lead_names: tuple[str, ...],
    rr_s: float | None = None,
    settings: IntervalSettings = DEFAULT_SETTINGS,
    next_s: float | None = None,
) -> Intervals:
    """Intervals from a (filtered) signal [samples, leads] and the R peaks of normal beats;
    `rr_s` is the sinus cycle (`normal_rr_s`), else the median gap between those R peaks (right
    when every beat is normal); `next_s` the time to the next beat of any class (`next_beat_s`),
    before which the T wave must end."""
    if len(r_peaks) < MIN_BEATS:
        return not_measured(f"fewer than {MIN_BEATS} normal beats to measure")
    return intervals_of_beats(
        aligned_beats(signal_mv, fs_hz, r_peaks), fs_hz, r_peaks, lead_names, rr_s, settings,
        next_s,
    )  # fmt: skip


def intervals_of_beats(
    beats: np.ndarray,
    fs_hz: float,
    r_peaks: np.ndarray,
    lead_names: tuple[str, ...],
    rr_s: float | None = None,
    settings: IntervalSettings = DEFAULT_SETTINGS,
    next_s: float | None = None,
) -> Intervals:
    """`measure_intervals` from the beats already cut out ([beats, window, leads] at the
    `measured_peaks` of `r_peaks`): a long recording cuts them chunk by chunk."""
    if len(r_peaks) < MIN_BEATS:
        return not_measured(f"fewer than {MIN_BEATS} normal beats to measure")
    if fs_hz < MIN_INTERVALS_FS_HZ:
        return not_measured(
            f"the recording is sampled at {fs_hz:g} Hz, one sample every {1000 / fs_hz:.0f} ms: "
            f"too coarse to measure intervals ({MIN_INTERVALS_FS_HZ:g} Hz or more needed)",
            len(r_peaks),
        )
    if len(beats) == 0:
        return not_measured("no complete normal beat away from the recording's ends", 0)
    r_index = int(BEFORE_R_S * fs_hz)
    if rr_s is None:
        rr_s = float(np.median(np.diff(r_peaks))) / fs_hz
    if fs_hz < MEASURE_FS_HZ:
        beats, fs_hz, r_index = _interpolated(beats, fs_hz, r_index)
    beat = np.median(beats, axis=0)
    qrs_on, qrs_off = _qrs_limits(beat[:, _quiet_leads(beats, beat)], fs_hz, r_index, settings)
    if qrs_on.sample is None or qrs_off.sample is None:
        reason = qrs_on.reason or qrs_off.reason
        return replace(not_measured(reason, len(r_peaks)), rr_ms=rr_s * 1000)
    centred = beat - _pre_qrs_baseline(beat, fs_hz, qrs_on.sample)
    # An early beat of another class after each normal one (bigeminy): the median beat holds
    # it, and the T wave must end before it. MIT-BIH 119's bigeminy read a QT of 642 ms, its
    # "T end" inside the PVC, and a high-risk "Prolonged QTc" (an electrophysiologist's audit).
    next_qrs = None
    if next_s is not None and next_s < 0.9 * rr_s:
        next_qrs = r_index + int((next_s - NEXT_QRS_BEFORE_R_S) * fs_hz)
    t_end = _t_end(centred, fs_hz, qrs_on.sample, qrs_off.sample, rr_s, settings, next_qrs)
    if next_qrs is not None and t_end.sample is None:
        assert next_s is not None
        t_end = Boundary(None, EARLY_NEXT_BEAT_REASON.format(ms=next_s * 1000))
    rr_samples = int(rr_s * fs_hz)
    t_ended = t_end.sample if t_end.sample is not None else t_end.latest
    previous_t_end = None if t_ended is None else t_ended - rr_samples
    p_on = _p_onset(beats, centred, fs_hz, qrs_on.sample, previous_t_end, settings, rr_s)
    next_p_on = None if p_on.sample is None else p_on.sample + rr_samples
    if next_p_on is not None and t_end.sample is not None and t_end.sample > next_p_on:
        # The T wave ends before the next beat's P wave begins.
        stop = next_p_on if next_qrs is None else min(next_p_on, next_qrs)
        t_end = _t_end(centred, fs_hz, qrs_on.sample, qrs_off.sample, rr_s, settings, stop)
    boundaries = {"pr": (p_on, qrs_on), "qrs": (qrs_on, qrs_off), "qt": (qrs_on, t_end)}
    few = FEW_BEATS if beats.shape[2] > 1 else FEW_BEATS_ONE_LEAD
    doubted = {}
    if _off_the_pr_segment(centred, fs_hz, p_on.sample, qrs_on.sample):
        assert p_on.sample is not None
        pr_found_ms = (qrs_on.sample - p_on.sample) * 1000 / fs_hz
        doubted["pr"] = NO_PR_SEGMENT_REASON.format(ms=pr_found_ms)
    if qrs_on.sample is not None and qrs_off.sample is not None:
        qrs_found_ms = (qrs_off.sample - qrs_on.sample) * 1000 / fs_hz
        if qrs_found_ms > PLAUSIBLE_MS["qrs"][1]:
            doubted["qt"] = QT_OF_A_REFUSED_QRS_REASON.format(ms=qrs_found_ms)
    values_ms, reasons, confidence = _judge(boundaries, fs_hz, len(beats) >= few, doubted)
    if len(beats) >= few:
        for name in _halves_disagree(beats, fs_hz, r_index, rr_s, settings, next_qrs, values_ms):
            confidence[name] = "low"
    qt_ms = values_ms["qt"]
    to_ms = 1000.0 / fs_hz

    def relative_ms(boundary: Boundary) -> float | None:
        return None if boundary.sample is None else (boundary.sample - r_index) * to_ms

    axis_deg = _frontal_axis(centred[qrs_on.sample : qrs_off.sample + 1], lead_names)
    swapped = arm_electrodes_swapped(
        centred, lead_names, p_on.sample, qrs_on.sample, qrs_off.sample, t_end.sample
    )
    if swapped:  # the axis read from the swapped leads would be a false extreme right axis
        axis_deg, reasons = None, {**reasons, "axis": ARMS_SWAPPED}
    elif limb_leads_disagree(centred, lead_names, qrs_on.sample, qrs_off.sample):
        # One limb lead upside down or mislabelled (I + III != II): a false axis (`ml.einthoven`)
        axis_deg, reasons = None, {**reasons, "axis": LIMB_LEADS_DISAGREE}
    elif wrong := augmented_leads_that_disagree(centred, lead_names, qrs_on.sample, qrs_off.sample):
        # aVF upside down or swapped read a true +57 degrees as -57 (`ml.einthoven`)
        axis_deg, reasons = None, {**reasons, "axis": augmented_leads_disagree_reason(wrong)}
    elif axis_deg is None:
        reasons = {**reasons, "axis": no_axis_reason(lead_names)}
    return Intervals(
        rr_ms=rr_s * 1000,
        pr_ms=values_ms["pr"],
        qrs_ms=values_ms["qrs"],
        qt_ms=qt_ms,
        qtc_bazett_ms=qt_ms / np.sqrt(rr_s) if qt_ms is not None else None,
        qtc_fridericia_ms=qt_ms / np.cbrt(rr_s) if qt_ms is not None else None,
        qrs_axis_deg=axis_deg,
        n_beats=len(r_peaks),
        p_onset_ms=relative_ms(p_on),
        qrs_onset_ms=relative_ms(qrs_on),
        qrs_offset_ms=relative_ms(qrs_off),
        t_end_ms=relative_ms(t_end),
        not_measurable=reasons,
        confidence=confidence,
        st_mv=st_levels_mv(centred, lead_names, qrs_off.sample, fs_hz),
        st_late_mv=st_levels_mv(centred, lead_names, qrs_off.sample, fs_hz, ST_LATE_MS),
        sokolow_lyon_mv=sokolow_lyon_mv(centred, lead_names, qrs_on.sample, qrs_off.sample),
        limb_qrs_mv=limb_qrs_mv(centred, lead_names, qrs_on.sample, qrs_off.sample),
    )


def _halves_disagree(
    beats: np.ndarray,
    fs_hz: float,
    r_index: int,
    rr_s: float,
    settings: IntervalSettings,
    next_qrs: int | None,
    values_ms: dict[str, float | None],
) -> set[str]:
    """The measured intervals of `HALVES_AGREE_MS` that the median beats of the even and of
    the odd beats do not find, or find more than that apart from each other or from
    `values_ms` (the median beat of all): noise on a median beat can move a boundary, or
    make two leads agree on one, however many beats it holds, and it moves it differently in
    two medians of the same beats, while a wave the beats share stays put."""
    measured = {name for name in HALVES_AGREE_MS if values_ms.get(name) is not None}
    found: dict[str, list[float | None]] = {name: [values_ms[name]] for name in measured}
    for half in (beats[0::2], beats[1::2]):
        half_ms = _qrs_and_qt_ms(half, fs_hz, r_index, rr_s, settings, next_qrs)
        for name in measured:
            found[name].append(half_ms[name])
    disagree = set()
    for name, values in found.items():
        known = [v for v in values if v is not None]
        if len(known) < len(values) or max(known) - min(known) > HALVES_AGREE_MS[name]:
            disagree.add(name)
    return disagree


def _qrs_and_qt_ms(
    beats: np.ndarray,
    fs_hz: float,
    r_index: int,
    rr_s: float,
    settings: IntervalSettings,
    next_qrs: int | None,
) -> dict[str, float | None]:
    """QRS and QT (ms, None where not found) of the median of `beats`, as
    `intervals_of_beats` first finds their boundaries."""
    beat = np.median(beats, axis=0)
    qrs_on, qrs_off = _qrs_limits(beat[:, _quiet_leads(beats, beat)], fs_hz, r_index, settings)
    if qrs_on.sample is None or qrs_off.sample is None:
        return {"qrs": None, "qt": None}
    centred = beat - _pre_qrs_baseline(beat, fs_hz, qrs_on.sample)
    t_end = _t_end(centred, fs_hz, qrs_on.sample, qrs_off.sample, rr_s, settings, next_qrs)
    to_ms = 1000.0 / fs_hz
    qt_ms = None if t_end.sample is None else (t_end.sample - qrs_on.sample) * to_ms
    return {"qrs": (qrs_off.sample - qrs_on.sample) * to_ms, "qt": qt_ms}


def _quiet_leads(beats: np.ndarray, beat: np.ndarray) -> np.ndarray:
    """Per lead, True unless its beats differ from their median `beat` over
    `NOISY_LEAD_SPREAD` times as much as the leads' median does (3 leads or more) or the
    other lead (2 leads)."""
    if beat.shape[1] < 2:
        return np.ones(beat.shape[1], dtype=bool)
    spread_mv = beat_to_beat_spread_mv(beats, beat, 0, beat.shape[0])
    usual_mv = np.min(spread_mv) if beat.shape[1] == 2 else np.median(spread_mv)
    return np.asarray(spread_mv <= NOISY_LEAD_SPREAD * usual_mv)


def _interpolated(beats: np.ndarray, fs_hz: float, r_index: int) -> tuple[np.ndarray, float, int]:
    """The beats [beats, window, leads] band-limited-interpolated by a whole factor to at least
    MEASURE_FS_HZ, with their new rate and R-peak index."""
    factor = math.ceil(MEASURE_FS_HZ / fs_hz)
    # Each end held for the filter's reach (10 input samples), so no step to zero rings.
    edge = 10
    held = np.pad(beats, ((0, 0), (edge, edge), (0, 0)), mode="edge")
    finer = resample_poly(held, factor, 1, axis=1)[:, edge * factor : -edge * factor]
    return finer, fs_hz * factor, r_index * factor


def _judge(
    boundaries: dict[str, tuple[Boundary, Boundary]],
    fs_hz: float,
    enough_beats: bool,
    doubted: dict[str, str] | None = None,
) -> tuple[dict[str, float | None], dict[str, str], dict[str, str]]:
    """Each interval as a number with its confidence, or None with the reason; `doubted`: the
    intervals withheld for a reason their boundaries alone do not show (with that reason),
    their boundaries kept as found."""
    doubted = doubted or {}
    values: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    confidence: dict[str, str] = {}
    for name, (start, end) in boundaries.items():
        values[name] = None
        if start.sample is None or end.sample is None:
            reasons[name] = start.reason or end.reason
            continue
        value_ms = (end.sample - start.sample) * 1000.0 / fs_hz
        low, high = PLAUSIBLE_MS[name]
        if not low <= value_ms <= high:
            reasons[name] = (
                f"the {LABELS[name]} found ({value_ms:.0f} ms) is outside {low:.0f}-{high:.0f} "
                f"ms, {OUTSIDE_PLAUSIBLE}"
            )
            continue
        if name in doubted:
            reasons[name] = doubted[name]
            continue
        sure = start.confident and end.confident and enough_beats
        limit_ms, meaning = SURE_ONLY_ABOVE_MS.get(name, (np.inf, ""))
        if value_ms > limit_ms and not sure:
            reasons[name] = (
                f"the {LABELS[name]} found ({value_ms:.0f} ms) would be {meaning} (over "
                f"{limit_ms:.0f} ms), {WITHHELD_AS_UNSURE}"
            )
            continue
        values[name] = value_ms
        confidence[name] = "high" if sure else "low"
    return values, reasons, confidence


def _pre_qrs_baseline(beat: np.ndarray, fs_hz: float, qrs_on: int) -> np.ndarray:
    """The level of each lead just before the QRS (the PR segment): zero of the T wave."""
    span = int(0.02 * fs_hz)
    if qrs_on <= span + 1:
        return beat[0]
    return np.median(beat[qrs_on - span : qrs_on - 1], axis=0)


def _spatial_velocity(beat: np.ndarray, fs_hz: float) -> np.ndarray:
    """mV/s of all leads together: near zero on isoelectric segments, high inside the QRS."""
    derivative = np.column_stack(
        [_smooth_derivative(beat[:, i], fs_hz, window_s=0.010) for i in range(beat.shape[1])]
    )
    return np.sqrt(np.sum(derivative**2, axis=1))


def _qrs_limits(
    beat: np.ndarray, fs_hz: float, r_index: int, settings: IntervalSettings
) -> tuple[Boundary, Boundary]:
    velocity = _spatial_velocity(beat, fs_hz)
    near = slice(max(0, r_index - int(0.08 * fs_hz)), r_index + int(0.08 * fs_hz))
    peak = near.start + int(np.argmax(velocity[near]))
    noise = float(np.median(velocity))
    if not velocity[peak] > QRS_PROMINENCE * noise:
        absent = Boundary(None, "no QRS complex stands out in the median beat")
        return absent, absent
    height = float(velocity[peak]) - noise
    flat = max(2, int(settings.qrs_flat_s * fs_hz))
    onset = _walk_to_flat(
        velocity, peak, -1, noise + settings.qrs_onset_fraction * height, int(0.15 * fs_hz), flat
    )
    offset = _qrs_end(
        velocity, peak, peak + int(0.20 * fs_hz), noise + settings.qrs_offset_fraction * height,
        noise + QRS_RESUMES_FRACTION * height, flat, int(QRS_RESUMES_WITHIN_S * fs_hz),
    )  # fmt: skip
    if onset is None:
        onset = Boundary(None, "QRS onset not found: the QRS does not start from a flat line")
    if offset is None:
        offset = Boundary(None, "QRS end not found: no flat ST segment after the QRS")
    return onset, offset


def _qrs_end(
    velocity: np.ndarray,
    peak: int,
    limit: int,
    threshold: float,
    resumes_above: float,
    flat: int,
    within: int,
) -> Boundary | None:
    """The QRS end: where the velocity stays under `threshold` for `flat` samples
    (`_walk_to_flat`), unless a swing above `resumes_above` follows within `within` samples,
    from where the walk goes on (up to `limit`). The flat bottom of a broad S wave (right
    bundle branch block in II) stays still for longer than QRS_FLAT_S, and the upstroke after
    it is still the QRS: MIT-BIH 118's RBBB read a "high-confidence" QRS of 83 ms (136 ms from
    the same beats aligned one sample later) and an ST level of -1.2 mV at the bottom of the
    S wave (an electrophysiologist's audit). A T wave never swings this fast."""
    offset = _walk_to_flat(velocity, peak, +1, threshold, limit - peak, flat)
    while offset is not None and offset.sample is not None and offset.confident:
        ahead = velocity[offset.sample + 1 : min(limit, offset.sample + within)]
        steep = np.flatnonzero(ahead > resumes_above)
        if len(steep) == 0:
            break
        restart = offset.sample + 1 + int(steep[0])
        offset = _walk_to_flat(velocity, restart, +1, threshold, limit - restart, flat)
    return offset


def _walk_to_flat(
    velocity: np.ndarray, start: int, step: int, threshold: float, limit: int, flat: int
) -> Boundary | None:
    """From `start`, walk until the signal is flat (below threshold for `flat` samples) and
    return the last sample inside the wave. If it never goes flat within `limit` samples (a P
    wave running into the QRS), the quietest sample on the way, with low confidence."""
    stop = start + step * limit
    stop = min(max(stop, 1), len(velocity) - 2)
    path = np.arange(start + step, stop + step, step)
    if len(path) == 0:
        return None
    below = 0
    for position in path:
        below = below + 1 if velocity[position] < threshold else 0
        if below >= flat:
            return Boundary(int(position - step * flat))
    quietest = int(path[np.argmin(velocity[path])])
    if velocity[quietest] >= 2 * threshold:
        return None
    return Boundary(quietest, confident=False)


def _p_onset(
    beats: np.ndarray,
    centred: np.ndarray,
    fs_hz: float,
    qrs_on: int,
    previous_t_end: int | None,
    settings: IntervalSettings,
    rr_s: float | None = None,
) -> Boundary:
    """The earliest onset among the leads whose P wave is consistent from beat to beat (at
    least `P_CONSISTENCY` times the beat-to-beat spread): in atrial fibrillation no lead is.
    It is looked for up to `P_SEARCH_S` before the QRS and after the previous T wave (where
    no T-wave end was found, after a QT of `SHORTEST_QTC_S` for the cycle `rr_s`); a lead
    whose P wave began inside that T wave (`_under_way`) shows no onset."""
    longest = max(0, qrs_on - int(P_SEARCH_S * fs_hz))
    if previous_t_end is None and rr_s is not None and SHORTEST_QTC_S > 0:
        previous_t_end = qrs_on + int((SHORTEST_QTC_S * math.sqrt(rr_s) - rr_s) * fs_hz)
    start = longest if previous_t_end is None else max(longest, previous_t_end + int(0.02 * fs_hz))
    stop = qrs_on - int(0.02 * fs_hz)
    if stop - start < int(0.06 * fs_hz):
        return Boundary(None, NO_ROOM_FOR_P_REASON)
    spread_mv = beat_to_beat_spread_mv(beats, centred, start, stop)
    onsets = []
    under_way = 0
    for lead in range(centred.shape[1]):
        found = _wave_start(centred[start:stop, lead], fs_hz, settings.p_onset_fraction)
        if found is not None and found[1] >= max(
            settings.min_p_mv, P_CONSISTENCY * spread_mv[lead]
        ):
            if start > longest and _under_way(centred[start:stop, lead], found[0], fs_hz):
                under_way += 1
                continue
            onsets.append(start + found[0])
    if not onsets and under_way:
        return Boundary(
            None,
            "the P wave, if any, begins before the preceding T wave has ended: "
            "its onset cannot be seen",
        )
    if not onsets:
        return Boundary(None, NO_P_WAVE_REASON)
    onset = _global(onsets, fs_hz, earliest=True, wave="P-wave onset", name="pr")
    if onset.sample is not None and onset.sample < start + int(0.02 * fs_hz):
        # The wave may have begun before the search window did.
        if start == longest:
            return Boundary(
                None,
                f"the P wave may begin more than {P_SEARCH_S * 1000:.0f} ms before the QRS, "
                "beyond where it is looked for",
            )
        return replace(onset, confident=False)
    return onset


def _off_the_pr_segment(centred: np.ndarray, fs_hz: float, p_on: int | None, qrs_on: int) -> bool:
    """True when a P onset over `LONG_PR_MS` before the QRS lies off the PR segment's level
    (zero of `centred`) by `PR_SEGMENT_OFF_BASELINE` of the wave's size between it and the
    QRS, in the lead where that wave is largest: no PR segment at the baseline."""
    if p_on is None or (qrs_on - p_on) * 1000 / fs_hz <= LONG_PR_MS:
        return False
    stop = qrs_on - int(0.02 * fs_hz)
    size = np.max(np.abs(centred[p_on:stop]), axis=0)
    lead = int(np.argmax(size))
    return bool(abs(centred[p_on, lead]) >= PR_SEGMENT_OFF_BASELINE * max(size[lead], 1e-9))


def _under_way(trace: np.ndarray, onset: int, fs_hz: float) -> bool:
    """True when the wave found in `trace` (a P search the previous T wave cut short) begins
    within `P_UNDER_WAY_S` of its start and the trace departs furthest from the PR baseline
    before that onset: the P wave had begun before the search did, and what was found is its
    far side."""
    return onset <= P_UNDER_WAY_S * fs_hz and int(np.argmax(np.abs(trace))) < onset


def _wave_start(trace: np.ndarray, fs_hz: float, fraction: float) -> tuple[int, float] | None:
    """(onset sample, amplitude mV) of the largest wave of `trace`: the turning point farthest
    from the chord between the trace's ends (so a sloping segment is no wave); the onset is
    where the upstroke's slope falls below `fraction` of its steepest. None if there is no
    turning point or the wave starts before the trace does."""
    deviation = trace - np.linspace(trace[0], trace[-1], len(trace))
    turning = _turning_points(trace)
    if len(turning) == 0:
        return None
    peak = int(turning[np.argmax(np.abs(deviation[turning]))])
    amplitude = float(deviation[peak])
    if peak < 3:
        return None
    rising = np.sign(amplitude) * _smooth_derivative(deviation, fs_hz, window_s=0.020)[:peak]
    steepest = int(np.argmax(rising))
    if rising[steepest] <= 0:
        return None
    flat = np.nonzero(rising[:steepest] < fraction * rising[steepest])[0]
    if len(flat) == 0:
        return None
    return int(flat[-1]) + 1, abs(amplitude)


def _t_end(
    centred: np.ndarray,
    fs_hz: float,
    qrs_on: int,
    qrs_off: int,
    rr_s: float,
    settings: IntervalSettings,
    stop_at: int | None = None,
    peak_by_s: float | None = None,
) -> Boundary:
    """The latest T end among the leads with a clear T wave. The T peak is looked for where a
    QT of up to 0.5 s x sqrt(RR) puts it (or up to `peak_by_s`), so the next beat's P wave is
    not taken for it; where no lead has one there, up to `T_PEAK_QTC_S` x sqrt(RR) while
    `T_PEAK_CLEAR_OF_NEXT_S` before the next QRS (a markedly long QT)."""
    if peak_by_s is None:
        usual_s = 0.5 * np.sqrt(rr_s)
        first = _t_end(centred, fs_hz, qrs_on, qrs_off, rr_s, settings, stop_at, usual_s)
        longest_s = min(T_PEAK_QTC_S * np.sqrt(rr_s), rr_s - T_PEAK_CLEAR_OF_NEXT_S)
        if first.sample is not None or longest_s <= usual_s:
            return first
        later = _t_end(centred, fs_hz, qrs_on, qrs_off, rr_s, settings, stop_at, longest_s)
        return later if later.sample is not None else first
    start = qrs_off + int(0.06 * fs_hz)
    peak_stop = min(len(centred) - 1, qrs_on + int(peak_by_s * fs_hz))
    stop = min(len(centred) - 1, qrs_on + int(min(0.70 * np.sqrt(rr_s), 0.9 * rr_s) * fs_hz))
    if stop_at is not None:
        stop = min(stop, stop_at)
    if min(peak_stop, stop) - start < int(0.06 * fs_hz):
        return Boundary(None, "the beat is too short to hold a T wave")
    ends, amplitudes, flat = [], [], []
    qrs_height_mv = np.ptp(centred[qrs_on : qrs_off + 1], axis=0)
    for lead in range(centred.shape[1]):
        trace = centred[start:stop, lead]
        found = _t_peak(
            trace[: peak_stop - start], settings.t_level_st_share, settings.t_earlier_share
        )
        if found is None:
            continue
        peak, sign = found
        falling = sign * trace[peak:]  # positive until the wave is back at the baseline
        if falling[0] < MIN_T_MV:
            continue
        end = _wave_end(falling, fs_hz, settings.t_end_fraction)
        if end is not None:
            ends.append(start + peak + end)
            amplitudes.append(float(falling[0]))
            flat.append(falling[0] < FLAT_T_SHARE * qrs_height_mv[lead])
    if not ends:
        return Boundary(None, "T-wave end not found in any lead")
    clear = [e for e, a in zip(ends, amplitudes, strict=True) if a >= CLEAR_SHARE * max(amplitudes)]
    end_of_t = replace(
        _global(clear, fs_hz, earliest=False, wave="T-wave end", name="qt"), latest=int(max(clear))
    )
    # A T wave under a tenth of the QRS in every lead: its end is hard to see, even by eye.
    return replace(end_of_t, confident=False) if all(flat) else end_of_t


def _t_peak(
    trace: np.ndarray, st_share: float, earlier_share: float | None = None
) -> tuple[int, float] | None:
    """(index, sign) of the T peak: the turning point farthest from a level `st_share` of the
    way from the PR baseline to the trace's start (the ST level). A turning point, not merely
    the largest value, so that a depressed ST segment sloping into the window's edge is not
    taken for the T wave. With `earlier_share`, an earlier turning point on the other side of
    the level that departs from it at least that share as much is taken instead: a T wave
    followed by a deeper swing (a U wave, a filter's undershoot). The sign is the peak's side
    of the PR baseline, which the wave's end returns to."""
    turning = _turning_points(trace)
    if len(turning) == 0:
        return None
    departure_mv = trace[turning] - st_share * trace[0]
    chosen = int(np.argmax(np.abs(departure_mv)))
    if earlier_share is not None:
        before = departure_mv[:chosen]
        wave_before = np.nonzero(
            (np.sign(before) == -np.sign(departure_mv[chosen]))
            & (np.abs(before) >= earlier_share * abs(departure_mv[chosen]))
        )[0]
        if len(wave_before):
            chosen = int(wave_before[np.argmax(np.abs(before[wave_before]))])
    peak = int(turning[chosen])
    return peak, float(np.sign(trace[peak]) or 1.0)


def _turning_points(trace: np.ndarray) -> np.ndarray:
    """Indices where the trace changes direction: the peaks and troughs of its waves."""
    return np.nonzero(np.diff(np.sign(np.diff(trace))) != 0)[0] + 1


def _wave_end(falling: np.ndarray, fs_hz: float, fraction: float) -> float | None:
    """Samples from a wave's peak to its end; `falling` is positive until the wave is over.
    With `fraction` 0, where the tangent at the steepest descent meets the baseline; else
    where the descent's slope falls below `fraction` of its steepest. Only the descent counts:
    the search stops where the signal turns back up (the next wave)."""
    if len(falling) < 3:
        return None
    # mV/s toward the baseline; a Savitzky-Golay derivative keeps noise from faking a slope.
    slope = -_smooth_derivative(falling, fs_hz)
    over = np.nonzero(falling <= 0.02 * falling[0])[0]
    # Turning back up by a tenth of the wave's height: the next wave, not a wiggle.
    rising_again = np.nonzero(falling - np.minimum.accumulate(falling) > 0.1 * falling[0])[0]
    last = min(
        int(over[0]) + 2 if len(over) else len(falling),
        int(rising_again[0]) if len(rising_again) else len(falling),
    )
    descent = slope[: max(2, last)]
    steepest = int(np.argmax(descent))
    if descent[steepest] <= 0:
        return None
    if fraction <= 0:
        end = steepest + float(falling[steepest]) / float(descent[steepest]) * fs_hz
    else:
        end = _first_crossing(slope[steepest:], fraction * descent[steepest]) + steepest
    # An end at the edge of the search is a wave still under way: not found.
    return end if end < len(falling) - int(0.02 * fs_hz) else None


def _first_crossing(values: np.ndarray, threshold: float) -> float:
    """Where `values` (starting above `threshold`) first fall below it, interpolated between
    samples; infinity if they never do."""
    below = np.nonzero(values < threshold)[0]
    if len(below) == 0:
        return np.inf
    k = int(below[0])
    if k == 0:
        return 0.0
    return k - 1 + float(values[k - 1] - threshold) / float(values[k - 1] - values[k])


def _global(
    positions: Sequence[float], fs_hz: float, earliest: bool, wave: str, name: str
) -> Boundary:
    """The earliest onset (or latest end) among the leads that show the wave clearly, if
    another such lead backs it: None when the next one is more than `DISAGREEMENT_MS` away,
    low confidence when it is over `LOW_CONFIDENCE_GAP_MS` away or when only one lead shows
    the wave, a single-lead recording's included: high confidence is earned by a second lead
    that agrees. On the QT Database's 2-lead records, the reads that earn it differ from the
    cardiologists' by PR -1.3 +- 15.6 ms (39 records) and QT -8.0 +- 11.2 ms (21); a lead
    alone, whose every read was high confidence before, by PR -2.4 +- 30.3 / -3.0 +- 19.8 ms
    and QT -19.1 +- 22.9 / -17.5 +- 22.6 ms (first / second lead; `python -m
    ml.research.single_lead_intervals`)."""
    ordered = sorted(positions, reverse=not earliest)
    if name == "pr" and len(ordered) >= P_ONSET_BULK_LEADS:
        ordered = _near_the_bulk(ordered, fs_hz)
    gap_ms = abs(ordered[1] - ordered[0]) * 1000.0 / fs_hz if len(ordered) > 1 else 0.0
    if gap_ms > DISAGREEMENT_MS[name]:
        return Boundary(None, f"the leads disagree on the {wave} by {gap_ms:.0f} ms")
    backed = len(ordered) > 1
    return Boundary(
        int(round(ordered[0])), confident=backed and gap_ms <= LOW_CONFIDENCE_GAP_MS[name]
    )


def _near_the_bulk(ordered: list[float], fs_hz: float) -> list[float]:
    """The P onsets (earliest first) no more than P_ONSET_FROM_BULK_MS before their median:
    one lead's P onset that far ahead of most leads' is a bump of the baseline before a small
    P wave, not the P wave's start."""
    median_onset = float(np.median(ordered))
    return [p for p in ordered if median_onset - p <= P_ONSET_FROM_BULK_MS * fs_hz / 1000.0]


def _smooth_derivative(trace: np.ndarray, fs_hz: float, window_s: float = 0.016) -> np.ndarray:
    """d/dt in units per second, by a Savitzky-Golay fit over `window_s` (noise-robust)."""
    window = max(5, int(window_s * fs_hz) | 1)
    if len(trace) < 2:
        return np.zeros(len(trace))
    if len(trace) <= window:
        return np.gradient(trace) * fs_hz
    return savgol_derivative(trace, window, polyorder=2) * fs_hz


def no_axis_reason(lead_names: tuple[str, ...]) -> str:
    """Why a recording has no frontal QRS axis: a Holter's MLII and V1, or a handheld's one
    lead, do not span the frontal plane (a dash on the report would read as an omission)."""
    if any(pair <= set(lead_names) for pair in ({"I", "aVF"}, {"I", "II"}, {"II", "III"})):
        return "the QRS has no net deflection in the limb leads"
    return (
        "the frontal axis needs two limb leads (I and aVF, I and II, or II and III); this "
        "recording has " + (", ".join(lead_names) if lead_names else "no named lead")
    )


def _frontal_axis(qrs: np.ndarray, lead_names: tuple[str, ...]) -> float | None:
    """Degrees from the net QRS areas of leads I and aVF (derived from II/III if needed)."""
    area = {name: float(np.sum(qrs[:, i])) for i, name in enumerate(lead_names)}
    lead_i = area.get("I")
    lead_avf = area.get("aVF")
    if lead_i is None and "II" in area and "III" in area:
        lead_i = area["II"] - area["III"]
    if lead_avf is None and "II" in area and lead_i is not None:
        lead_avf = area["II"] - lead_i / 2
    if lead_i is None or lead_avf is None or (lead_i == 0 and lead_avf == 0):
        return None
    # aVF = (II + III) / 2 is sqrt(3)/2 times the projection on the 90 degree axis.
    return float(np.degrees(np.arctan2(lead_avf * 2 / np.sqrt(3), lead_i)))
