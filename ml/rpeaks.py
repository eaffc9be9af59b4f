"""Fast single-lead ECG R-peak detector (pure NumPy).

    from ml.rpeaks import detect_r_peaks
    peaks = detect_r_peaks(ecg_mv, fs_hz)      # -> int64 sample indices

Scores on all 48 MIT-BIH records, end to end (both leads, 150 ms window, beat annotations,
record 207's ventricular flutter episodes left out as AAMI EC57 does): Se 0.9989, +P 0.9990
(`python -m ml.evaluate --records all`). Parameters were chosen on DS1 records (the T-wave
sharpness limit on DS1, svdb and qtdb).

Pipeline (Pan-Tompkins family, with a few robustness additions):

1. Band-pass 5-15 Hz (2nd-order Butterworth, zero-phase).  This band holds most
   QRS energy while suppressing baseline wander, P/T waves (< 5 Hz) and EMG /
   mains noise (> 15 Hz).  Zero-phase keeps peaks aligned with the raw signal.
2. Feature envelope = RMS of the derivative over a 100 ms window,
   sqrt(MWI(d^2)).  The derivative emphasises the steep QRS slopes; taking the
   square root (instead of the classic squared envelope) keeps the envelope
   *linear* in amplitude, so a beat half as tall as the running beat level
   gives half the envelope, not a quarter -- this rescues small aberrant and
   ventricular beats while thresholds stay proportional.  Polarity-free, so
   negative QRS complexes are handled identically.
3. Candidates = local maxima of the envelope at least 250 ms apart
   (refractory period; <= 240 bpm).  Every later step works on this short list
   (about 4 per second at most), so the Python loop below is cheap and the
   whole detector is linear time.
4. Adaptive classification of candidates (Pan-Tompkins):
     SPK, NPK = running signal / noise peak levels,
     TH1 = NPK + 0.25 (SPK - NPK);  candidate is a QRS if its height > TH1 and
   - T-wave test: if it follows the previous QRS by < 360 ms (plus 0.4 s per second
     of mean RR over 1 s: the QT lengthens as the rate slows, and a clean sinus
     bradycardia at 33-40 bpm had its T waves, 0.42-0.49 s after the R peak, read as
     beats: rate doubled, false bigeminy. 0.4 was the widest of 0.2-0.5 costing at
     most 10 on DS1, svdb and qtdb's 2 x missed + extra, pre-registered), its maximal slope
     must be >= 0.5 x that of the previous QRS (T waves are slow), and its
     sharpness (steepest slope over peak-to-peak size in 0.5-40 Hz, about
     2 / its duration) >= 0.5 x the median of the last 8 QRS complexes: a tall
     T wave after a small QRS (handheld lead I) passes the slope test but is
     blunt.  0.5 was chosen on MIT-BIH DS1, svdb and qtdb, minimising
     2 x missed + extra beats (`ml.rpeaks.PARAMS["t_sharp"]`, README);
     and a candidate under 0.6 of the slope *and* 0.65 of the sharpness is a T
     wave too (`PARAMS["t_both"]`): a narrow peaked T as tall as the R wave
     passes each single test (0.57, 0.63); pre-registered, README;
   - P-wave test (look-ahead): if a candidate within the next 300 ms is also
     above TH1 and this one is < 0.6 x as tall, this one is a P wave (or other
     precursor) and the following complex is the QRS.
   Search-back: when no QRS has been found for 1.66 x the mean of the last 8
   RR intervals, the tallest rejected candidate in the gap is accepted if it
   exceeds TH2 = 0.7 x TH1 (the envelope is linear, so 0.7 ~ the classic 0.5
   on a squared envelope) and passes the same T-wave test.
   Re-learning: if no QRS has been found for 3 s, SPK is re-estimated from the
   tallest candidates of the last 8 s.  This recovers from sudden amplitude
   drops (lead change, amplifier saturation) or thresholds inflated by an
   artifact; an 8 s window still contains the beats before a genuine pause, so
   pauses do not lower the thresholds.
5. Fiducial point refinement: within +-75 ms of the envelope peak, take the
   *first* local maximum of |band-passed ECG| that reaches 70 % of the window
   maximum.  This lands on the R peak / main deflection; taking the first
   large peak rather than the absolute maximum avoids jumping to the deep S
   wave / late lobe of wide ventricular and paced complexes.

All durations are given in seconds and converted with fs, so the detector
works unchanged for any sampling rate in the 50-2000 Hz range (the 15 Hz
upper band edge is below Nyquist for fs >= 50 Hz).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ml.dsp import find_peaks, rank_filter, window_max_at
from ml.filters import bandpass_mv
from ml.rhythm import PAUSE_S
from ml.stretches import local_median

PARAMS: dict[str, Any] = dict(
    band=(5.0, 15.0),  # Hz, QRS band
    mwi=0.10,  # s, integration window of the RMS-slope envelope
    refractory=0.25,  # s, min distance between candidates / beats
    learn=10.0,  # s, initial learning period
    a=0.25,  # TH1 = NPK + a (SPK - NPK)
    b=0.7,  # search-back threshold TH2 = b * TH1
    rr_factor=1.66,  # search back when gap > rr_factor * mean RR
    t_win=0.36,  # s, T-wave test applies to beats closer than this
    t_win_slow=0.4,  # s per s of mean RR over 1 s: a wider T-wave window at slow rates
    # Before any RR interval is known the cycle is 1 s, or the median gap between the tall
    # candidates (this share of the signal level or more) of the learning period, if longer
    # (`_first_cycle`): at 28-50 bpm with a long QT the first T wave lay beyond the 1-s
    # default's T-wave window, was taken for a beat, and the short interval kept the window
    # narrow for the whole strip, every T wave a beat (pre-registered rule, README).
    first_cycle_share=0.5,
    t_slope=0.5,  # T-wave if slope < t_slope * previous QRS slope
    t_sharp=0.5,  # ... or if sharpness < t_sharp * recent QRS sharpness (0: off)
    t_both=(0.6, 0.65),  # ... or if slope and sharpness are both under these shares
    sharp_band=(0.5, 40.0),  # Hz, the band sharpness is read in
    sharp_win=0.10,  # s, half window of the deflection sharpness is measured against
    p_win=0.30,  # s, P-wave look-ahead window
    p_ratio=0.6,  # P-wave if height < p_ratio * following candidate
    relearn_gap=3.0,  # s without beats before thresholds are re-learnt
    relearn_win=8.0,  # s of history used for re-learning
    slope_win=0.075,  # s, half window for slope and peak refinement
    refine_frac=0.70,  # first |bp| local max >= this fraction of the max
)


def _moving_average(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average of length n (O(N) via cumulative sum)."""
    n = max(1, int(n))
    c = np.cumsum(np.concatenate(([0.0], x)))
    y = (c[n:] - c[:-n]) / n
    pad = n - 1
    return np.concatenate((np.full(pad // 2, y[0]), y, np.full(pad - pad // 2, y[-1])))


# Confirmation by a second lead (`detect_r_peaks_two_leads`). Chosen on MIT-BIH DS1, svdb and
# nstdb 118/119 at 12 dB (R-peak +P 0.917 -> 0.991, DS1 Se 0.9984 -> 0.9973).
TWO_LEAD: dict[str, float] = dict(
    match_s=0.10,  # a beat of the other lead within this confirms a beat
    echo_s=0.10,  # ... or the other lead's slope envelope within this ...
    echo_level=0.4,  # ... reaching this fraction of its level at confirmed beats
    agreement_beats=10,  # the leads' agreement is judged over this many beats either side
    min_agreement=0.5,  # below it the other lead is too noisy to overrule anything
    rr_percentile=90.0,  # the local cycle: extra beats only shorten intervals
    rr_context_beats=21,
    one_beat_gap=1.6,  # a gap between confirmed beats shorter than this x cycle holds no beat
    amplitude_s=0.05,
    fill_gap_cycles=1.8,  # a primary gap longer than this x the median cycle may hide beats
    fill_margin_s=0.25,  # ... the other lead's beats inside it, this far from its ends, count
    fill_level=0.5,  # ... if their slope reaches this fraction of the other lead's usual one
    restore_removed=1.0,  # 1: a beat removed above is given back in such a gap (round 2b) ...
    restore_min_share=0.25,  # ... when at least this x the kept beats' median QRS-band size
)


def _qrs_band(x: np.ndarray, fs: float, band: tuple[float, float]) -> np.ndarray:
    return bandpass_mv(x - np.median(x), fs, band)


def _slope_envelope(bp: np.ndarray, fs: float, mwi_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The derivative of the band-passed ECG and its RMS over `mwi_s` (linear in amplitude)."""
    d = np.gradient(bp) * fs
    return d, np.sqrt(np.maximum(_moving_average(d * d, round(mwi_s * fs)), 0.0))


def _centred_mean(values: np.ndarray, half: int) -> np.ndarray:
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(values.size)
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, values.size)
    return np.asarray((csum[hi] - csum[lo]) / (hi - lo))


def _has_neighbour(points: np.ndarray, others: np.ndarray, tolerance: float) -> np.ndarray:
    if others.size == 0:
        return np.zeros(points.size, dtype=bool)
    k = np.clip(np.searchsorted(others, points), 1, max(others.size - 1, 1))
    nearest = np.minimum(np.abs(others[k] - points), np.abs(others[k - 1] - points))
    return np.asarray(nearest <= tolerance)


def detect_r_peaks_two_leads(
    primary_mv: np.ndarray, secondary_mv: np.ndarray | None, fs_hz: float
) -> np.ndarray:
    """R peaks of the primary lead checked and completed by a second lead (see
    `detect_r_peaks_both_leads`)."""
    return detect_r_peaks_both_leads(primary_mv, secondary_mv, fs_hz)[0]


def detect_r_peaks_both_leads(
    primary_mv: np.ndarray, secondary_mv: np.ndarray | None, fs_hz: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """R peaks of the primary lead, with the extra detections that noise causes removed where
    a second lead can tell (electrode-motion noise rarely strikes two leads at once).

    A primary beat is *confirmed* when the other lead has a beat, or at least a clear slope,
    at the same moment. Unconfirmed beats are questioned only where the two leads otherwise
    agree, and only if they sit in a gap between confirmed beats too short to hold a beat
    (shorter than 1.6 local cycles); a longer gap keeps as many of them as it has room for,
    the tallest first. Premature beats with their compensatory pause, and every beat in
    stretches where the second lead is noisy or flat, are kept as the primary lead saw them.
    Where the beats kept leave a gap too long for the rhythm, full-size beats dropped here
    are given back (in any pause too) and the other lead's clear beats fill it
    (`_restore_removed`, `_fill_missed_beats`).
    """
    fs = float(fs_hz)
    peaks, primary_bp, _ = _detect(primary_mv, fs)
    if secondary_mv is None:
        return peaks, None
    other, _, envelope = _detect(secondary_mv, fs)
    if peaks.size < 5 or envelope.size != primary_bp.size:
        return peaks, other
    return combine_two_leads(two_lead_evidence(peaks, primary_bp, other, envelope, fs), fs), other


@dataclass(frozen=True)
class TwoLeadEvidence:
    """What the two-lead check reads from the signals, per detected beat: the R peaks of each
    lead, the other lead's largest slope envelope near each primary beat (`echo`), the
    primary's largest QRS-band deflection near it (`amplitude`), and the other lead's
    envelope at its own beats (`other_level`). Local to each beat, so a long recording can
    gather it chunk by chunk and `combine_two_leads` decides on all of it at once."""

    peaks: np.ndarray
    echo: np.ndarray
    amplitude: np.ndarray
    other: np.ndarray
    other_level: np.ndarray

    @staticmethod
    def concatenate(parts: list[TwoLeadEvidence]) -> TwoLeadEvidence:
        return TwoLeadEvidence(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(TwoLeadEvidence))
        )

    def within(self, start: int, stop: int, offset: int = 0) -> TwoLeadEvidence:
        """The beats of each lead in [start, stop), shifted by `offset` samples."""
        mine = (self.peaks >= start) & (self.peaks < stop)
        theirs = (self.other >= start) & (self.other < stop)
        return TwoLeadEvidence(
            self.peaks[mine] + offset,
            self.echo[mine],
            self.amplitude[mine],
            self.other[theirs] + offset,
            self.other_level[theirs],
        )


def two_lead_evidence(
    peaks: np.ndarray, primary_bp: np.ndarray, other: np.ndarray, envelope: np.ndarray, fs: float
) -> TwoLeadEvidence:
    """`TwoLeadEvidence` from each lead's detections, QRS band and slope envelope (`_detect`)."""
    p = TWO_LEAD
    echo = window_max_at(envelope, 2 * int(p["echo_s"] * fs) + 1, peaks)
    amplitude = window_max_at(np.abs(primary_bp), 2 * int(p["amplitude_s"] * fs) + 1, peaks)
    return TwoLeadEvidence(peaks, echo, amplitude, other, envelope[other])


def combine_two_leads(evidence: TwoLeadEvidence, fs: float) -> np.ndarray:
    """The primary beats kept and completed by the other lead (`detect_r_peaks_both_leads`)."""
    p = TWO_LEAD
    peaks, other, echo, amplitude = (
        evidence.peaks,
        evidence.other,
        evidence.echo,
        evidence.amplitude,
    )
    if peaks.size < 5:
        return peaks
    confirmed = _has_neighbour(peaks, other, p["match_s"] * fs)
    if confirmed.sum() < 3:
        return peaks
    # Levels of the beats' own stretch (`ml.stretches`): one Holter part's larger echoes had
    # made another's full-size beats look small, and two were dropped as a "Mobitz II".
    typical_echo = local_median(echo[confirmed], peaks[confirmed] / fs, peaks / fs)
    anchored = confirmed | (echo >= p["echo_level"] * typical_echo)
    agreement = _centred_mean(confirmed.astype(float), int(p["agreement_beats"]))
    pre_rr = np.diff(peaks, prepend=peaks[0] - (peaks[1] - peaks[0]))
    cycle = rank_filter(pre_rr.astype(float), int(p["rr_context_beats"]), p["rr_percentile"])
    anchors = peaks[anchored]
    questioned = np.flatnonzero(~anchored & (agreement >= p["min_agreement"]))
    if questioned.size == 0:
        return _fill_missed_beats(peaks, other, evidence.other_level, fs)
    gap_of = np.searchsorted(anchors, peaks[questioned])  # sorted, as `questioned` is
    keep = np.ones(peaks.size, dtype=bool)
    firsts = np.flatnonzero(np.diff(gap_of, prepend=-1))
    for group, k in zip(np.split(questioned, firsts[1:]), gap_of[firsts], strict=True):
        if k == 0 or k == anchors.size:
            continue
        gap, local_cycle = anchors[k] - anchors[k - 1], float(np.median(cycle[group]))
        room = 0 if gap < p["one_beat_gap"] * local_cycle else max(1, round(gap / local_cycle) - 1)
        if group.size > room:
            keep[group[np.argsort(-amplitude[group], kind="stable")][room:]] = False
    kept = peaks[keep]
    if p["restore_removed"]:
        kept = _restore_removed(kept, peaks[~keep], amplitude[~keep], amplitude[keep], fs)
    return _fill_missed_beats(kept, other, evidence.other_level, fs)


def _restore_removed(
    kept: np.ndarray,
    removed: np.ndarray,
    amplitude: np.ndarray,
    kept_amplitude: np.ndarray,
    fs: float,
) -> np.ndarray:
    """Beats the check removed, given back where the beats kept leave a gap too long for the
    rhythm (`fill_gap_cycles` x the median interval, or a pause: `PAUSE_S` or more) and when
    full size (`restore_min_share` of the kept beats' median): the check judged the gap
    against a cycle that frequent PVCs' compensatory pauses lengthen (MIT-BIH 208), while a
    gap this long is one the other lead is asked to fill; a faint detection in a long silence
    is no beat (svdb 850). A pause finding never rests on a beat the check dropped: a 60-s
    cut of MIT-BIH 201 read a 2.0-s pause around an aberrated APC that V1 barely saw, its
    2.02-s gap just under 1.8 x the cut's median interval of 1.16 s. As many as the gap has
    room for, tallest first."""
    if kept.size < 3 or removed.size == 0:
        return kept
    typical = local_median(kept_amplitude, kept / fs, removed / fs)
    full_size = amplitude >= TWO_LEAD["restore_min_share"] * typical
    restored = []
    for start, stop, room in _long_gaps(kept, fs, always_s=PAUSE_S):
        lo, hi = np.searchsorted(removed, [start, stop])
        inside = np.arange(lo, hi)[full_size[lo:hi]]
        restored.append(removed[inside[np.argsort(-amplitude[inside], kind="stable")][:room]])
    return np.unique(np.concatenate([kept, *restored])) if restored else kept


def _long_gaps(
    peaks: np.ndarray, fs: float, always_s: float = np.inf
) -> list[tuple[int, int, int]]:
    """(first sample, end sample, beats it has room for) inside each gap between `peaks`
    longer than `fill_gap_cycles` x their median interval (or `always_s` long or more),
    `fill_margin_s` in from its ends."""
    p = TWO_LEAD
    rr = np.diff(peaks)
    # The cycle of its own 5-min block on a long recording (`ml.stretches`): a slower part's
    # beside it had hidden a beat dropped by the two-lead check in a gap of two cycles.
    cycle = local_median(rr.astype(float), peaks[1:] / fs, peaks[1:] / fs, block_only=True)
    margin = int(p["fill_margin_s"] * fs)
    return [
        (int(peaks[i] + margin), int(peaks[i + 1] - margin), max(1, round(rr[i] / cycle[i]) - 1))
        for i in np.flatnonzero((rr > p["fill_gap_cycles"] * cycle) | (rr >= always_s * fs))
    ]


def _fill_missed_beats(
    peaks: np.ndarray, other: np.ndarray, other_level: np.ndarray, fs: float
) -> np.ndarray:
    """A beat seen in a good lead is a beat: where the primary lead has a gap too long for the
    rhythm (artefact hid its beats: MIT-BIH 208's 5-s "pause" while V1 keeps beating), the
    other lead's clear beats inside the gap are added. A true pause stays one: the other lead
    has no beat there either. (`other_level`: the other lead's slope envelope at its beats.)"""
    if peaks.size < 3 or other.size < 3:
        return peaks
    usual = local_median(other_level, other / fs, other / fs)  # of its stretch
    added = []
    for start, stop, _room in _long_gaps(peaks, fs):
        lo, hi = np.searchsorted(other, [start, stop])
        added.append(other[lo:hi][other_level[lo:hi] >= TWO_LEAD["fill_level"] * usual[lo:hi]])
    if not added:
        return peaks
    return np.unique(np.concatenate([peaks, *added]))


def _sharpness(x: np.ndarray, fs: float, cand: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Each candidate's steepest slope over its peak-to-peak size (1/s): about 2 / duration
    of the deflection, so a QRS (narrow, even when small) reads high and a T wave (wide and
    rounded, even when tall) low."""
    y = _qrs_band(x, fs, p["sharp_band"])  # the same centring and filter, a wider band
    w = max(1, int(round(p["slope_win"] * fs)))
    h = max(1, int(round(p["sharp_win"] * fs)))
    steepest = window_max_at(np.abs(np.gradient(y)) * fs, 2 * w + 1, cand)
    size = window_max_at(y, 2 * h + 1, cand) + window_max_at(-y, 2 * h + 1, cand)
    return np.asarray(steepest / np.maximum(size, 1e-9))


def detect_r_peaks(signal_mv: np.ndarray, fs_hz: float, **overrides: Any) -> np.ndarray:
    """Return R-peak sample indices (sorted int64 array) of a single-lead ECG.

    signal_mv : 1-D ECG (any unit; only relative amplitudes matter).
    fs_hz     : sampling rate in Hz (tested 50-2000 Hz).
    overrides : optional PARAMS entries to change (for experiments).
    """
    return _detect(signal_mv, fs_hz, **overrides)[0]


def detect_with_bands(
    signal_mv: np.ndarray, fs_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R peaks with the QRS-band signal and slope envelope they came from (`_detect`)."""
    return _detect(signal_mv, fs_hz)


def _first_cycle(cand: np.ndarray, h: np.ndarray, spk: float, fs: float, share: float) -> float:
    """The cycle (samples) assumed before any RR interval is known: 1 s, or longer when the
    tall candidates of the learning period (`share` x the signal level or more) lie further
    apart in the median."""
    tall = cand[h >= share * spk] if share > 0 else cand[:0]
    if tall.size < 3:
        return fs
    return float(min(max(fs, np.median(np.diff(tall))), 2.5 * fs))


def _detect(
    signal_mv: np.ndarray, fs_hz: float, **overrides: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`detect_r_peaks`, also returning the QRS-band signal and its slope envelope (empty
    when the signal was too short to filter), which the two-lead check reuses."""
    p = dict(PARAMS, **overrides)
    fs = float(fs_hz)
    x = np.asarray(signal_mv, dtype=float).ravel()
    none = np.zeros(0, np.int64)
    if x.size < max(int(0.5 * fs), 16):
        return none, none.astype(float), none.astype(float)
    ok = np.isfinite(x)
    if not ok.all():  # bridge NaN gaps linearly
        if not ok.any():
            return none, none.astype(float), none.astype(float)
        idx = np.arange(x.size)
        x = np.interp(idx, idx[ok], x[ok])

    # 1. QRS band-pass (zero phase).
    bp = _qrs_band(x, fs, p["band"])

    # 2. Linear-amplitude slope envelope.
    d, env = _slope_envelope(bp, fs, p["mwi"])

    # 3. Candidates with refractory spacing; their height and max |slope|.
    refr = max(1, int(round(p["refractory"] * fs)))
    cand = find_peaks(env, refr)
    if cand.size == 0:
        return none, bp, env
    h = env[cand]
    w = max(1, int(round(p["slope_win"] * fs)))
    slope = window_max_at(np.abs(d), 2 * w + 1, cand)
    sharp = _sharpness(x, fs, cand, p) if p["t_sharp"] > 0 else np.ones(cand.size)

    # 4. Adaptive thresholds.  Initialise from the first `learn` seconds:
    #    signal level = median of the 5 tallest candidates (robust to one
    #    artifact), noise level = half the median candidate.
    a, b = p["a"], p["b"]
    first = cand < p["learn"] * fs
    if not first.any():
        first[:] = True
    h0 = np.sort(h[first])[::-1]
    spk = float(np.median(h0[:5]))
    npk = 0.5 * float(np.median(h0))
    first_cycle = _first_cycle(cand[first], h[first], spk, fs, p["first_cycle_share"])
    t_win, p_win = p["t_win"] * fs, p["p_win"] * fs
    t_slow = p["t_win_slow"]
    sb_gap = p["rr_factor"]
    relearn_gap, relearn_win = p["relearn_gap"] * fs, p["relearn_win"] * fs

    beats: list[int] = []  # indices into cand of accepted QRS
    rr: list[int] = []  # RR intervals (samples)
    pending: list[int] = []  # rejected candidates since the last QRS (search-back pool)
    last_relearn = 0

    # Plain Python lists: scalar access is ~10x faster than numpy indexing in the loop.
    cand_np, cand, h, slope = cand, cand.tolist(), h.tolist(), slope.tolist()
    sharp_l = sharp.tolist()

    beat_sharpness: list[float] = []  # of the accepted QRS complexes

    def is_t_wave(j: int, last: int, rr_mean: float) -> bool:
        """Close to previous QRS and much less steep, or much blunter than the recent QRS
        complexes (their median: one sharp noise spike must not hide the next QRS) -> T wave."""
        if cand[j] - cand[last] >= t_win + t_slow * max(0.0, rr_mean - fs):
            return False
        if slope[j] < p["t_slope"] * slope[last]:
            return True
        recent = sorted(beat_sharpness[-8:])
        usual_sharpness = recent[len(recent) // 2]
        both_slope, both_sharp = p["t_both"]
        if slope[j] < both_slope * slope[last] and sharp_l[j] < both_sharp * usual_sharpness:
            return True
        return sharp_l[j] < p["t_sharp"] * usual_sharpness

    n_cand = len(cand)
    for k in range(n_cand):
        pos = cand[k]
        rr_mean = sum(rr[-8:]) / len(rr[-8:]) if rr else first_cycle

        # Search-back for beats missed in a long gap.
        while beats and pending and pos - cand[beats[-1]] > sb_gap * rr_mean:
            last = beats[-1]
            th2 = b * (npk + a * (spk - npk))
            pool = [
                j
                for j in pending
                if cand[j] - cand[last] > refr
                and pos - cand[j] > refr
                and not is_t_wave(j, last, rr_mean)
            ]
            if not pool:
                pending = [j for j in pending if pos - cand[j] <= refr]
                break
            j = max(pool, key=lambda i: h[i])
            if h[j] < th2:
                pending = []  # all examined and rejected: keeps it O(N)
                break
            rr.append(cand[j] - cand[last])
            beats.append(j)
            beat_sharpness.append(sharp_l[j])
            spk = 0.25 * h[j] + 0.75 * spk
            pending = [i for i in pending if i > j]
            rr_mean = sum(rr[-8:]) / len(rr[-8:])

        # Re-learn the signal level after a long beat-less stretch.
        since = max(cand[beats[-1]] if beats else 0, last_relearn)
        if pos - since > relearn_gap:
            lo_i = int(np.searchsorted(cand_np, pos - relearn_win))
            hw = np.sort(h[lo_i : k + 1])[::-1]
            spk = float(np.median(hw[:3]))
            npk = min(npk, 0.5 * float(np.median(hw)))
            last_relearn = pos

        th1 = npk + a * (spk - npk)
        is_qrs = h[k] > th1
        if is_qrs and beats and is_t_wave(k, beats[-1], rr_mean):
            is_qrs = False
        if is_qrs:  # P-wave look-ahead
            j = k + 1
            while j < n_cand and cand[j] - pos < p_win:
                if h[j] > th1 and h[k] < p["p_ratio"] * h[j]:
                    is_qrs = False
                    break
                j += 1
        if is_qrs:
            if beats:
                rr.append(pos - cand[beats[-1]])
            beats.append(k)
            beat_sharpness.append(sharp_l[k])
            spk = 0.125 * h[k] + 0.875 * spk
            pending = []
        else:
            npk = 0.125 * h[k] + 0.875 * npk
            pending.append(k)

    # 5. Refine each beat to the first large |bp| peak near the envelope peak.
    ab = np.abs(bp)
    out = np.empty(len(beats), np.int64)
    for n, c in enumerate(cand_np[np.sort(np.asarray(beats, int))]):
        s0 = max(0, c - w)
        seg = ab[s0 : c + w + 1]
        big = p["refine_frac"] * seg.max()
        lm = np.flatnonzero((seg[1:-1] >= seg[:-2]) & (seg[1:-1] >= seg[2:]) & (seg[1:-1] >= big))
        out[n] = s0 + (lm[0] + 1 if lm.size else int(np.argmax(seg)))
    return np.unique(out), bp, env
