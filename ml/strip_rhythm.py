"""One rhythm call for a short strip (up to 60 s), the way a 10-s 12-lead or a handheld strip is
read in clinic: sinus rhythm, atrial fibrillation/flutter, another rhythm, or unclassifiable
because the strip is too noisy.

Longer recordings are read as episodes (`ml.rhythm`, at least 30 s of AF); a strip is too short
for that, so it is judged as a whole from its RR intervals (how irregular, how unpredictable:
the coefficient of sample entropy of Lake & Moorman 2011), its P waves (are they consistent),
and how alike its beats are (noise). AF is a logistic model of these features; its weights,
the AF threshold and the noise threshold come from `python -m ml.training.strips`
(cross-validation over the PhysioNet/CinC 2017 recordings, one recording per fold member) and
are stored in `ml/model/strip_rule.json` with their out-of-fold figures. Whether a strip that
is neither AF nor too noisy is sinus or another rhythm is, since strip round 6, a second
logistic model of the same features (`OtherRhythmModel`) where the rule file has one, else
the earlier fixed rule (>= 10 % ectopic beats or a rate outside 50-100 bpm).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from ml.atrial import (
    P_BEAT_CLASSES,
    lone_p_waves,
    moved_p_region_guard_s,
    p_region_s,
    p_wave_consistency,
    strip_pattern_irregularity,
)
from ml.dsp import median
from ml.filters import bandpass_mv
from ml.quality import NOISY_BEAT_MISMATCH, Segment, noisy_from_fast_noise
from ml.rhythm import NOISY_SHARE, PAUSE_S, merged_spans, sinus_label, within
from ml.standstill import Silence

# A recording up to this long is a strip with one rhythm call: a 60-s strip, with the fraction
# of a second handheld recorders run over (cinc2017: 9 recordings of 60.2-60.6 s were read as
# episodes, so no call).
STRIP_MAX_S = 61.0
RULE_FILE = Path(__file__).resolve().parent / "model" / "strip_rule.json"
# Longer recordings: the same features on 30-s windows every 15 s, with weights refitted on
# cinc2017 recordings plus MIT-BIH DS1 windows (AF round 1, `python -m ml.training.strips`).
WINDOW_RULE_FILE = RULE_FILE.with_name("af_window_rule.json")
WINDOW_S, WINDOW_HOP_S = 30.0, 15.0
MIN_BEATS = 6
RR_LIMITS_S = (0.2, 3.0)  # intervals outside are missed or double-counted beats, not rhythm
COSEN_TOLERANCE_S = 0.03
BEAT_WINDOW_S = (0.25, 0.45)  # around the R peak: the beat's own P-QRS-T
P_REGION_S = (-0.25, -0.08)  # before the R peak: where the P wave of the median beat is
P_MIN_PRE_RR_S = 0.4  # after shorter intervals the previous T wave fills the P region
P_BAND_HZ = (0.5, 15.0)
# "Other rhythm" when the strip is not AF but not plain sinus either.
OTHER_ECTOPIC_SHARE = 0.10
SINUS_RATE_BPM = (50.0, 100.0)
FEW_BEATS_GOOD_SHARE = 0.8  # of a strip too short of beats: good signal, so truly few beats
# ... counting stretches noisy only from noise above 40 Hz when the beats stand clear of it:
# the largest deflection between them (5-15 Hz, CLEAR_GUARD_S either side of each beat left
# out) under this share of their median. None of cinc2017's 49 strips too noisy to read is
# under 0.35 (their 10th percentile 0.78); 40 % of its normal strips are. At 35-40 bpm, that
# noise weighs more against a segment's few QRS complexes: clean 10-s 12-lead strips of
# marked bradycardia with 0.02-0.04 mV of it read "Unclassifiable: too noisy".
CLEAR_BEATS_SHARE = 0.35
CLEAR_GUARD_S = 0.12
TOO_FEW_TO_JUDGE = "too few to judge the rhythm"  # the slow strip call's words
# Words for what sets an "other rhythm" strip apart (strip round 6's model reads the features;
# these only say which of them depart from sinus rhythm, for the clinician).
IRREGULAR_RR_SHARE = 0.05  # median successive RR difference over the median RR
MODEL_ALONE_REASON = "the features together do not look like plain sinus rhythm to the model"
PAUSE_REASON_SHARE = 0.10  # of the intervals: short ones followed by a long one
NO_P_WAVE_CONSISTENCY = 0.3
# The P-wave features read where the median beat's P wave begins, earlier than by default (a
# long PR), only where the P waves there are at least this consistent (`_where_p_waves_are`):
# the level from which an AF call stops saying "no consistent P wave".
MOVED_P_REGION_CONSISTENCY = 0.5
# Atrial fibrillation is ruled out on a strip, whatever the rule makes of its features, by a
# P wave this consistent before every QRS, or by intervals regular by the strip's own words
# (median successive difference under IRREGULAR_RR_SHARE): clean sinus strips with one pause,
# whose beats around it the classifier calls S, read AF at high risk (the rule's quadratic
# terms extrapolating from that ectopic share, 5 SD beyond its training strips) at P-wave
# consistencies of 0.75-1.00 and successive differences of 3 %. Of the 1,500 cinc2017 strips,
# the 133 in AF reach at most 0.67 and none called AF is above 0.6; of the 127 called AF only
# one is that regular, an "other rhythm" strip.
AF_EXCLUDING_P_WAVE_CONSISTENCY = 0.8
# ... or by intervals that repeat a pattern (`ml.atrial.strip_pattern_irregularity` under
# this: sinus rhythm, bigeminy, trigeminy): a synthetic 60-s 12-lead ventricular bigeminy
# (48 % V, the pattern exact to the millisecond) read AF at 0.58. Of cinc2017's strips called
# AF, none reads under 0.026 (A01828, reference AF); no call there changes.
AF_EXCLUDING_PATTERN_IRREGULARITY = 0.02
# ... or by that P wave where it has room to be seen, alone after the longer half of the
# intervals (`ml.atrial.lone_p_waves`, at AF_EXCLUDING_P_WAVE_CONSISTENCY too): in marked
# sinus arrhythmia the P wave after a short interval rides the previous T wave.
P_AFTER_LONG_FEATURE = "p_wave_consistency_after_long_intervals"

FEATURE_NAMES = (
    "log_pattern_irregularity",
    "log_rmssd_over_rr",
    "log_median_successive_difference_over_rr",
    "p_wave_consistency",
    "ectopic_share",
    "log_rate_bpm",
    "coefficient_of_sample_entropy",
    "share_of_successive_differences_over_50ms",
    "log_beat_residual",
    "log_p_wave_snr",
    "log_p_wave_over_qrs",
)

# AF round 4: how often a short interval is followed by a long one (`premature_then_pause`):
# an ectopic beat's coupling interval and compensatory pause, read from the intervals alone, so
# it holds where the classifier mislabels the beats of an unfamiliar lead.
PAUSE_FEATURE = "premature_then_pause_share"
PREMATURE_RR_RATIO, PAUSE_RR_RATIO = 0.85, 1.10  # of the strip's median RR interval
# Strip round 8: the ectopic share split by beat type. In atrial fibrillation the irregular
# intervals themselves make the classifier call beats S (premature), while V calls are read
# from the beat's shape; one share of both counts the irregularity as ectopy.
SPLIT_ECTOPIC_FEATURES = ("ventricular_share", "supraventricular_share")
ROUND_4_FEATURE_NAMES = (*FEATURE_NAMES, PAUSE_FEATURE)  # what AF rounds 4 to 7 read
STRIP_FEATURE_NAMES = (*ROUND_4_FEATURE_NAMES, *SPLIT_ECTOPIC_FEATURES)  # `strip_features`
# AF round 3: the window model of long recordings may also read how irregular the intervals
# between normal beats are (`nn_irregularity`), computed only when a rule reads it.
NN_FEATURE = "log_nn_successive_difference_over_rr"
KNOWN_FEATURE_NAMES = (*STRIP_FEATURE_NAMES, NN_FEATURE)
SINUS, AF, OTHER, UNCLASSIFIABLE = "sinus", "af", "other", "unclassifiable"
FIBRILLATION = "vf"  # no call of the rule: ventricular flutter/fibrillation fills the strip
LABEL_TEXT = {
    SINUS: "Sinus rhythm",
    AF: "Atrial fibrillation/flutter",
    OTHER: "Other rhythm (not normal sinus rhythm, not atrial fibrillation)",
    UNCLASSIFIABLE: "Unclassifiable: too noisy",
    FIBRILLATION: "Ventricular flutter/fibrillation",
}
# The line of an other-rhythm call whose read says AF is not ruled out (`ml.findings.
# AF_NOT_RULED_OUT`): "not atrial fibrillation" above "atrial fibrillation is not ruled out"
# had said both of MIT-BIH 221's 10 s of AF (a review, 2026-12-07).
OTHER_AF_NOT_RULED_OUT_TEXT = (
    "Other rhythm (not normal sinus rhythm; atrial fibrillation not ruled out)"
)
# A strip at least this much ventricular flutter/fibrillation is called that: its "beats"
# are the oscillation's waves, whose intervals read as AF (a synthetic VF strip did).
FIBRILLATION_STRIP_SHARE = 0.5


@dataclass(frozen=True)
class StripCall:
    """The whole strip's rhythm, why, and the AF model's probability (None if not computed)."""

    label: str
    text: str
    reason: str
    af_probability: float | None
    features: dict[str, float]


LINEAR, QUADRATIC = "linear", "quadratic"  # the terms a rule's logistic model reads


def quadratic_terms(z: np.ndarray) -> np.ndarray:
    """[n, k] standardised features -> [n, k + k + k(k-1)/2]: each feature, its square, and
    the product of every pair (AF round 5: how irregular the rhythm must be to mean AF
    depends on the P waves, the rate and the noise, not on each alone)."""
    first, second = np.triu_indices(z.shape[1], 1)
    return np.column_stack([z, z**2, z[:, first] * z[:, second]])


def logistic_probability(
    features: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray,
    coef: np.ndarray,
    intercept: float,
    terms: str,
) -> np.ndarray:
    """A logistic model of standardised features (QUADRATIC: with their squares and products)."""
    z = (np.atleast_2d(features) - mean) / scale
    if terms == QUADRATIC:
        z = quadratic_terms(z)
    return np.asarray(1.0 / (1.0 + np.exp(-(z @ coef + intercept))))


@dataclass(frozen=True)
class OtherRhythmModel:
    """Strip round 6: of a strip that is neither AF nor too noisy, how likely it is another
    rhythm than sinus, a logistic model of the strip features fitted on the cinc2017 normal and
    other-rhythm recordings, with its threshold. With `rate_limits`, a rate outside
    `SINUS_RATE_BPM` is another rhythm whatever the model says."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    features: tuple[str, ...]
    terms: str = QUADRATIC
    rate_limits: bool = True

    def probability(self, features: dict[str, float]) -> float:
        return float(self.probabilities(np.array([features[f] for f in self.features]))[0])

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Per row of `x` (columns `features`): the probability of another rhythm."""
        return logistic_probability(x, self.mean, self.scale, self.coef, self.intercept, self.terms)

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "terms": self.terms,
            "rate_limits": self.rate_limits,
        }

    @staticmethod
    def from_dict(data: dict[str, object]) -> OtherRhythmModel:
        weights, features, terms = _logistic_from_dict(data)
        threshold = float(data["threshold"])  # type: ignore[arg-type]
        return OtherRhythmModel(*weights, threshold, features, terms, bool(data["rate_limits"]))


def _logistic_from_dict(
    data: dict[str, object],
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, float], tuple[str, ...], str]:
    """((mean, scale, coef, intercept), features, terms) of a rule file's logistic model,
    refused if it reads features or terms this code does not know."""
    features: tuple[str, ...] = tuple(data["features"])  # type: ignore[arg-type]
    terms = str(data.get("terms", LINEAR))
    if not set(features) <= set(KNOWN_FEATURE_NAMES) or terms not in (LINEAR, QUADRATIC):
        raise ValueError("the rule file was fitted on other features; retrain it")
    weights = (
        np.asarray(data["mean"], float),
        np.asarray(data["scale"], float),
        np.asarray(data["coef"], float),
        float(data["intercept"]),  # type: ignore[arg-type]
    )
    return weights, features, terms


@dataclass(frozen=True)
class StripRule:
    """A logistic AF model on standardised features (and, with `terms` QUADRATIC, their
    squares and pairwise products), plus the AF and noise thresholds, and (strip round 6)
    the model that tells another rhythm from sinus, if the rule has one."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    af_threshold: float
    max_log_beat_residual: float
    features: tuple[str, ...] = FEATURE_NAMES  # what the model reads, in order
    terms: str = LINEAR
    other: OtherRhythmModel | None = None
    # Strip round 7: the RR features read only intervals between beats in good signal.
    rr_from_good_signal: bool = False
    # Strip round 9: the beat classes read are those the read reports (after the rules that
    # take doubtful calls back and turn on-time S calls N), not the classifier's first calls.
    reported_classes: bool = False
    # Strip round 10: the RR features read only intervals between two beats the read reports
    # as readable (not Q: unusable signal, the strip's edges, doubtful calls taken back).
    rr_from_readable_beats: bool = False
    # Strip round 11: the P-wave features read only the beats called N or S.
    p_waves_of_n_and_s: bool = False

    def af_probability(self, features: np.ndarray) -> np.ndarray:
        return logistic_probability(
            features, self.mean, self.scale, self.coef, self.intercept, self.terms
        )

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "af_threshold": self.af_threshold,
            "max_log_beat_residual": self.max_log_beat_residual,
            "terms": self.terms,
        }
        if self.other is not None:
            out["other"] = self.other.to_dict()
        out["rr_from_good_signal"] = self.rr_from_good_signal
        out["reported_classes"] = self.reported_classes
        out["rr_from_readable_beats"] = self.rr_from_readable_beats
        out["p_waves_of_n_and_s"] = self.p_waves_of_n_and_s
        return out

    @staticmethod
    def from_dict(data: dict[str, object]) -> StripRule:
        weights, features, terms = _logistic_from_dict(data)
        other = data.get("other")
        return StripRule(
            *weights,
            float(data["af_threshold"]),  # type: ignore[arg-type]
            float(data["max_log_beat_residual"]),  # type: ignore[arg-type]
            features,
            terms,
            OtherRhythmModel.from_dict(other) if isinstance(other, dict) else None,
            bool(data.get("rr_from_good_signal", False)),
            bool(data.get("reported_classes", False)),
            bool(data.get("rr_from_readable_beats", False)),
            bool(data.get("p_waves_of_n_and_s", False)),
        )


