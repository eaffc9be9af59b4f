"""Heart rate and time-domain heart-rate variability from normal-to-normal (NN) intervals.

HRV describes the autonomic tone through the sinus node, so it is read only between two
normal beats in sinus stretches, and only where those intervals are most of the stretch:
with frequent ectopic beats the few NN intervals left are not a sample of the rhythm (MIT-BIH
232, 29 % of beats normal, read SDNN 430 ms from its pauses), and a handful of intervals is no
measure at all (210 read SDNN 143 ms from 3). The limits follow HRV practice (the 1996 Task
Force asks for edited, mostly sinus NN series; studies commonly set aside records with more
than about 10 % ectopic beats, which removes about 20 % of the intervals): stated, not tuned.
The span too: the Task Force's shortest standard recording is 5 minutes, and SDNN grows with
the length of the recording, so a 30-s strip's SDNN compares with no norm (cardiographs and
handheld recorders report none); HRV needs 5 minutes of readable sinus rhythm.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ml.gaps import duration_text

MIN_RR_S, MAX_RR_S = 0.25, 2.5  # outside this an interval is a detection error, not a rhythm
RATE_WINDOW_BEATS = 8  # min / max heart rate over a moving average of this many intervals
MIN_NN_INTERVALS = 8  # fewer is no measure of variability
MIN_NN_SHARE = 0.8  # of the readable intervals in sinus stretches (about 10 % ectopic beats)
# Readable sinus rhythm: the Task Force's 5-minute short-term recording. Its intervals add up
# to a little less (the beats at its ends are not classified): at 300 s, a 5-minute recording
# read "only 5.0 min of readable sinus rhythm: HRV needs at least 5 minutes" (a clinician-eye
# audit, 2026-12-05).
MIN_SINUS_S = 290.0
SHORT_STRIP_REASON = (
    "a strip of {duration}: HRV needs a recording of about 5 minutes (short spans compare with "
    "no HRV norm)"
)
NO_SINUS_REASON = "no sinus rhythm between normal beats"
NO_RATE_REASON = (
    f"no two beats {MIN_RR_S}-{MAX_RR_S} s apart ({60 / MAX_RR_S:.0f}-{60 / MIN_RR_S:.0f} bpm)"
)
NO_READABLE_RATE_REASON = "no two readable beats in a row: the signal is too poor to count them"
FIBRILLATION_RATE_REASON = (
    "ventricular flutter/fibrillation: its waves are not heartbeats, so there is no rate to count"
)


@dataclass(frozen=True)
class HeartRateSummary:
    mean_bpm: float | None
    min_bpm: float | None
    max_bpm: float | None
    sdnn_ms: float | None
    rmssd_ms: float | None
    pnn50: float | None  # fraction 0..1 of successive NN differences above 50 ms
    n_nn: int
    hrv_reason: str | None = None  # why SDNN, RMSSD and pNN50 are not given
    rate_reason: str | None = None  # why no rate is given (`rate_not_measurable`)


def on_a_strip(rate: HeartRateSummary, duration_s: float) -> HeartRateSummary:
    """A strip's rate with its HRV reason said of the strip (`SHORT_STRIP_REASON`), not of the
    sinus rhythm in it: under a strip called another rhythm, "only 59 s of readable sinus
    rhythm" read as a contradiction (a clinician-eye audit)."""
    if rate.mean_bpm is None or rate.hrv_reason is None:
        return rate
    reason = SHORT_STRIP_REASON.format(duration=duration_text(duration_s))
    return dataclasses.replace(rate, hrv_reason=reason)


def rate_not_measurable(reason: str, hrv_reason: str | None = None) -> HeartRateSummary:
    """No rate and no HRV, and why (the HRV's reason is the rate's unless given): a strip
    whose beats are hidden by noise (`ml.strip_rhythm`) yields "beats" that are noise, and a
    rate counted from them (130 bpm on a synthetic strip at 70) would be given as a fact
    beside "Unclassifiable: too noisy"."""
    return HeartRateSummary(None, None, None, None, None, None, 0, hrv_reason or reason, reason)


def slow_rate(r_peaks: np.ndarray, fs_hz: float) -> HeartRateSummary:
    """Mean, min and max rate from every interval, no HRV: for a clean strip whose beats are
    all further apart than `MAX_RR_S` (`ml.strip_rhythm.slow_strip_call` vouched for the
    signal, so its long intervals are pauses, not missed beats). The rate counted from
    0.25-2.5-s intervals only was "not measurable" beside the strip's "slow (15 bpm)"."""
    rr_s = np.diff(r_peaks) / fs_hz
    rates_bpm = 60.0 / rr_s
    return HeartRateSummary(
        mean_bpm=float(60.0 / np.mean(rr_s)),
        min_bpm=float(np.min(rates_bpm)),
        max_bpm=float(np.max(rates_bpm)),
        sdnn_ms=None,
        rmssd_ms=None,
        pnn50=None,
        n_nn=0,
        hrv_reason=NO_SINUS_REASON,
    )


