"""Synthetic ECGs with known answers, for tests and benchmarks (no real patient data).

Every wave is built from quarter- and half-sine pieces with compact support, so its onset and
offset are exact instants (a kink, as on a real ECG) and an interval measurement can be checked
to the millisecond. The frontal-plane leads are projections of one cardiac vector at a chosen
QRS axis, so the axis is known too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.recording import Recording

# Frontal-plane lead angles (degrees, hexaxial reference system). The augmented leads are
# Einthoven-consistent (aVF = (II + III) / 2), so they are sqrt(3)/2 as large as the projection.
LIMB_LEAD_ANGLES_DEG = {"I": 0, "II": 60, "III": 120, "aVR": -150, "aVL": -30, "aVF": 90}
AUGMENTED_GAIN = np.sqrt(3) / 2
PRECORDIAL_GAINS = {"V1": -0.6, "V2": -0.2, "V3": 0.4, "V4": 0.9, "V5": 1.0, "V6": 0.8}


@dataclass(frozen=True)
class BeatTruth:
    """The intervals the generator built into every beat."""

    hr_bpm: float = 60.0
    pr_ms: float = 160.0
    qrs_ms: float = 90.0
    qt_ms: float = 400.0
    axis_deg: float = 60.0
    p_mv: float = 0.15
    r_mv: float = 1.2
    t_mv: float = 0.35
    p_duration_ms: float = 100.0
    t_duration_ms: float = 180.0


def _half_sine(t_s: np.ndarray, start_s: float, duration_s: float) -> np.ndarray:
    u = (t_s - start_s) / duration_s
    return np.where((u >= 0) & (u <= 1), np.sin(np.pi * np.clip(u, 0, 1)), 0.0)


def _asymmetric_t(t_s: np.ndarray, start_s: float, duration_s: float) -> np.ndarray:
    """Slow rise over 60 %, faster fall over 40 %: a quarter sine up, a quarter cosine down."""
    rise, fall = 0.6 * duration_s, 0.4 * duration_s
    up = (t_s - start_s) / rise
    down = (t_s - start_s - rise) / fall
    wave = np.where((up >= 0) & (up < 1), np.sin(np.pi / 2 * np.clip(up, 0, 1)), 0.0)
    return wave + np.where((down >= 0) & (down <= 1), np.cos(np.pi / 2 * np.clip(down, 0, 1)), 0.0)


def beat_waves_mv(t_s: np.ndarray, truth: BeatTruth) -> tuple[np.ndarray, np.ndarray]:
    """(QRS, P+T) waveforms of one beat whose QRS starts at t = 0."""
    qrs_s = truth.qrs_ms / 1000
    qrs = (
        -0.15 * truth.r_mv * _half_sine(t_s, 0.0, 0.22 * qrs_s)
        + truth.r_mv * _half_sine(t_s, 0.22 * qrs_s, 0.48 * qrs_s)
        - 0.25 * truth.r_mv * _half_sine(t_s, 0.70 * qrs_s, 0.30 * qrs_s)
    )
    p = truth.p_mv * _half_sine(t_s, -truth.pr_ms / 1000, truth.p_duration_ms / 1000)
    t_start = (truth.qt_ms - truth.t_duration_ms) / 1000
    t = truth.t_mv * _asymmetric_t(t_s, t_start, truth.t_duration_ms / 1000)
    return qrs, p + t


def synthetic_recording(
    truth: BeatTruth = BeatTruth(),
    *,
    duration_s: float = 30.0,
    fs_hz: float = 500.0,
    leads: tuple[str, ...] = (
        "I",
        "II",
        "III",
        "aVR",
        "aVL",
        "aVF",
        "V1",
        "V2",
        "V3",
        "V4",
        "V5",
        "V6",
    ),
    noise_mv: float = 0.01,
    seed: int = 0,
) -> tuple[Recording, np.ndarray]:
    """A regular rhythm with the given intervals; returns it and the QRS-onset samples."""
    rr_s = 60.0 / truth.hr_bpm
    onsets_s = np.arange(0.5, duration_s - rr_s / 2, rr_s)
    signal = beats_in_leads_mv(
        [(onset, truth) for onset in onsets_s], duration_s, fs_hz, leads, noise_mv, seed
    )
    recording = Recording(
        fs_hz=fs_hz, lead_names=leads, signal_mv=signal, source_format="synthetic"
    )
    return recording, np.round(onsets_s * fs_hz).astype(int)


def beats_in_leads_mv(
    beats: list[tuple[float, BeatTruth]],
    duration_s: float,
    fs_hz: float,
    leads: tuple[str, ...],
    noise_mv: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    """[samples, leads]: a beat at each (QRS onset in s, truth), each projected on the leads
    at its own QRS axis (a PVC's axis differs from the sinus beats')."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs_hz))
    t_s = np.arange(n) / fs_hz
    signal = np.zeros((n, len(leads)))
    before, after = int(0.6 * fs_hz), int(0.9 * fs_hz)  # a P wave 0.6 s ahead, a QT of 0.9 s
    for onset, truth in beats:
        start = max(0, int(onset * fs_hz) - before)
        stop = min(n, int(onset * fs_hz) + after)
        qrs, pt = beat_waves_mv(t_s[start:stop] - onset, truth)
        for column, lead in enumerate(leads):
            gain = lead_gain(lead, truth.axis_deg)
            # P and T follow the QRS direction loosely (always upright-ish in the leads shown).
            signal[start:stop, column] += gain * qrs + max(abs(gain), 0.3) * np.sign(gain or 1) * pt
    return signal + rng.normal(0, noise_mv, (n, len(leads)))