_rules: dict[Path, StripRule] = {}


def shipped_rule(path: Path = RULE_FILE) -> StripRule:
    """The rule in `path` (the strip rule by default), read once per process."""
    if path not in _rules:
        _rules[path] = StripRule.from_dict(json.loads(path.read_text())["rule"])
    return _rules[path]


def forget_shipped_rules() -> None:
    """Read the rule files again at next use: a training command that has just written one
    and then reads with it (the window rule's DS2 report had read with the rule it replaced)."""
    _rules.clear()
    window_gates.cache_clear()


def af_window_spans_s(
    lead_mv: np.ndarray,
    fs_hz: float,
    beat_samples: np.ndarray,
    classes: np.ndarray,
    rule: StripRule | None = None,
    starts: Iterable[int] | None = None,
    offset: int = 0,
    bands: Bands | None = None,
) -> list[tuple[float, float]]:
    """The 30-s windows (every 15 s) of a long recording that the window model calls AF.
    (`starts`: only the windows starting there, in samples of `lead_mv`, which begins at
    sample `offset` of the recording: a long recording is read chunk by chunk; `bands`:
    `lead_mv` already band-passed, `Bands.of(lead_mv, fs_hz)`.)"""
    rule = rule or shipped_rule(WINDOW_RULE_FILE)
    gates = window_gates()
    width = round(WINDOW_S * fs_hz)
    return [
        ((start + offset) / fs_hz, (start + offset + width) / fs_hz)
        for start, features in window_features(
            lead_mv, fs_hz, beat_samples, classes, starts, NN_FEATURE in rule.features, bands
        )
        if features is not None
        and call_strip_from_features(features, rule, whole_strip=False).label == AF
        and gates.admit(features)
    ]


