"""A beat most leads see is a beat: on a recording of three leads or more (a 12-lead ECG),
the beats the two-lead detection missed are added where most usable leads detect a QRS.

The analysis lead and its companion can both miss a beat whose QRS is isoelectric in them: a
60-s 12-lead ventricular bigeminy whose PVCs were flat in lead II (plain in the 11 other
leads) read "marked bradycardia, 31 bpm" with no PVC, because every other beat missed leaves
no gap the two-lead fill would look into (`ml.rpeaks._fill_missed_beats`). A vote of every
lead needs no gap: a detection in most leads at once is no lead's noise or T wave. Two-lead
recordings (every database here) are read as before.

The same vote judges the analysis lead itself (`lead_that_finds_the_beats`): lead II, the
standard rhythm lead, can hold a QRS nearly isoelectric beside tall P and T waves (a left axis
of -30 degrees is perpendicular to it), and its detector then counts the P and T waves as
beats. A synthetic 10-s 12-lead in sinus rhythm at 75 bpm, QRS axis -30 degrees, read "Other
rhythm, fast (150 bpm)" with every interval not measurable; at -45 degrees and 60 bpm, false
ventricular bigeminy (an audit of the 12-lead path). Where lead II misses or invents beats the
other leads agree on, the read turns to the lead that finds them.
"""

from __future__ import annotations

import numpy as np

from ml.rpeaks import detect_r_peaks

MIN_LEADS = 3  # fewer leads: the two-lead detection stands alone
MATCH_S = 0.10  # one beat's R peaks in different leads lie this close (lead timing differs)
MAJORITY = 0.5  # a beat is detected in more than this share of the usable leads
REFRACTORY_S = 0.25  # a vote this close to a beat already found is that beat (or none)


AGREES = 0.9  # a lead finds the voted beats when its F1 against them is at least this


def lead_detections(
    signal_mv: np.ndarray, fs_hz: float, leads: list[int]
) -> dict[int, np.ndarray] | None:
    """Each lead's own R peaks (samples), by lead index; None under MIN_LEADS leads."""
    if len(leads) < MIN_LEADS:
        return None
    return {lead: detect_r_peaks(signal_mv[:, lead], fs_hz) for lead in leads}


def voted_beats(detections: dict[int, np.ndarray], fs_hz: float) -> np.ndarray:
    """The beats (samples) more than half of the leads detect within MATCH_S of one another,
    each at the median of its leads' R peaks."""
    found = list(detections.values())
    times = np.concatenate(found) if found else np.zeros(0, np.int64)
    lead_of = np.concatenate([np.full(d.size, k) for k, d in enumerate(found)])
    order = np.argsort(times, kind="stable")
    times, lead_of = times[order], lead_of[order]
    match = MATCH_S * fs_hz
    voted = []
    start = 0
    while start < times.size:
        stop = int(np.searchsorted(times, times[start] + match, side="right"))
        if np.unique(lead_of[start:stop]).size > MAJORITY * len(found):
            voted.append(int(np.median(times[start:stop])))
        start = stop
    return np.asarray(voted, dtype=np.int64)


def beats_most_leads_see(
    detections: dict[int, np.ndarray] | None, fs_hz: float, peaks: np.ndarray
) -> np.ndarray:
    """`peaks` (samples) with the voted beats added (`voted_beats` of `lead_detections`) that
    lie REFRACTORY_S or more from every beat of `peaks`."""
    peaks = np.asarray(peaks, dtype=np.int64)
    if detections is None:
        return peaks
    refractory = REFRACTORY_S * fs_hz
    added = [
        at
        for at in voted_beats(detections, fs_hz)
        if peaks.size == 0 or np.min(np.abs(peaks - at)) >= refractory
    ]
    if not added:
        return peaks
    return np.unique(np.concatenate([peaks, np.asarray(added, dtype=np.int64)]))


def matched(found: np.ndarray, voted: np.ndarray, fs_hz: float) -> int:
    """How many voted beats a lead's R peaks `found` lie within MATCH_S of."""
    if found.size == 0 or voted.size == 0:
        return 0
    nearest = np.abs(voted[:, None] - found[None, :]).min(axis=1)
    return int(np.sum(nearest <= MATCH_S * fs_hz))


def agreement(found: np.ndarray, voted: np.ndarray, fs_hz: float) -> float:
    """F1 of a lead's R peaks against the voted beats (a match within MATCH_S)."""
    if found.size == 0 or voted.size == 0:
        return float(found.size == voted.size)
    return 2 * matched(found, voted, fs_hz) / (found.size + voted.size)


def lead_that_finds_the_beats(
    detections: dict[int, np.ndarray] | None,
    fs_hz: float,
    lead: int,
    heights: dict[int, float],
) -> tuple[int, str]:
    """`lead` when it finds the beats most leads agree on (or there is no vote); else the
    tallest QRS (`heights`) among the leads that do. With the lead, what `lead` found when it
    was set aside ("" when not): "found 31 of the 62 beats most leads agree on, and 0 others"."""
    if detections is None:
        return lead, ""
    voted = voted_beats(detections, fs_hz)
    scores = {i: agreement(found, voted, fs_hz) for i, found in detections.items()}
    agreeing = [i for i, score in scores.items() if score >= AGREES]
    if scores[lead] >= AGREES or not agreeing:
        return lead, ""
    hits = matched(detections[lead], voted, fs_hz)
    others = max(0, detections[lead].size - hits)
    return max(agreeing, key=lambda i: heights[i]), (
        f"found {hits} of the {voted.size} beats most leads agree on, and {others} others"
    )