def lead_gain(lead: str, axis_deg: float) -> float:
    """How much of the cardiac vector at `axis_deg` a lead sees (precordial leads: fixed)."""
    if lead in LIMB_LEAD_ANGLES_DEG:
        gain = float(np.cos(np.radians(LIMB_LEAD_ANGLES_DEG[lead] - axis_deg)))
        return gain * (AUGMENTED_GAIN if lead.startswith("aV") else 1.0)
    return PRECORDIAL_GAINS.get(lead, 1.0)


def synthetic_rhythm_mv(
    onsets_s: np.ndarray,
    *,
    duration_s: float,
    fs_hz: float = 360.0,
    truth: BeatTruth = BeatTruth(),
    p_waves: bool = True,
    fibrillation_mv: float = 0.0,
    noise_mv: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    """One lead (II-like) with a beat at each QRS onset given: any rhythm, regular or not.

    `p_waves=False` with `fibrillation_mv` > 0 gives atrial fibrillation's picture: no P
    waves, and fibrillatory waves (4-8 Hz, wandering frequency) unrelated to the QRS.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs_hz))
    t_s = np.arange(n) / fs_hz
    beat = truth if p_waves else BeatTruth(**{**truth.__dict__, "p_mv": 0.0})
    signal_mv = rng.normal(0, noise_mv, n)
    window = int(1.2 * fs_hz)
    for onset in onsets_s:
        start = max(0, int(onset * fs_hz) - window // 2)
        stop = min(n, start + window)
        qrs, pt = beat_waves_mv(t_s[start:stop] - onset, beat)
        signal_mv[start:stop] += qrs + pt
    if fibrillation_mv > 0:
        frequency_hz = 6.0 + np.cumsum(rng.normal(0, 0.05, n)).clip(-2.0, 2.0)
        signal_mv += fibrillation_mv * np.sin(2 * np.pi * np.cumsum(frequency_hz) / fs_hz)
    return signal_mv


R_AFTER_ONSET_S = 0.045  # the default beat's R peak comes this long after its QRS onset


def sinus_or_af_mv(
    rr_s: np.ndarray, *, af: bool, fs_hz: float = 360.0, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Beats 0.5 s in and then after each of the RR intervals given: sinus beats with P waves,
    or atrial fibrillation (no P waves, 0.08 mV fibrillatory waves). Returns the signal (mV)
    and the R-peak times (s), the truth an AF or P-wave test is checked against."""
    onsets_s = 0.5 + np.concatenate([[0.0], np.cumsum(rr_s)])
    signal_mv = synthetic_rhythm_mv(
        onsets_s,
        duration_s=float(onsets_s[-1]) + 1.5,
        fs_hz=fs_hz,
        p_waves=not af,
        fibrillation_mv=0.08 if af else 0.0,
        seed=seed,
    )
    return signal_mv, onsets_s + R_AFTER_ONSET_S


def ventricular_fibrillation_mv(
    duration_s: float,
    *,
    fs_hz: float = 360.0,
    frequency_hz: float = 4.5,
    amplitude_mv: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """Ventricular flutter/fibrillation's picture: a large oscillation near `frequency_hz`
    whose rate and amplitude wander, with no QRS complexes and no isoelectric line."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs_hz))
    wander = np.cumsum(rng.normal(0, 0.02, n)).clip(-0.8, 0.8)
    phase = 2 * np.pi * np.cumsum(frequency_hz + wander) / fs_hz
    envelope = 1.0 + 0.3 * np.sin(2 * np.pi * 0.2 * np.arange(n) / fs_hz + rng.uniform(0, 6))
    return amplitude_mv * envelope * np.sin(phase) + rng.normal(0, 0.01, n)


def second_degree_block_mv(
    duration_s: float,
    *,
    fs_hz: float = 250.0,
    atrial_bpm: float = 75.0,
    conducted: int = 3,
    pr_ms: tuple[float, ...] = (180.0, 250.0, 285.0),
    noise_mv: float = 0.01,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One lead (II-like) of P waves at a steady `atrial_bpm`, in groups of `conducted`
    conducted P waves (PR `pr_ms[k]` for the k-th of each group) and one not conducted: a
    Mobitz I (Wenckebach) block when the PRs lengthen, Mobitz II when they are alike.
    Returns the signal (mV), the QRS onsets (s) and the P waves not conducted (s)."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs_hz))
    t_s = np.arange(n) / fs_hz
    truth = BeatTruth(hr_bpm=atrial_bpm)
    p_starts_s = np.arange(0.3, duration_s - 1.0, 60.0 / atrial_bpm)
    place = np.arange(p_starts_s.size) % (conducted + 1)
    onsets_s = p_starts_s[place < conducted] + np.asarray(pr_ms)[place[place < conducted]] / 1000
    signal_mv = synthetic_rhythm_mv(
        onsets_s, duration_s=duration_s, fs_hz=fs_hz, truth=truth, p_waves=False, noise_mv=0.0
    )
    for start_s in p_starts_s:
        signal_mv += truth.p_mv * _half_sine(t_s, start_s, truth.p_duration_ms / 1000)
    return signal_mv + rng.normal(0, noise_mv, n), onsets_s, p_starts_s[place == conducted]


def complete_block_mv(
    duration_s: float,
    *,
    fs_hz: float = 250.0,
    leads: tuple[str, ...] = ("II",),
    atrial_bpm: float = 80.0,
    ventricular_bpm: float = 40.0,
    escape: BeatTruth = BeatTruth(qrs_ms=140.0, qt_ms=480.0, t_mv=-0.3, p_mv=0.0),
    p_mv: float = 0.15,
    noise_mv: float = 0.01,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Complete (third-degree) AV block in `leads`: P waves at a steady `atrial_bpm` and an
    escape rhythm at `ventricular_bpm` (by default a wide ventricular escape) that ignores
    them. Returns the signal [samples, leads] (mV), the QRS onsets and the P-wave starts (s)."""
    rng = np.random.default_rng(seed)
    onsets_s = np.arange(0.9, duration_s - 1.0, 60.0 / ventricular_bpm)
    escape = BeatTruth(**{**escape.__dict__, "p_mv": 0.0})
    signal = beats_in_leads_mv([(onset, escape) for onset in onsets_s], duration_s, fs_hz, leads, 0)
    t_s = np.arange(signal.shape[0]) / fs_hz
    p_starts_s = np.arange(0.3, duration_s - 0.2, 60.0 / atrial_bpm)
    atria = sum(p_mv * _half_sine(t_s, start_s, 0.1) for start_s in p_starts_s)
    for column, lead in enumerate(leads):
        gain = lead_gain(lead, 60.0)  # the sinus P wave's axis
        signal[:, column] += max(abs(gain), 0.3) * np.sign(gain or 1) * atria
    return signal + rng.normal(0, noise_mv, signal.shape), onsets_s, p_starts_s


def standstill_mv(
    duration_s: float,
    silent_s: tuple[float, float],
    *,
    fs_hz: float = 250.0,
    leads: tuple[str, ...] = ("II",),
    bpm: float = 75.0,
    p_waves_go_on: bool = False,
    noise_mv: float = 0.01,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Sinus rhythm at `bpm` in `leads` with no QRS complex from `silent_s[0]` to
    `silent_s[1]` (the recording's end for an asystole it does not survive): a sinus arrest,
    or ventricular standstill when the P waves go on alone (`p_waves_go_on`, paroxysmal AV
    block). Returns the signal [samples, leads] (mV) and the QRS onsets (s)."""
    cycle_s = 60.0 / bpm
    onsets_s = np.arange(0.6, duration_s - 0.8, cycle_s)
    silent = (onsets_s > silent_s[0]) & (onsets_s < silent_s[1])
    resumed = np.flatnonzero(~silent & (onsets_s >= silent_s[1]))
    if resumed.size:  # the rhythm resumes a cycle after the silence
        onsets_s[resumed] += silent_s[1] - onsets_s[resumed[0]]
    kept = onsets_s[~silent & (onsets_s < duration_s - 0.8)]
    truth = BeatTruth(hr_bpm=bpm)
    beats = [(onset, truth) for onset in kept]
    if p_waves_go_on:
        atria_only = BeatTruth(hr_bpm=bpm, r_mv=0.0, t_mv=0.0)
        beats += [(onset, atria_only) for onset in onsets_s[silent]]
    signal = beats_in_leads_mv(beats, duration_s, fs_hz, leads, noise_mv, seed)
    return signal, kept


def sinus_arrhythmia_mv(
    duration_s: float,
    *,
    fs_hz: float = 250.0,
    leads: tuple[str, ...] = ("II",),
    bpm: float = 95.0,
    swing: float = 0.25,
    breath_s: float = 4.0,
    noise_mv: float = 0.02,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Respiratory sinus arrhythmia in `leads`: sinus beats whose interval swings by
    +-`swing` of the cycle at `bpm` with each breath of `breath_s` (1 % jitter besides), every
    beat with the same P wave and PR, and a QT shortened for the rate (Bazett, QTc 410 ms).
    Returns the signal [samples, leads] (mV) and the QRS onsets (s)."""
    rng = np.random.default_rng(seed)
    cycle_s = 60.0 / bpm
    qt_ms = 410.0 * np.sqrt(cycle_s)
    truth = BeatTruth(hr_bpm=bpm, qt_ms=qt_ms, t_duration_ms=min(180.0, qt_ms - 150.0))
    onsets_s, time_s = [], 0.4
    while time_s < duration_s - 0.8:
        onsets_s.append(time_s)
        breath = np.sin(2 * np.pi * time_s / breath_s)
        time_s += cycle_s * (1 + swing * breath) * (1 + rng.normal(0, 0.01))
    beats = [(onset, truth) for onset in onsets_s]
    return beats_in_leads_mv(beats, duration_s, fs_hz, leads, noise_mv, seed), np.array(onsets_s)


def atrial_flutter_mv(
    duration_s: float,
    *,
    fs_hz: float = 250.0,
    leads: tuple[str, ...] = ("II",),
    flutter_per_min: float = 280.0,
    conduction: tuple[int, ...] = (2, 4, 2, 2, 3, 4),
    flutter_mv: float = 0.15,
    noise_mv: float = 0.015,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Atrial flutter with variable conduction in `leads`: a sawtooth of flutter waves at
    `flutter_per_min` (no isoelectric line) and a QRS after every 2nd, 3rd or 4th of them as
    `conduction` repeats, each at the same phase of its flutter wave. Returns the signal
    [samples, leads] (mV) and the QRS onsets (s)."""
    cycle_s = 60.0 / flutter_per_min
    onsets_s, time_s, k = [], 0.5, 0
    while time_s < duration_s - 1.0:
        onsets_s.append(time_s)
        time_s += conduction[k % len(conduction)] * cycle_s
        k += 1
    truth = BeatTruth(p_mv=0.0, qt_ms=330.0, t_duration_ms=150.0)
    signal = beats_in_leads_mv(
        [(o, truth) for o in onsets_s], duration_s, fs_hz, leads, noise_mv, seed
    )
    t_s = np.arange(signal.shape[0]) / fs_hz
    sawtooth_mv = flutter_mv * (2 * ((t_s / cycle_s) % 1.0) - 1)
    for column, lead in enumerate(leads):
        signal[:, column] += max(abs(lead_gain(lead, 60.0)), 0.3) * sawtooth_mv
    return signal, np.array(onsets_s)


def st_shifted_mv(
    signal_mv: np.ndarray,
    fs_hz: float,
    onsets_s: np.ndarray,
    truth: BeatTruth,
    leads: tuple[str, ...],
    st_mv: dict[str, float],
) -> np.ndarray:
    """`signal_mv` [samples, leads] with each beat's ST segment raised (or lowered) by
    `st_mv[lead]`: from the QRS end (reached in 20 ms) on, merging into the T wave and back to
    the baseline at its end, as in an acute injury current."""
    out = signal_mv.copy()
    t_s = np.arange(signal_mv.shape[0]) / fs_hz
    qrs_s, qt_s = truth.qrs_ms / 1000, truth.qt_ms / 1000
    t_peak_s = qt_s - 0.4 * truth.t_duration_ms / 1000
    for onset in onsets_s:
        u = t_s - onset
        rise = np.clip((u - qrs_s) / 0.02, 0.0, 1.0)
        fall = np.clip((qt_s - u) / max(qt_s - t_peak_s, 1e-3), 0.0, 1.0)
        shape = np.where((u >= qrs_s) & (u <= qt_s), np.minimum(rise, fall), 0.0)
        for column, lead in enumerate(leads):
            out[:, column] += st_mv.get(lead, 0.0) * shape
    return out