def window_starts(n_samples: int, fs_hz: float) -> range:
    """First sample of each 30-s window, every 15 s, of a recording of `n_samples`."""
    width, hop = round(WINDOW_S * fs_hz), round(WINDOW_HOP_S * fs_hz)
    return range(0, max(n_samples - width, 0) + 1, hop)


SUCCESSIVE_FEATURE = "log_median_successive_difference_over_rr"


@dataclass(frozen=True)
class WindowGates:
    """What a window's AF call must also meet to count (None: not used): an ectopic-beat
    share below `max_ectopic_share` (AF round 2: runs of frequent ectopy are irregular without
    being AF), RR intervals irregular beyond `min_successive_difference` (AF round 6:
    log(median successive difference / median RR); a regular rhythm without P waves, paced
    or junctional, is not AF), and a P-wave consistency below `max_p_wave_consistency` (AF
    round 7: a P wave consistent before every QRS is no fibrillation, as on a strip,
    `AF_EXCLUDING_P_WAVE_CONSISTENCY`; also after the longer intervals, `consistent_p_waves`)."""

    max_ectopic_share: float | None = None
    min_successive_difference: float | None = None
    max_p_wave_consistency: float | None = None

    def admit(self, features: dict[str, float]) -> bool:
        ectopic, irregular = self.max_ectopic_share, self.min_successive_difference
        p_waves = self.max_p_wave_consistency
        return (
            (ectopic is None or features["ectopic_share"] < ectopic)
            and (irregular is None or features[SUCCESSIVE_FEATURE] > irregular)
            and (p_waves is None or not consistent_p_waves(features, p_waves))
        )


@lru_cache(maxsize=1)
def window_gates() -> WindowGates:
    """The shipped window rule's gates (`ml/model/af_window_rule.json`)."""
    card = json.loads(WINDOW_RULE_FILE.read_text())
    gates = (
        card.get(name)
        for name in ("max_ectopic_share", "min_successive_difference", "max_p_wave_consistency")
    )
    return WindowGates(*(None if gate is None else float(gate) for gate in gates))


def window_features(
    lead_mv: np.ndarray,
    fs_hz: float,
    beat_samples: np.ndarray,
    classes: np.ndarray,
    starts: Iterable[int] | None = None,
    normal_beat_irregularity: bool = True,
    bands: Bands | None = None,
) -> list[tuple[int, dict[str, float] | None]]:
    """(first sample, strip features) of each 30-s window, every 15 s (the lead is filtered
    once), or of the windows at `starts`; with `normal_beat_irregularity` also NN_FEATURE
    (AF round 3; the analysis asks for it only when its rule reads it). The AF window model
    is fitted on exactly these (`ml.training.af_windows`). `bands`: as for `af_window_spans_s`."""
    width = round(WINDOW_S * fs_hz)
    bands = bands or Bands.of(lead_mv, fs_hz)
    out = []
    for start in window_starts(lead_mv.size, fs_hz) if starts is None else starts:
        lo, hi = np.searchsorted(beat_samples, [start, start + width])
        features = strip_features(
            lead_mv[start : start + width],
            fs_hz,
            beat_samples[lo:hi] - start,
            classes[lo:hi],
            bands.window(start, start + width),
        )
        if features is not None and normal_beat_irregularity:
            features[NN_FEATURE] = nn_irregularity(beat_samples[lo:hi], classes[lo:hi], fs_hz)
        out.append((start, features))
    return out


def nn_irregularity(beat_samples: np.ndarray, classes: np.ndarray, fs_hz: float) -> float:
    """log(median |successive difference| / median) of the series of RR intervals between
    two normal beats (intervals next to an ectopic beat left out). Frequent ectopic beats
    make every interval series irregular; between normal beats sinus rhythm stays regular
    and AF does not. With fewer than MIN_BEATS such intervals, the same figure over all
    intervals (the strip feature log_median_successive_difference_over_rr)."""
    rr_s = np.diff(beat_samples / fs_hz)
    plausible = (rr_s > RR_LIMITS_S[0]) & (rr_s < RR_LIMITS_S[1])
    normal = np.asarray(classes) == "N"
    between_normal = rr_s[normal[:-1] & normal[1:] & plausible]
    if between_normal.size < MIN_BEATS:
        between_normal = rr_s[plausible]
    differences = np.abs(np.diff(between_normal))
    return float(np.log(median(differences) / median(between_normal) + 1e-3))


def premature_then_pause(rr_s: np.ndarray) -> float:
    """Share of RR intervals shorter than PREMATURE_RR_RATIO of the median that are followed
    by one longer than PAUSE_RR_RATIO of it: near 0 in sinus rhythm, high with frequent
    ectopic beats (premature, then a pause), lower and patternless in AF."""
    median_s = median(rr_s)
    short = rr_s[:-1] < PREMATURE_RR_RATIO * median_s
    return float(np.mean(short & (rr_s[1:] > PAUSE_RR_RATIO * median_s)))


def coefficient_of_sample_entropy(
    rr_s: np.ndarray, tolerance_s: float = COSEN_TOLERANCE_S
) -> float:
    """COSEn (Lake & Moorman 2011): sample entropy of the RR series (m = 1) made comparable
    across heart rates and short series; high in AF. Zero matches count as one (short strips)."""

    def matches(length: int) -> int:
        t = np.lib.stride_tricks.sliding_window_view(rr_s, length)
        distance = np.max(np.abs(t[:, None, :] - t[None, :, :]), axis=2)
        return int((distance <= tolerance_s).sum() - len(t))

    a, b = max(matches(2), 1), max(matches(1), 1)
    return float(-np.log(a / b) - np.log(2 * tolerance_s) - np.log(np.mean(rr_s)))


