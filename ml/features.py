"""Model inputs for each beat: a morphology window and patient-normalised rhythm features.

Everything model-specific (resampling, filtering, amplitude normalisation) happens here, from
the raw single-lead signal in mV and R-peak indices, so training and inference are identical.
Inter-patient generalisation comes from normalising to the patient's own rhythm and beat shape.
The rhythm reference is the patient's *sinus cycle*, estimated as a high percentile of the RR
intervals around the beat (5-minute window, and the whole record). Premature beats only ever
shorten intervals, so the long end of the distribution stays the sinus cycle even when most
beats are ectopic, where a local mean or a median would call the ectopic rate "normal"
(frequent atrial ectopy, runs). The template (dominant normal morphology) is the median of the
beats that are not premature against that reference. An atrial-fibrillation context feature
(how irregular the RR sequence is over about a minute, allowing for the repeating patterns of
bigeminy and trigeminy) lets the model tell AF's irregular RR from prematurity (AAMI labels
beats in AF as N).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.atrial import p_wave_consistency, pattern_irregularity
from ml.dsp import percentile
from ml.filters import bandpass_mv, resample
from ml.stretches import beat_stretches

MODEL_FS_HZ = 360
WINDOW_BEFORE_S = 0.25
WINDOW_AFTER_S = 0.40
WINDOW_DECIMATION = 2  # the window is stored at 180 Hz: the band ends at 40 Hz, halves the model
BAND_HZ = (0.5, 40.0)
REALIGN_S = 0.04  # peaks are moved to the largest |deflection| within this, so detectors agree
AMPLITUDE_HALF_WIDTH_S = 0.05
QRS_REGION_S = (-0.10, 0.10)
P_REGION_S = (-0.25, -0.08)
T_REGION_S = (0.15, 0.40)
QRS_WIDTH_LEVEL = 0.5  # QRS width: time the beat spends beyond half its QRS peak
LOCAL_BEATS = 10  # local rhythm: the 10 beats either side
LONG_WINDOW_S = 150.0  # long-term rhythm: a 5-minute window centred on the beat
# The sinus cycle is this percentile of the RR intervals: it stays on sinus intervals while
# up to ~80 % of the intervals are shortened by ectopic beats (chosen a priori, round 4).
SINUS_RR_PERCENTILE = 80.0
SINUS_GRID_S = 5.0  # the 5-minute reference barely moves in 5 s
AF_CONTEXT_BEATS = 60  # AF context: RR irregularity over the ~60 beats around the beat
# Beats whose RR before them is at least this fraction of the sinus cycle are "not premature"
# and make up the template; below it a beat may be ectopic (S or V).
TEMPLATE_MIN_PRE_OVER_SINUS = 0.85
TEMPLATE_MIN_BEATS = 10  # fewer non-premature beats than this: fall back to all beats
TEMPLATE_COLUMNS = 8  # the template's median is taken this many window samples at a time
DEFAULT_RR_S = 0.8  # used only when a signal holds a single beat

_BEFORE = round(WINDOW_BEFORE_S * MODEL_FS_HZ)
_AFTER = round(WINDOW_AFTER_S * MODEL_FS_HZ)
_OFFSETS = np.arange(-_BEFORE, _AFTER, WINDOW_DECIMATION)
# The model window is the beat followed by its difference from the record's median beat:
# the second half says how this beat departs from the patient's own dominant morphology.
WINDOW_SAMPLES = 2 * int(_OFFSETS.size)
_QRS = (QRS_REGION_S[0] * MODEL_FS_HZ <= _OFFSETS) & (QRS_REGION_S[1] * MODEL_FS_HZ >= _OFFSETS)
_P = (P_REGION_S[0] * MODEL_FS_HZ <= _OFFSETS) & (P_REGION_S[1] * MODEL_FS_HZ >= _OFFSETS)
_T = (T_REGION_S[0] * MODEL_FS_HZ <= _OFFSETS) & (T_REGION_S[1] * MODEL_FS_HZ >= _OFFSETS)

RR_FEATURE_NAMES: tuple[str, ...] = (
    "pre_rr_s",
    "post_rr_s",
    "pre_over_post",
    "pre_over_previous_pre",
    "pre_over_sinus",
    "post_over_sinus",
    "local_over_sinus",
    "local_irregularity",
    "pre_over_record_sinus",
    "af_context_irregularity",
    "corr_qrs_with_median_beat",
    "corr_window_with_median_beat",
    "rms_diff_over_median_beat",
    "qrs_amplitude_over_median_beat",
    "corr_p_region_with_median_beat",
    # Round 7: QRS width, QRS area and T-wave shape against the patient's dominant beat. A
    # ventricular beat is wide, large and has a discordant T; an atrial one looks like the
    # dominant beat. Appended, so models that read only the first 15 still find theirs.
    "qrs_width_over_median_beat",
    "qrs_area_over_median_beat",
    "corr_t_region_with_median_beat",
)
# The inputs of the models of rounds 1-6 (the first 15 features).
BASE_FEATURE_NAMES: tuple[str, ...] = RR_FEATURE_NAMES[:15]
# The shape features (against the lead's own dominant beat); the ten before them read only the
# beat times, the same in every lead.
SHAPE_FEATURE_NAMES: tuple[str, ...] = RR_FEATURE_NAMES[10:]
# Round 9: the other lead's shape features beside a lead's own, so that the network sees both
# leads of a beat at once (svdb 841: the first lead shows its PVCs wide, the second like atrial
# beats). Appended to the inputs of a beat's leads by `with_other_lead`, not per lead.
OTHER_LEAD_FEATURE_NAMES: tuple[str, ...] = tuple(f"other_lead_{n}" for n in SHAPE_FEATURE_NAMES)
ALL_FEATURE_NAMES: tuple[str, ...] = RR_FEATURE_NAMES + OTHER_LEAD_FEATURE_NAMES


@dataclass(frozen=True)
class BeatInputs:
    """One row per R peak: the model's inputs `windows` float32 [n, W, 1] and `rr_features`
    float32 [n, k], and context the decision rule reads but the network does not:
    `p_wave_consistency` float32 [n] (`ml.atrial.p_wave_consistency`, every beat taking part)."""

    windows: np.ndarray
    rr_features: np.ndarray
    p_wave_consistency: np.ndarray

    def __len__(self) -> int:
        return int(self.windows.shape[0])

    def subset(self, index: np.ndarray | slice) -> BeatInputs:
        return BeatInputs(
            self.windows[index], self.rr_features[index], self.p_wave_consistency[index]
        )

    def with_features(self, names: tuple[str, ...]) -> BeatInputs:
        """The same beats with only the named features (of ALL_FEATURE_NAMES: the other lead's
        only after `with_other_lead`), in that order (what a model reads)."""
        if names == ALL_FEATURE_NAMES[: len(names)]:
            chosen = self.rr_features[:, : len(names)]
        else:
            chosen = self.rr_features[:, [ALL_FEATURE_NAMES.index(n) for n in names]]
        return BeatInputs(self.windows, chosen, self.p_wave_consistency)

    @staticmethod
    def concatenate(parts: list[BeatInputs]) -> BeatInputs:
        return BeatInputs(
            np.concatenate([p.windows for p in parts]),
            np.concatenate([p.rr_features for p in parts]),
            np.concatenate([p.p_wave_consistency for p in parts]),
        )


def with_other_lead(per_lead: list[BeatInputs]) -> list[BeatInputs]:
    """The inputs of the first two leads at the same beats, each followed by the other's shape
    features (OTHER_LEAD_FEATURE_NAMES); a single lead reads its own there, as a lead read
    twice would (training shows the network that case in its augmented rows)."""
    own = len(RR_FEATURE_NAMES)
    shape = slice(own - len(SHAPE_FEATURE_NAMES), own)
    used = per_lead[:2]
    partners = used[::-1]
    return [
        BeatInputs(
            x.windows,
            np.concatenate([x.rr_features[:, :own], p.rr_features[:, shape]], axis=1),
            x.p_wave_consistency,
        )
        for x, p in zip(used, partners, strict=True)
    ]


@dataclass(frozen=True)
class BeatWaveforms:
    """What `beat_inputs` reads from the signal, beat by beat, before any whole-record
    normalisation: `windows` float64 [n, W/2] (the 0.5-40 Hz beat at the model's rate, in mV),
    `peak_mv` [n] (its largest deflection near the R peak), `p_wave_consistency` [n], and
    `model_peaks` [n] (the R peaks at MODEL_FS_HZ). Local to each beat, so a long recording
    can gather them chunk by chunk (`model_peaks` then shifted to the whole recording)."""

    windows: np.ndarray
    peak_mv: np.ndarray
    p_wave_consistency: np.ndarray
    model_peaks: np.ndarray

    def __len__(self) -> int:
        return int(self.peak_mv.size)

    def subset(self, index: np.ndarray | slice) -> BeatWaveforms:
        return BeatWaveforms(
            self.windows[index],
            self.peak_mv[index],
            self.p_wave_consistency[index],
            self.model_peaks[index],
        )


def beat_inputs(signal_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray) -> BeatInputs:
    """Model inputs for every peak in `r_peaks` (sample indices into `signal_mv` at `fs_hz`)."""
    return PatientBeats.of(beat_waveforms(signal_mv, fs_hz, r_peaks)).inputs()


def beat_waveforms(signal_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray) -> BeatWaveforms:
    """The beats' waveforms at `r_peaks` (sample indices into `signal_mv` at `fs_hz`)."""
    x_mv, peaks = _to_model_rate(np.asarray(signal_mv, dtype=np.float64), fs_hz, r_peaks)
    if peaks.size == 0:
        return BeatWaveforms(
            np.zeros((0, _OFFSETS.size)), np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        )
    if not np.isfinite(x_mv).all():
        x_mv = np.nan_to_num(x_mv)
    p_consistency = p_wave_consistency(x_mv, MODEL_FS_HZ, peaks / MODEL_FS_HZ, None)
    if x_mv.size > 12:  # sosfiltfilt needs a few samples of padding
        x_mv = bandpass_mv(x_mv, MODEL_FS_HZ, BAND_HZ)
    pad = _BEFORE + _AFTER
    padded = np.pad(x_mv, pad)
    centres = _realigned(padded, peaks + pad)
    return BeatWaveforms(
        padded[centres[:, None] + _OFFSETS[None, :]],
        _peak_mv(padded, centres),
        p_consistency,
        peaks,
    )


@dataclass(frozen=True)
class PatientBeats:
    """Every beat of a record normalised to the patient: windows over the record's median QRS
    amplitude, RR features against the patient's sinus cycle, and shape features against the
    dominant beat (`template`). `inputs(index)` builds the model's inputs for some beats, so
    a long recording's windows need not be doubled for all beats at once."""

    windows: np.ndarray
    templates: np.ndarray  # [stretches, W/2]: the dominant beat of each stretch
    template_of: np.ndarray  # [n]: each beat's stretch
    features: np.ndarray
    p_wave_consistency: np.ndarray

    @staticmethod
    def of(waves: BeatWaveforms, rr: np.ndarray | None = None) -> PatientBeats:
        """From every beat's waveform; `waves.windows` is normalised in place (consumed).
        `rr`: `rhythm_features(waves.model_peaks)` when already computed for another lead
        at the same beats (they depend on the beat times alone)."""
        if len(waves) == 0:
            return PatientBeats(
                np.zeros((0, _OFFSETS.size)),
                np.zeros((1, _OFFSETS.size)),
                np.zeros(0, np.int64),
                np.zeros((0, len(RR_FEATURE_NAMES))),
                np.zeros(0),
            )
        windows = waves.windows
        rr = rhythm_features(waves.model_peaks) if rr is None else rr
        pre_over_sinus = rr[:, RR_FEATURE_NAMES.index("pre_over_sinus")]
        stretches = beat_stretches(waves.model_peaks / MODEL_FS_HZ)
        if len(stretches) == 1:  # the whole recording's, as trained (no copy of the windows)
            windows /= _record_amplitude(waves.peak_mv)  # in place: a 24-hour record has 100k
            templates = _template(windows, pre_over_sinus)[None]
        else:
            # Every stretch's amplitude and dominant beat from the raw windows, before any
            # block is normalised in place.
            amplitudes = [_record_amplitude(waves.peak_mv[around]) for _, around in stretches]
            templates = np.stack(
                [
                    _template(windows[around] / amplitude, pre_over_sinus[around])
                    for (_, around), amplitude in zip(stretches, amplitudes, strict=True)
                ]
            )
            for (block, _), amplitude in zip(stretches, amplitudes, strict=True):
                windows[block] /= amplitude
        template_of = np.zeros(len(waves), np.int64)
        for k, (block, _) in enumerate(stretches):
            template_of[block] = k
        shape = np.concatenate(
            [
                _shape_features(windows[block], templates[k])
                for k, (block, _) in enumerate(stretches)
            ]
        )
        features = np.nan_to_num(np.concatenate([rr, shape], axis=1))
        return PatientBeats(windows, templates, template_of, features, waves.p_wave_consistency)

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def inputs(self, index: np.ndarray | slice = slice(None)) -> BeatInputs:
        windows = self.windows[index]
        if windows.shape[0] == 0:
            return BeatInputs(
                np.zeros((0, WINDOW_SAMPLES, 1), np.float32),
                np.zeros((0, len(RR_FEATURE_NAMES)), np.float32),
                np.zeros(0, np.float32),
            )
        # Written straight into the float32 input (a 24-h recording's 110,000 beats): the same
        # numbers as concatenating in float64 and converting.
        width = windows.shape[1]
        model_windows = np.empty((windows.shape[0], 2 * width, 1), np.float32)
        model_windows[:, :width, 0] = windows
        template = (
            self.templates[0]
            if len(self.templates) == 1
            else self.templates[self.template_of[index]]
        )
        np.subtract(windows, template, out=model_windows[:, width:, 0])
        return BeatInputs(
            model_windows,
            self.features[index].astype(np.float32),
            self.p_wave_consistency[index].astype(np.float32),
        )


def rhythm_features(model_peaks: np.ndarray) -> np.ndarray:
    """The RR features (the first columns of RR_FEATURE_NAMES) of beats at `model_peaks`
    (samples at MODEL_FS_HZ), the same for every lead."""
    return _rr_features(model_peaks / MODEL_FS_HZ)


def _to_model_rate(
    x_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    peaks = np.asarray(r_peaks, dtype=np.float64).ravel()
    if abs(fs_hz - MODEL_FS_HZ) > 1e-9:
        x_mv = resample(x_mv, fs_hz, MODEL_FS_HZ)
        peaks = peaks * (MODEL_FS_HZ / fs_hz)
    last = max(x_mv.size - 1, 0)
    return x_mv, np.clip(np.rint(peaks), 0, last).astype(np.int64)


def _realigned(padded: np.ndarray, centres: np.ndarray) -> np.ndarray:
    half = round(REALIGN_S * MODEL_FS_HZ)
    offsets = np.arange(-half, half + 1)
    near = np.abs(padded[centres[:, None] + offsets[None, :]])
    return centres + offsets[np.argmax(near, axis=1)]


def _peak_mv(padded: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each beat's largest deflection within AMPLITUDE_HALF_WIDTH_S of its R peak."""
    half = round(AMPLITUDE_HALF_WIDTH_S * MODEL_FS_HZ)
    offsets = np.arange(-half, half + 1)
    return np.asarray(np.abs(padded[centres[:, None] + offsets[None, :]]).max(axis=1))


SHAPE_BLOCK_BEATS = 4096


def _record_amplitude(peak_mv: np.ndarray) -> float:
    """Median QRS amplitude of the record: removes gain and electrode-placement differences."""
    amplitude = float(np.median(peak_mv))
    return amplitude if amplitude > 1e-3 else 1.0


def _template(windows: np.ndarray, pre_over_sinus: np.ndarray) -> np.ndarray:
    """Median of the beats that are not premature: the dominant *normal* morphology even when
    premature ectopic beats are frequent (they would pull a plain median towards themselves)."""
    calm = pre_over_sinus >= TEMPLATE_MIN_PRE_OVER_SINUS
    rows = calm if calm.sum() >= TEMPLATE_MIN_BEATS else slice(None)
    # A few columns at a time: the median copies what it sorts (100k beats on 24 hours).
    return np.concatenate(
        [
            np.median(windows[rows, column : column + TEMPLATE_COLUMNS], axis=0)
            for column in range(0, windows.shape[1], TEMPLATE_COLUMNS)
        ]
    )


def _rr_features(t_s: np.ndarray) -> np.ndarray:
    n = t_s.size
    if n == 1:
        pre = post = np.array([DEFAULT_RR_S])
    else:
        diffs = np.maximum(np.diff(t_s), 1.0 / MODEL_FS_HZ)
        pre = np.concatenate([diffs[:1], diffs])
        post = np.concatenate([diffs, diffs[-1:]])
    local = _centred_mean(pre, LOCAL_BEATS)
    sinus = sinus_cycle_s(t_s, pre)
    record_sinus = float(np.percentile(pre, SINUS_RR_PERCENTILE))
    jumps = np.abs(np.diff(pre, prepend=pre[0]))
    irregular = _centred_mean(jumps, LOCAL_BEATS) / local
    columns = [
        np.clip(pre, 0, 3),
        np.clip(post, 0, 3),
        np.clip(pre / post, 0, 4),
        np.clip(pre / np.concatenate([pre[:1], pre[:-1]]), 0, 4),
        np.clip(pre / sinus, 0, 4),
        np.clip(post / sinus, 0, 4),
        np.clip(local / sinus, 0, 4),
        np.clip(irregular, 0, 4),
        np.clip(pre / record_sinus, 0, 4),
        np.clip(af_context_irregularity(pre), 0, 4),
    ]
    return np.stack(columns, axis=1)


def _centred_mean(values: np.ndarray, half: int) -> np.ndarray:
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(values.size)
    lo = np.maximum(idx - half, 0)
    hi = np.minimum(idx + half + 1, values.size)
    return (csum[hi] - csum[lo]) / (hi - lo)


def sinus_cycle_s(
    t_s: np.ndarray, pre_rr_s: np.ndarray, half_s: float = LONG_WINDOW_S
) -> np.ndarray:
    """The sinus cycle around each beat: the `SINUS_RR_PERCENTILE` of the RR intervals within
    +-half_s. Ectopic beats shorten intervals, so the upper part of the distribution belongs to
    the sinus rhythm however many beats are ectopic (a mean or median would not). The window
    is long, so it is evaluated every `SINUS_GRID_S` and interpolated (24-hour recordings)."""
    grid_s = np.arange(t_s[0], t_s[-1] + SINUS_GRID_S, SINUS_GRID_S)
    lo = np.searchsorted(t_s, grid_s - half_s, side="left")
    hi = np.searchsorted(t_s, grid_s + half_s, side="right")
    values = np.array(
        [
            percentile(pre_rr_s[a:b], SINUS_RR_PERCENTILE) if b > a else np.nan
            for a, b in zip(lo, hi, strict=True)
        ]
    )
    known = ~np.isnan(values)
    cycle = np.interp(t_s, grid_s[known], values[known])
    return np.maximum(cycle, 1.0 / MODEL_FS_HZ)


def af_context_irregularity(pre_rr_s: np.ndarray, beats: int = AF_CONTEXT_BEATS) -> np.ndarray:
    """RR pattern irregularity over the `beats` beats around each beat (see `ml.atrial`):
    high only in patternless rhythms such as AF, low in sinus rhythm, bigeminy, trigeminy."""
    return pattern_irregularity(pre_rr_s, beats)


def _shape_features(windows: np.ndarray, template: np.ndarray) -> np.ndarray:
    """How each beat differs from the record's median beat (its dominant morphology).
    SHAPE_BLOCK_BEATS beats at a time: every figure is the beat's own, and the temporaries of
    a 24-hour recording (100k beats) stay a few MB instead of several copies of its windows."""
    if windows.shape[0] > SHAPE_BLOCK_BEATS:
        return np.concatenate(
            [
                _shape_features(windows[at : at + SHAPE_BLOCK_BEATS], template)
                for at in range(0, windows.shape[0], SHAPE_BLOCK_BEATS)
            ]
        )
    corr_qrs = _row_correlation(windows[:, _QRS], template[_QRS])
    corr_all = _row_correlation(windows, template)
    template_rms = max(float(np.sqrt(np.mean(template**2))), 1e-6)
    rms_diff = np.sqrt(np.mean((windows - template) ** 2, axis=1)) / template_rms
    template_amp = max(float(np.abs(template[_QRS]).max()), 1e-6)
    amp = np.abs(windows[:, _QRS]).max(axis=1) / template_amp
    corr_p = _row_correlation(windows[:, _P], template[_P])
    width = _qrs_width(windows[:, _QRS]) / max(float(_qrs_width(template[None, _QRS])[0]), 1.0)
    area = np.abs(windows[:, _QRS]).sum(axis=1) / max(float(np.abs(template[_QRS]).sum()), 1e-6)
    corr_t = _row_correlation(windows[:, _T], template[_T])
    return np.stack(
        [
            corr_qrs,
            corr_all,
            np.clip(rms_diff, 0, 5),
            np.clip(amp, 0, 5),
            corr_p,
            np.clip(width, 0, 5),
            np.clip(area, 0, 5),
            corr_t,
        ],
        axis=1,
    )


def _qrs_width(qrs_rows: np.ndarray) -> np.ndarray:
    """Samples (of the window's grid) each QRS spends beyond `QRS_WIDTH_LEVEL` of its peak
    deflection from its own median: wide ventricular complexes count more of them."""
    centred = np.abs(qrs_rows - np.median(qrs_rows, axis=1, keepdims=True))
    peak = centred.max(axis=1, keepdims=True)
    return np.asarray((centred >= QRS_WIDTH_LEVEL * np.maximum(peak, 1e-9)).sum(axis=1), float)


def _row_correlation(rows: np.ndarray, ref: np.ndarray) -> np.ndarray:
    a = rows - rows.mean(axis=1, keepdims=True)
    b = ref - ref.mean()
    denom = np.sqrt((a**2).sum(axis=1) * (b**2).sum())
    return np.where(denom > 1e-12, (a @ b) / np.maximum(denom, 1e-12), 0.0)