def heart_rate_summary(
    r_peaks: np.ndarray,
    fs_hz: float,
    normal: np.ndarray | None = None,
    in_sinus: np.ndarray | None = None,
    readable: np.ndarray | None = None,
    paused: np.ndarray | None = None,
) -> HeartRateSummary:
    """Rates from the intervals between two `readable` beats (every beat when not given):
    detections in artefact are not heartbeats, and counting them raised a 58-bpm strip's mean
    rate to 66. HRV from intervals between two `normal` beats, given only when they are at
    least `MIN_NN_SHARE` of the intervals between two `in_sinus` beats (readable beats in
    sinus stretches; every beat when not given), at least `MIN_NN_INTERVALS`, and those sinus
    intervals last `MIN_SINUS_S` in all. `paused`: the intervals (one per pair of beats) that
    are pauses the read found (`rhythm.PAUSE`): longer than MAX_RR_S, yet heartbeats apart,
    so the rates count them (not HRV). Left out, 466 pauses of a 2-h Holter (MIT-BIH 232
    twice over) read a mean of 66 bpm where its 7,119 beats in 120 min are 59 (a Holter
    audit)."""
    rr_s = np.diff(r_peaks) / fs_hz
    plausible = (rr_s >= MIN_RR_S) & (rr_s <= MAX_RR_S)
    beating = plausible if paused is None else plausible | (paused & (rr_s > MAX_RR_S))
    if not beating.any():
        return rate_not_measurable(NO_RATE_REASON, NO_SINUS_REASON)
    counted = beating if readable is None else beating & readable[:-1] & readable[1:]
    if not counted.any():
        return rate_not_measurable(NO_READABLE_RATE_REASON, NO_SINUS_REASON)
    rates_bpm = 60.0 / rr_s[counted]
    if len(rates_bpm) >= RATE_WINDOW_BEATS:
        kernel = np.ones(RATE_WINDOW_BEATS) / RATE_WINDOW_BEATS
        smoothed = 60.0 / np.convolve(rr_s[counted], kernel, mode="valid")
    else:
        smoothed = rates_bpm
    considered = plausible.copy()
    if in_sinus is not None:
        considered &= in_sinus[:-1] & in_sinus[1:]
    nn = considered.copy()
    if normal is not None:
        nn &= normal[:-1] & normal[1:]
    nn_s = rr_s[nn]
    reason = _why_no_hrv(int(nn.sum()), int(considered.sum()), float(rr_s[considered].sum()))
    sdnn = rmssd = pnn50 = None
    if reason is None:
        sdnn = float(np.std(nn_s, ddof=1) * 1000)
        # Successive differences only between adjacent NN intervals (no gap between them).
        adjacent = nn[:-1] & nn[1:]
        differences_s = np.diff(rr_s)[adjacent]
        if len(differences_s):
            rmssd = float(np.sqrt(np.mean(differences_s**2)) * 1000)
            pnn50 = float(np.mean(np.abs(differences_s) > 0.050))
    # The whole span's rate is a rate over RATE_WINDOW_BEATS or more too, so the range holds
    # it: with the extreme intervals at the ends, where fewer windows hold them, a strip read
    # "mean 66 bpm (63-65)" (cinc2017 A07860).
    mean_bpm = float(60.0 / np.mean(rr_s[counted]))
    return HeartRateSummary(
        mean_bpm=mean_bpm,
        min_bpm=min(float(np.min(smoothed)), mean_bpm),
        max_bpm=max(float(np.max(smoothed)), mean_bpm),
        sdnn_ms=sdnn,
        rmssd_ms=rmssd,
        pnn50=pnn50,
        n_nn=int(len(nn_s)),
        hrv_reason=reason,
    )


def _why_no_hrv(n_nn: int, n_considered: int, sinus_s: float) -> str | None:
    """The reason HRV is not measurable, in a clinician's words, or None."""
    if n_nn == 0:
        return NO_SINUS_REASON
    if sinus_s < MIN_SINUS_S:
        return (
            f"only {int(sinus_s)} s of readable sinus rhythm: HRV needs about 5 minutes (at "
            f"least {MIN_SINUS_S:.0f} s; shorter spans compare with no HRV norm)"
        )
    if n_nn < MIN_NN_INTERVALS:
        return (
            f"only {n_nn} intervals between two normal beats in sinus rhythm "
            f"(at least {MIN_NN_INTERVALS} needed)"
        )
    share = n_nn / n_considered
    if share < MIN_NN_SHARE:
        return (
            f"frequent ectopic or unclassified beats: {_share_under(share, MIN_NN_SHARE)} of "
            f"the intervals in sinus rhythm are between two normal beats (at least "
            f"{MIN_NN_SHARE:.0%} needed)"
        )
    return None


def _share_under(share: float, needed: float) -> str:
    """`share` as a percentage that reads under `needed`: a 4-h Holter's 79.7 % had read
    "80% ... (at least 80% needed)" (a Holter audit); a whole percent, else one decimal."""
    whole = f"{share:.0%}"
    return (
        whole
        if round(share * 100) < round(needed * 100)
        else f"{math.floor(share * 1000) / 10:.1f}%"
    )