@dataclass(frozen=True)
class Bands:
    """The lead band-passed once for all features: 0.5-40 Hz (beats) and 0.5-15 Hz (P waves).
    A long recording is filtered whole and sliced per window, which is also free of the
    filters' edge transients inside the recording."""

    beats_mv: np.ndarray
    p_waves_mv: np.ndarray

    @staticmethod
    def of(lead_mv: np.ndarray, fs_hz: float) -> Bands:
        return Bands(bandpass_mv(lead_mv, fs_hz), bandpass_mv(lead_mv, fs_hz, P_BAND_HZ))

    def window(self, start: int, stop: int) -> Bands:
        return Bands(self.beats_mv[start:stop], self.p_waves_mv[start:stop])


def beat_residual(band: np.ndarray, fs_hz: float, beat_samples: np.ndarray) -> float:
    """RMS of what is left after subtracting the median beat from every beat, over the median
    beat's RMS: near 0.5 for a clean strip, several times that when noise hides the beats.
    `band`: the lead band-passed 0.5-40 Hz."""
    before, after = (round(s * fs_hz) for s in BEAT_WINDOW_S)
    peaks = beat_samples[(beat_samples >= before) & (beat_samples < band.size - after)]
    if peaks.size < 3:
        return float("inf")
    residual = band.copy()
    template = np.median(band[peaks[:, None] + np.arange(-before, after)], axis=0)
    for peak in peaks:
        residual[peak - before : peak + after] -= template
    return float(np.sqrt(np.mean(residual**2)) / max(np.sqrt(np.mean(template**2)), 1e-6))


def median_p_wave(
    band: np.ndarray,
    fs_hz: float,
    beat_samples: np.ndarray,
    taking_part: np.ndarray | None = None,
    region_s: tuple[float, float] = P_REGION_S,
) -> tuple[float, float]:
    """(log SNR, log amplitude over the QRS) of the P wave of the median beat. Sinus beats
    share one P wave, which averaging keeps; fibrillatory waves are unrelated to the QRS and
    average away. SNR: the P wave's height over the standard error of the median there.
    `band`: the lead band-passed 0.5-15 Hz; `taking_part`: the beats that may (every beat
    when not given); `region_s`: where the P wave is (`ml.atrial.p_region_s`)."""
    moved_s = max(P_REGION_S[0] - region_s[0], 0.0)
    before, after = round((0.30 + moved_s) * fs_hz), round(0.10 * fs_hz)
    pre_rr = np.diff(beat_samples, prepend=-(10**9))
    chosen = np.ones(beat_samples.size, bool) if taking_part is None else taking_part
    peaks = beat_samples[
        chosen
        & (beat_samples >= before)
        & (beat_samples < band.size - after)
        & (pre_rr > (P_MIN_PRE_RR_S + moved_s) * fs_hz)
    ]
    if peaks.size < 4:  # too fast to see a P wave clear of the T wave: none seen
        return 0.0, float(np.log(1e-3))
    beats = band[peaks[:, None] + np.arange(-before, after)]
    reference = slice(before - round(0.02 * fs_hz), before)  # the 20 ms before the R peak
    beats = beats - beats[:, reference].mean(axis=1, keepdims=True)
    median_beat = np.median(beats, axis=0)
    region = slice(before + round(region_s[0] * fs_hz), before + round(region_s[1] * fs_hz))
    wave = median_beat[region] - median(median_beat[region][:3])
    height = float(np.max(np.abs(wave)))
    spread = np.median(np.abs(beats[:, region] - median_beat[region]), axis=0).mean() * 1.4826
    standard_error = float(spread) / np.sqrt(peaks.size)
    qrs = float(np.max(np.abs(median_beat)))
    return (
        float(np.log((height + 1e-6) / (standard_error + 1e-6))),
        float(np.log(height / max(qrs, 1e-6) + 1e-3)),
    )


def _where_p_waves_are(
    p_band_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray | None,
    moved: tuple[float, float],
) -> tuple[tuple[float, float], np.ndarray]:
    """(region, per-beat P-wave consistency there): `P_REGION_S`, or `moved` (the median
    beat's P wave begins earlier, `ml.atrial.p_region_s`) where the P waves there are
    consistent (median at least `MOVED_P_REGION_CONSISTENCY`) and more so than by default.
    A median beat's early "P onset" can be a bump of noise or fibrillatory waves: on cinc2017
    moving the region wherever one was found turned two strips into false or lost AF calls;
    where a long PR puts the P wave there, its consistency there is near 1."""

    def consistency(region_s: tuple[float, float]) -> np.ndarray:
        return p_wave_consistency(
            p_band_mv,
            fs_hz,
            beat_s,
            classes,
            len(beat_s),
            prefiltered=True,
            region_s=region_s,
            min_pre_rr_s=moved_p_region_guard_s(region_s),
        )

    default = consistency(P_REGION_S)
    if moved == P_REGION_S:
        return P_REGION_S, default
    there = consistency(moved)
    if median(there) >= max(MOVED_P_REGION_CONSISTENCY, median(default)):
        return moved, there
    return P_REGION_S, default


def strip_features(
    lead_mv: np.ndarray,
    fs_hz: float,
    beat_samples: np.ndarray,
    classes: np.ndarray,
    bands: Bands | None = None,
    good_spans_s: list[tuple[float, float]] | None = None,
    readable: np.ndarray | None = None,
    p_waves_of_n_and_s: bool = False,
    p_region: tuple[float, float] = P_REGION_S,
) -> dict[str, float] | None:
    """The features `STRIP_FEATURE_NAMES` of one strip, or None with too few beats to judge.
    `bands`: the strip already band-passed (`Bands.of`), else it is filtered here.
    `good_spans_s`: where signal quality is good; the RR features then read only the intervals
    between two beats inside them (`rr_intervals_s`); `readable` (per beat) likewise.
    `p_waves_of_n_and_s` (strip round 11): the P-wave features read only beats of `classes`
    N and S (when at least `MIN_BEATS` are), as the long recordings' beat rule does.
    `p_region`: where the P-wave features look (`ml.atrial.p_region_s`)."""
    beat_s = beat_samples / fs_hz
    rr_s = rr_intervals_s(beat_s, good_spans_s, readable)
    if rr_s.size < MIN_BEATS:
        return None
    successive = np.abs(np.diff(rr_s))
    median_rr_s = median(rr_s)
    bands = bands or Bands.of(lead_mv, fs_hz)
    p_beats = np.isin(classes, P_BEAT_CLASSES) if p_waves_of_n_and_s else None
    if p_beats is not None and p_beats.sum() < MIN_BEATS:
        p_beats = None
    p_classes = None if p_beats is None else classes
    p_region, consistency = _where_p_waves_are(bands.p_waves_mv, fs_hz, beat_s, p_classes, p_region)
    after_long = lone_p_waves(bands.p_waves_mv, fs_hz, beat_s, p_classes, len(beat_s), p_region)
    if p_beats is not None:
        consistency, after_long = consistency[p_beats], after_long[p_beats]
    values = (
        np.log(strip_pattern_irregularity(rr_s) + 1e-3),
        np.log(float(np.sqrt(np.mean(successive**2)) / np.mean(rr_s)) + 1e-3),
        np.log(median(successive) / median_rr_s + 1e-3),
        median(consistency),
        float(np.mean(np.isin(classes, ["S", "V", "F"]))),
        float(np.log(60.0 / median_rr_s)),
        coefficient_of_sample_entropy(rr_s),
        float(np.mean(successive > 0.05)),
        float(np.log(min(beat_residual(bands.beats_mv, fs_hz, beat_samples), 1e3))),
        *median_p_wave(bands.p_waves_mv, fs_hz, beat_samples, p_beats, p_region),
        premature_then_pause(rr_s),
        float(np.mean(np.isin(classes, ["V", "F"]))),
        float(np.mean(classes == "S")),
    )
    return dict(zip(STRIP_FEATURE_NAMES, values, strict=True)) | {
        P_AFTER_LONG_FEATURE: median(after_long)
    }


