"""A beat most leads see is a beat: on a recording of three leads or more (a 12-lead ECG),
the beats the two-lead detection missed are added where most usable leads detect a QRS.

The analysis lead and its companion can both miss a beat whose QRS is isoelectric in them: a
60-s 12-lead ventricular bigeminy whose PVCs were flat in lead II (plain in the 11 other
leads) read "marked bradycardia, 31 bpm" with no PVC, because every other beat missed leaves
no gap the two-lead fill would look into (`ml.rpeaks._fill_missed_beats`). A vote of every
lead needs no gap: a detection in most leads at once is no lead's noise or T wave. Two-lead
recordings (every database here) are read as before.
"""

from __future__ import annotations

import numpy as np

from ml.rpeaks import detect_r_peaks

MIN_LEADS = 3  # fewer leads: the two-lead detection stands alone
MATCH_S = 0.10  # one beat's R peaks in different leads lie this close (lead timing differs)
MAJORITY = 0.5  # a beat is detected in more than this share of the usable leads
REFRACTORY_S = 0.25  # a vote this close to a beat already found is that beat (or none)


def beats_most_leads_see(
    signal_mv: np.ndarray, fs_hz: float, leads: list[int], peaks: np.ndarray
) -> np.ndarray:
    """`peaks` (samples) with the beats added that more than half of `leads` (columns of
    `signal_mv`) detect within MATCH_S of one another and that lie REFRACTORY_S or more from
    every beat of `peaks`; each at the median of its leads' R peaks."""
    peaks = np.asarray(peaks, dtype=np.int64)
    if len(leads) < MIN_LEADS:
        return peaks
    detections = [detect_r_peaks(signal_mv[:, lead], fs_hz) for lead in leads]
    times = np.concatenate(detections)
    lead_of = np.concatenate([np.full(d.size, k) for k, d in enumerate(detections)])
    order = np.argsort(times, kind="stable")
    times, lead_of = times[order], lead_of[order]
    match, refractory = MATCH_S * fs_hz, REFRACTORY_S * fs_hz
    added = []
    start = 0
    while start < times.size:
        stop = int(np.searchsorted(times, times[start] + match, side="right"))
        voters = np.unique(lead_of[start:stop])
        if voters.size > MAJORITY * len(leads):
            at = int(np.median(times[start:stop]))
            if peaks.size == 0 or np.min(np.abs(peaks - at)) >= refractory:
                added.append(at)
        start = stop
    if not added:
        return peaks
    return np.unique(np.concatenate([peaks, np.asarray(added, dtype=np.int64)]))