def rr_intervals_s(
    beat_s: np.ndarray,
    good_spans_s: list[tuple[float, float]] | None = None,
    readable: np.ndarray | None = None,
) -> np.ndarray:
    """The strip's RR intervals that can be rhythm (within `RR_LIMITS_S`). With `good_spans_s`
    (strip round 7), only those whose two beats both lie in good signal, when at least
    `MIN_BEATS` do: a few seconds of motion artefact at a strip's start make false beats whose
    intervals look like atrial fibrillation, while the clean rest of the strip is plain sinus
    rhythm (cinc2017 A01028, A02185), and a reader judges the rhythm where the strip is clean.
    With `readable` (per beat; strip round 10), only those between two readable beats, on the
    same condition: the read's own per-beat judgement, finer than a 10-s quality segment."""
    rr_s = np.diff(beat_s)
    kept = (rr_s > RR_LIMITS_S[0]) & (rr_s < RR_LIMITS_S[1])
    clean_beats = []
    if good_spans_s is not None:
        clean_beats.append(within(beat_s, good_spans_s))
    if readable is not None:
        clean_beats.append(np.asarray(readable, dtype=bool))
    for beats_ok in clean_beats:
        clean = kept & beats_ok[:-1] & beats_ok[1:]
        if clean.sum() >= MIN_BEATS:
            kept = clean
    return rr_s[kept]


def call_strip(
    lead_mv: np.ndarray,
    fs_hz: float,
    beat_samples: np.ndarray,
    classes: np.ndarray,
    rule: StripRule | None = None,
    bands: Bands | None = None,
    good_spans_s: list[tuple[float, float]] | None = None,
    reported_classes: np.ndarray | None = None,
    fast_noise_spans_s: Sequence[tuple[float, float]] = (),
    silences: Sequence[Silence] = (),
    p_onset_s: float | None = None,
) -> StripCall:
    """The strip's rhythm: unclassifiable (too noisy or too few beats), AF, other or sinus.
    `bands`: the strip already band-passed (`Bands.of`), else it is filtered here.
    `good_spans_s`: where signal quality is good, read when the rule says so;
    `fast_noise_spans_s`: where it is noisy only from noise above 40 Hz, `silences`: where
    no QRS complex came (`ml.standstill`), both for `slow_strip_call`.
    `reported_classes`: the classes the read reports, read instead of `classes` (the
    classifier's calls) when the rule says so (strip round 9). `p_onset_s`: where the median
    beat's P wave begins (s from the R peak, `Intervals.p_onset_ms`), which moves the P-wave
    features' region early for a long PR (`ml.atrial.p_region_s`); the rule was fitted with
    the region where it stands by default."""
    rule = rule or shipped_rule()
    spans = good_spans_s if rule.rr_from_good_signal else None
    readable = None
    if rule.rr_from_readable_beats and reported_classes is not None:
        readable = reported_classes != "Q"
    if rule.reported_classes and reported_classes is not None:
        classes = reported_classes
    features = strip_features(
        lead_mv,
        fs_hz,
        beat_samples,
        classes,
        bands,
        spans,
        readable,
        rule.p_waves_of_n_and_s,
        p_region_s(p_onset_s),
    )
    if features is None:
        slow = slow_strip_call(
            lead_mv, fs_hz, beat_samples, good_spans_s, fast_noise_spans_s, silences
        )
        if slow is not None:
            return slow
    good = good_over_the_whole_strip(good_spans_s, len(lead_mv) / fs_hz)
    return call_strip_from_features(features, rule, good_throughout=good)


def good_over_the_whole_strip(
    good_spans_s: Sequence[tuple[float, float]] | None, duration_s: float
) -> bool:
    """True when signal quality finds the whole strip good (`good_spans_s`). The rule's noise
    measure (`beat_residual`) is everything but the repeated beat, 0.5-40 Hz, over the whole
    strip, so one or two baseline swings of 2-3 mV between clean beats outweigh them; quality
    compares each beat with the others, its own level taken out, and a swing hides no beat.
    cinc2017 A00589 and A00781 (reference AF, clean irregular narrow QRS complexes, a swing or
    two) read "Unclassifiable: too noisy ... repeat the recording" beside "100 % of the
    recording is of good quality"."""
    if not good_spans_s:
        return False
    good_s = sum(end - start for start, end in merged_spans(list(good_spans_s)))
    return good_s >= duration_s - 1e-6


def slow_strip_call(
    lead_mv: np.ndarray,
    fs_hz: float,
    beat_samples: np.ndarray,
    good_spans_s: list[tuple[float, float]] | None,
    fast_noise_spans_s: Sequence[tuple[float, float]] = (),
    silences: Sequence[Silence] = (),
) -> StripCall | None:
    """A strip too short of beats to judge (fewer than `MIN_BEATS` intervals) whose signal is
    good over `FEW_BEATS_GOOD_SHARE` of it (its stretches noisy only from noise above 40 Hz
    counted good when the beats stand clear of it, `beats_stand_clear`) and whose intervals
    are slow (under 50 bpm) or hold
    a pause (over `PAUSE_S`) is another rhythm, said with its rate or its pause: a clean 30-s
    strip with a beat every 4 s (15 bpm), and a clean 10-s strip at 70 bpm with a 3.6-s
    pause, read "Unclassifiable: too noisy, repeat the recording" at medium risk, their
    pauses and rate withheld. As another rhythm their findings stand (pauses, a marked
    bradycardia), and the rate is counted from every interval however long
    (`ml.hrv.slow_rate`). None where that does not hold (the strip stays unclassifiable).
    A stretch with no QRS complex (`silences`, which quality may call flat or noisy: nothing
    but noise is there) is read signal, and a pause, also one running to the strip's end
    ("a pause of at least 5.0 s"): a clean 10-s strip of 5 beats and 5 s of flat line read
    "Unclassifiable: too noisy"."""
    if good_spans_s is None or len(beat_samples) < 2:
        return None
    duration_s = len(lead_mv) / fs_hz
    silent = [(q.start_s, q.end_s) for q in silences]
    readable_s = sum(end - start for start, end in merged_spans([*good_spans_s, *silent]))
    short = readable_s < FEW_BEATS_GOOD_SHARE * duration_s
    if short and fast_noise_spans_s and beats_stand_clear(lead_mv, fs_hz, beat_samples):
        readable_s += sum(end - start for start, end in fast_noise_spans_s)
    if readable_s < FEW_BEATS_GOOD_SHARE * duration_s:
        return None
    rr_s = np.diff(beat_samples) / fs_hz
    rate_bpm = 60.0 / median(rr_s)
    few = f"{len(beat_samples)} beats: {TOO_FEW_TO_JUDGE}"
    longest = max(silences, key=lambda q: q.duration_s, default=None)
    if rate_bpm < SINUS_RATE_BPM[0]:
        reason = f"slow ({median_rate(rate_bpm)}), {few}"
    elif longest is not None and longest.duration_s >= rr_s.max():
        at_least = "at least " if longest.open else ""
        reason = f"a pause of {at_least}{longest.duration_s:.1f} s, {few}"
    elif rr_s.max() > PAUSE_S:
        reason = f"a pause of {rr_s.max():.1f} s, {few}"
    else:
        return None
    return StripCall(OTHER, LABEL_TEXT[OTHER], reason, None, {})


def beats_stand_clear(lead_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray) -> bool:
    """True when nothing between the beats comes near them in the QRS band (5-15 Hz): the
    largest deflection more than CLEAR_GUARD_S from every beat (and from the strip's ends,
    where the filter settles) is under CLEAR_BEATS_SHARE of the beats' median. Noise that
    could hide a beat, or a beat the detector missed, would reach it."""
    qrs = np.abs(bandpass_mv(np.asarray(lead_mv, dtype=np.float64), fs_hz, (5.0, 15.0)))
    guard = max(1, int(round(CLEAR_GUARD_S * fs_hz)))
    between = np.ones(qrs.size, dtype=bool)
    between[: 2 * guard], between[-2 * guard :] = False, False
    sizes = []
    for sample in np.asarray(beat_samples, dtype=np.int64):
        lo, hi = max(0, sample - guard), sample + guard + 1
        sizes.append(qrs[lo:hi].max() if hi > lo else 0.0)
        between[lo:hi] = False
    if not between.any():
        return False
    return bool(qrs[between].max() < CLEAR_BEATS_SHARE * median(np.asarray(sizes)))


def clear_of_fast_noise_s(
    lead_mv: np.ndarray,
    fs_hz: float,
    beat_samples: np.ndarray,
    segments: Sequence[Segment],
    offset: int = 0,
) -> list[tuple[float, float]]:
    """The (start, end) of each of `segments` noisy only from noise above 40 Hz
    (`quality.noisy_from_fast_noise`) whose beats, 3 or more, stand clear of it
    (`beats_stand_clear`): their rhythm reads as a good segment's does. `lead_mv` holds the
    analysis lead from sample `offset` on (a chunk of it: a segment is read as far as it
    reaches); `beat_samples` index it.

    Why: a long recording good over under `analysis.READABLE_GOOD_SHARE` reads as too noisy
    as a whole, and two minutes of a clean synthetic rhythm under 0.03 mV of white noise at
    360 Hz, every segment "muscle or mains noise", read "Unclassifiable: too noisy" (nstdb's
    noise recordings, no ECG in them: none of their 87 such segments stands clear)."""
    clear = []
    beat_samples = np.asarray(beat_samples, dtype=np.int64)
    for segment in segments:
        if not noisy_from_fast_noise(segment):
            continue
        lo = max(0, round(segment.start_s * fs_hz) - offset)
        hi = min(len(lead_mv), round(segment.end_s * fs_hz) - offset)
        beats = beat_samples[(beat_samples >= lo) & (beat_samples < hi)] - lo
        if beats.size >= 3 and beats_stand_clear(lead_mv[lo:hi], fs_hz, beats):
            clear.append((segment.start_s, segment.end_s))
    return clear


def unusable_throughout(call: StripCall, reasons: list[str]) -> StripCall:
    """Unclassifiable when signal quality finds no usable stretch anywhere on the strip: the
    rhythm model's noise measure compares beats with each other, and a strip of artefact
    whose detections repeat (cinc2017 A07983: QRS complexes and T waves counted alike, under
    mains hum, reference "too noisy", before `ml.mains` notched such hum out) read "Other
    rhythm: fast (109 bpm)". The call's features are kept, so the rate is withheld as for any
    strip hidden by noise."""
    reason = unusable_reason(reasons)
    return StripCall(UNCLASSIFIABLE, LABEL_TEXT[UNCLASSIFIABLE], reason, None, call.features)


# A strip called AF is not, when signal noisy in every lead (`quality.noisy_spans_s`) covers
# more than `rhythm.NOISY_SHARE` of it, as a long recording's AF episodes are not, and the QRS
# complexes found differ from one another: the median, over the detections, of the RMS of each
# one's QRS (QRS_HALF_WIDTH_S either side of the R peak) minus theirs all, over that median
# QRS's RMS, above the quality rule's NOISY_BEAT_MISMATCH. Electrode motion makes false beats
# and distorts real ones (60-s nstdb 118e*/119e* pieces called AF: 1.2-4.9), while true AF
# keeps its QRS complexes alike however its fast irregular beats make quality's longer beat
# windows differ (cinc2017's 8 AF strips called AF and noisy over half of them or more:
# 0.19-0.37; clean sinus rhythm about 0.1).
QRS_HALF_WIDTH_S = 0.05
QRS_MISMATCH_FROM_NOISE = NOISY_BEAT_MISMATCH


def af_from_noise(
    call: StripCall,
    lead_mv: np.ndarray,
    fs_hz: float,
    beat_samples: np.ndarray,
    noisy_spans_s: Sequence[tuple[float, float]],
) -> StripCall:
    """The call, unless it is AF read from noise (see QRS_MISMATCH_FROM_NOISE): then
    unclassifiable, too noisy. Noise makes any rhythm irregular and hides the P waves; 60-s
    strips of nstdb 118 and 119 (no AF in their reference) under electrode-motion noise, 0 %
    good in every lead, read "Atrial fibrillation/flutter" at high risk, where the 30-min read
    of the same record found no AF."""
    duration_s = len(lead_mv) / fs_hz
    noisy_s = sum(end - start for start, end in merged_spans(list(noisy_spans_s)))
    if call.label != AF or noisy_s <= NOISY_SHARE * duration_s:
        return call
    if qrs_mismatch(lead_mv, fs_hz, beat_samples) <= QRS_MISMATCH_FROM_NOISE:
        return call
    reason = (
        f"signal noisy in every lead over {min(noisy_s / duration_s, 1.0) * 100:.0f} % of the "
        "strip and the QRS complexes found unalike: its irregular intervals may be the noise's"
    )
    return StripCall(UNCLASSIFIABLE, LABEL_TEXT[UNCLASSIFIABLE], reason, None, call.features)


def qrs_mismatch(lead_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray) -> float:
    """How unlike one another the QRS complexes at `beat_samples` are (see
    QRS_MISMATCH_FROM_NOISE); infinite with fewer than 3 whole ones."""
    band = bandpass_mv(np.asarray(lead_mv, dtype=np.float64), fs_hz)
    half = max(1, round(QRS_HALF_WIDTH_S * fs_hz))
    peaks = np.asarray(beat_samples, dtype=np.int64)
    peaks = peaks[(peaks >= half) & (peaks < band.size - half)]
    if peaks.size < 3:
        return float("inf")
    qrs = band[peaks[:, None] + np.arange(-half, half + 1)]
    qrs = qrs - np.median(qrs, axis=1, keepdims=True)
    template = np.median(qrs, axis=0)
    scale = max(float(np.sqrt(np.mean(template**2))), 1e-6)
    return median(np.sqrt(np.mean((qrs - template) ** 2, axis=1)) / scale)


def unusable_reason(reasons: list[str]) -> str:
    """What a read says of a recording whose every stretch is unusable, from their reasons."""
    return f"{', '.join(sorted(set(reasons)))} throughout: no stretch of usable signal"


def holds_the_strip(
    call: StripCall, spans_s: Sequence[tuple[float, float]], duration_s: float
) -> bool:
    """True where what the P waves show (a block, AV dissociation) covers at least half of the
    strip, whose call is then that rhythm's; unreadable and fibrillation calls stay."""
    covered_s = sum(end_s - start_s for start_s, end_s in spans_s)
    return covered_s >= duration_s / 2 and call.label not in (UNCLASSIFIABLE, FIBRILLATION)


# A strip called AF whose ventricular bigeminy or trigeminy covers at least this share of it
# is that pattern's irregularity, as a long recording's AF episodes are (`rhythm`'s
# PATTERNED_AF_SHARE, the same half).
PATTERNED_STRIP_SHARE = 0.5


def strip_call_over_a_pattern(
    call: StripCall, patterns: Sequence[tuple[str, float, float]], duration_s: float
) -> StripCall:
    """The call, unless it is AF and ventricular bigeminy or trigeminy (`patterns`: label,
    start, end) covers at least PATTERNED_STRIP_SHARE of the strip: then another rhythm, said
    as the pattern. AF is irregular without a pattern; a clinician-eye audit read 30 s of
    MIT-BIH 223, its intervals alternating strictly (458-506 ms, then 569-753 ms), as AF at
    high risk, prefilled for signing, where 90 s of the same stretch read VT and no AF."""
    if call.label != AF or not patterns:
        return call
    by_label: dict[str, float] = {}
    for label, start_s, end_s in patterns:
        by_label[label] = by_label.get(label, 0.0) + end_s - start_s
    share = sum(by_label.values()) / max(duration_s, 1e-9)
    if share < PATTERNED_STRIP_SHARE:
        return call
    pattern = max(by_label, key=lambda label: by_label[label]).lower()
    return another_rhythm(
        call,
        f"{pattern} over {min(share, 1.0):.0%} of the strip: its intervals repeat "
        "a pattern, which atrial fibrillation does not",
    )


# A strip called AF whose beats called S come in runs (SVT_RUN_BEATS or more in a row), each
# regular within itself (`svt_run_irregularity` under SVT_RUN_IRREGULARITY), while the intervals
# between the normal beats outside them are regular too (`sinus_irregularity_around` under
# IRREGULAR_RR_SHARE, over at least MIN_BEATS of them), is runs of supraventricular
# tachycardia in sinus rhythm: atrial fibrillation is irregular inside a run as well, and has no
# regular rhythm around it. An electrophysiologist's audit read svdb 840, 640-670 s (a 41-beat
# S run between clear sinus beats), as AF at high risk, its 39 S calls counted as conducted AF
# beats. SVT_RUN_IRREGULARITY is chosen by cross-validation grouped by record on cinc2017,
# MIT-BIH DS1 and svdb strips (see README).
SVT_RUN_BEATS = 3
SVT_RUN_IRREGULARITY = 0.09


def svt_runs(classes: np.ndarray) -> list[tuple[int, int]]:
    """(first, stop) index of each run of SVT_RUN_BEATS or more beats called S in a row."""
    runs, first = [], None
    for index, beat_class in enumerate([*np.asarray(classes).tolist(), ""]):
        if beat_class == "S" and first is None:
            first = index
        elif beat_class != "S" and first is not None:
            if index - first >= SVT_RUN_BEATS:
                runs.append((first, index))
            first = None
    return runs


def svt_run_irregularity(beat_s: np.ndarray, runs: Sequence[tuple[int, int]]) -> float:
    """Median successive RR difference inside the runs (differences within one run only) over
    their median RR; infinite with fewer than 2 differences to judge."""
    intervals_s = [np.diff(beat_s[first:stop]) for first, stop in runs]
    differences = [np.abs(np.diff(rr_s)) for rr_s in intervals_s]
    pooled = np.concatenate(differences) if differences else np.zeros(0)
    if pooled.size < 2:
        return float("inf")
    return median(pooled) / median(np.concatenate(intervals_s))


def sinus_irregularity_around(
    beat_s: np.ndarray, classes: np.ndarray, runs: Sequence[tuple[int, int]]
) -> float:
    """Median successive difference of the RR intervals between two beats called N outside the
    runs, over their median; infinite with fewer than MIN_BEATS such intervals."""
    outside = np.asarray(classes) == "N"
    for first, stop in runs:
        outside[first:stop] = False
    rr_s = np.diff(beat_s)
    kept = outside[:-1] & outside[1:] & (rr_s > RR_LIMITS_S[0]) & (rr_s < RR_LIMITS_S[1])
    if kept.sum() < MIN_BEATS:
        return float("inf")
    return median(np.abs(np.diff(rr_s[kept]))) / median(rr_s[kept])


def strip_call_with_svt_runs(call: StripCall, beat_s: np.ndarray, classes: np.ndarray) -> StripCall:
    """The call, unless it is AF and its S calls are runs of supraventricular tachycardia in a
    regular sinus rhythm (see SVT_RUN_IRREGULARITY): then another rhythm, said as those runs,
    and its S calls stay supraventricular (`ml.conducted_in_af` turns only an AF strip's N)."""
    runs = svt_runs(classes)
    if call.label != AF or not runs:
        return call
    beat_s = np.asarray(beat_s, dtype=np.float64)
    if svt_run_irregularity(beat_s, runs) >= SVT_RUN_IRREGULARITY:
        return call
    if sinus_irregularity_around(beat_s, classes, runs) >= IRREGULAR_RR_SHARE:
        return call
    beats = sum(stop - first for first, stop in runs)
    return another_rhythm(
        call,
        f"supraventricular tachycardia runs ({beats} beats in {len(runs)} run(s)), regular "
        "within each, between regular sinus beats: atrial fibrillation is irregular "
        "throughout",
    )


def another_rhythm(call: StripCall, reason: str) -> StripCall:
    """The strip called another rhythm for `reason`, its features and AF probability kept."""
    return StripCall(OTHER, LABEL_TEXT[OTHER], reason, call.af_probability, call.features)


def with_fibrillation(
    call: StripCall, fibrillation_s: list[tuple[float, float]], duration_s: float
) -> StripCall:
    """The call, unless ventricular flutter/fibrillation (`ml.ventricular_fibrillation`) fills
    at least FIBRILLATION_STRIP_SHARE of the strip: then that is the strip's rhythm, as a
    clinician reads a strip of it, whatever the rule made of the oscillation's waves."""
    share = sum(end - start for start, end in fibrillation_s) / max(duration_s, 1e-9)
    if share < FIBRILLATION_STRIP_SHARE:
        return call
    reason = f"a fast oscillation without QRS complexes over {min(share, 1.0):.0%} of the strip"
    return StripCall(FIBRILLATION, LABEL_TEXT[FIBRILLATION], reason, None, call.features)


def may_be_fibrillation(call: StripCall) -> bool:
    """True for an other-rhythm call whose reason says both "irregular RR intervals" and "no
    consistent P wave": what atrial fibrillation looks like, though the AF rule did not call
    it. An on-call audit: cinc2017 A00015 (reference AF) read so at low risk, "Routine", below
    a normal ECG a risk score had lifted. A call made without the rule's features (too few
    beats: `slow_strip_call`) is not judged."""
    if SUCCESSIVE_FEATURE not in call.features:
        return False
    irregular = successive_share(call.features) >= IRREGULAR_RR_SHARE
    consistency = call.features.get("p_wave_consistency", 1.0)
    return call.label == OTHER and irregular and consistency < NO_P_WAVE_CONSISTENCY


def rules_out_sinus(call: StripCall) -> bool:
    """True for an other-rhythm call whose reason says "no consistent P wave": sinus rhythm has
    one before every QRS, so no stretch of that strip is listed as sinus rhythm (191 cinc2017
    strips listed "Sinus rhythm" under that call)."""
    consistency = call.features.get("p_wave_consistency", 1.0)
    return call.label == OTHER and consistency < NO_P_WAVE_CONSISTENCY


def rules_out_af(features: dict[str, float]) -> bool:
    """A consistent P wave, regular intervals, or intervals repeating a pattern: no atrial
    fibrillation, whatever the rule's probability (AF_EXCLUDING_P_WAVE_CONSISTENCY,
    AF_EXCLUDING_PATTERN_IRREGULARITY)."""
    regular = successive_share(features) < IRREGULAR_RR_SHARE
    patterned = features["log_pattern_irregularity"] < np.log(AF_EXCLUDING_PATTERN_IRREGULARITY)
    return regular or patterned or consistent_p_waves(features, AF_EXCLUDING_P_WAVE_CONSISTENCY)


def consistent_p_waves(features: dict[str, float], threshold: float) -> bool:
    """A P wave at least `threshold` consistent (`p_waves_seen`)."""
    return p_waves_seen(features) >= threshold


def p_waves_seen(features: dict[str, float]) -> float:
    """How consistent the P wave is before every QRS, or after the longer half of the
    intervals (`P_AFTER_LONG_FEATURE`, where computed), whichever is more: what rules AF out.
    (The reasons' "no consistent P wave" still reads every beat, the rule's own feature.)"""
    return max(features.get("p_wave_consistency", 1.0), features.get(P_AFTER_LONG_FEATURE, 0.0))


def is_slow_strip_call(call: StripCall) -> bool:
    """True for the call `slow_strip_call` makes: its beats are real, however far apart."""
    return call.label == OTHER and TOO_FEW_TO_JUDGE in call.reason


def call_strip_from_features(
    features: dict[str, float] | None,
    rule: StripRule,
    whole_strip: bool = True,
    good_throughout: bool = False,
) -> StripCall:
    """The call of a strip (or, `whole_strip=False`, of a long recording's 30-s window, which
    has its own gates, `WindowGates`, instead of `rules_out_af`) from its features.
    `good_throughout`: signal quality finds every stretch of the strip good
    (`good_over_the_whole_strip`), and the noise measure does not overrule it."""
    if features is None:
        return StripCall(
            UNCLASSIFIABLE,
            LABEL_TEXT[UNCLASSIFIABLE],
            f"fewer than {MIN_BEATS + 1} beats could be found",
            None,
            {},
        )
    if features["log_beat_residual"] > rule.max_log_beat_residual and not good_throughout:
        return StripCall(
            UNCLASSIFIABLE,
            LABEL_TEXT[UNCLASSIFIABLE],
            "the beats are hidden by noise or artefact",
            None,
            features,
        )
    probability = float(rule.af_probability(np.array([features[f] for f in rule.features]))[0])
    if probability >= rule.af_threshold and not (whole_strip and rules_out_af(features)):
        return StripCall(
            AF,
            LABEL_TEXT[AF],
            "RR intervals irregular without a pattern"
            + ("" if features["p_wave_consistency"] > 0.5 else ", no consistent P wave"),
            probability,
            features,
        )
    rate_bpm = float(np.exp(features["log_rate_bpm"]))
    if rule.other is None:
        reasons = _departures_from_sinus(features, rate_bpm)
    else:
        reasons = _model_departures(features, rate_bpm, rule.other)
    if reasons:
        return StripCall(OTHER, LABEL_TEXT[OTHER], ", ".join(reasons), probability, features)
    regular = successive_share(features) < IRREGULAR_RR_SHARE
    return StripCall(
        SINUS,
        LABEL_TEXT[SINUS],
        f"regular, {median_rate(rate_bpm)}" if regular else median_rate(rate_bpm),
        probability,
        features,
    )


def median_rate(rate_bpm: float) -> str:
    """The call's rate as its reason prints it, named for what it is: from the median interval,
    the strip's typical beat-to-beat rate, which ectopic beats, pauses and detections in noise
    move less than the mean rate the page shows (27 of 1,500 cinc2017 strips differ by over
    10 %: "fast (110 bpm)" beside a mean of 84 had read as a contradiction)."""
    return f"median rate {rate_bpm:.0f} bpm"


def named_by_rate(call: StripCall, mean_bpm: float | None) -> StripCall:
    """A sinus call named by its rate as a long recording's stretches are (`sinus_label`: a
    strip at 55 bpm said "Sinus rhythm" where two minutes of it said "Sinus bradycardia"),
    when the strip's rate (its reason's, from the median interval) and the mean rate the page
    shows, both as printed, agree on the name; else plain sinus rhythm, which neither
    contradicts."""
    if call.label != SINUS or mean_bpm is None or "log_rate_bpm" not in call.features:
        return call
    strip_bpm = float(np.exp(call.features["log_rate_bpm"]))
    names = {sinus_label(round(bpm)) for bpm in (strip_bpm, mean_bpm)}
    return replace(call, text=names.pop()) if len(names) == 1 else call


def successive_share(features: dict[str, float]) -> float:
    """Median successive RR difference over the median RR (the feature is its log)."""
    return float(np.exp(features[SUCCESSIVE_FEATURE]) - 1e-3)


def _departures_from_sinus(features: dict[str, float], rate_bpm: float) -> list[str]:
    """The fixed rule of rounds 1-5: ectopic beats, or a rate outside sinus limits."""
    reasons = []
    if features["ectopic_share"] >= OTHER_ECTOPIC_SHARE:
        reasons.append(f"{features['ectopic_share']:.0%} ectopic beats")
    if rate_bpm < SINUS_RATE_BPM[0]:
        reasons.append(f"slow ({median_rate(rate_bpm)})")
    if rate_bpm > SINUS_RATE_BPM[1]:
        reasons.append(f"fast ({median_rate(rate_bpm)})")
    return reasons


def _model_departures(
    features: dict[str, float], rate_bpm: float, model: OtherRhythmModel
) -> list[str]:
    """Strip round 6: nothing when the model reads sinus rhythm (and, with its rate limits,
    the rate is within them); else what departs from sinus, in words, or the model's
    probability when no single feature does."""
    probability = model.probability(features)
    outside = not SINUS_RATE_BPM[0] <= rate_bpm <= SINUS_RATE_BPM[1]
    if probability < model.threshold and not (model.rate_limits and outside):
        return []
    reasons = _departures_from_sinus(features, rate_bpm)
    if features[PAUSE_FEATURE] >= PAUSE_REASON_SHARE:
        reasons.append("premature beats followed by pauses")
    if successive_share(features) >= IRREGULAR_RR_SHARE:
        reasons.append("irregular RR intervals")
    if features["p_wave_consistency"] < NO_P_WAVE_CONSISTENCY:
        reasons.append("no consistent P wave")
    # No number here: the model's threshold is below 50 %, and "46 % likely another rhythm"
    # beside an "other rhythm" call would read as a contradiction.
    return reasons or [MODEL_ALONE_REASON]
