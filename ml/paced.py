"""`paced_read(analysis)`: the machine read of a recording whose patient has a pacemaker.

The analysis has no pacing-spike detector (in MIT-BIH the recorders' filters leave the spikes
as 10-20 ms pulses in some paced records, 102 and 104, and hardly any in 107 and 217: a first
measure of them, the sharpest +-8 ms pulse before each QRS over its size, read 0.58-0.70 on
102 and 104, 0.11-0.49 on 107 and 217 and up to 0.43 on unpaced records, so four patients
cannot make one) and the beat classifier never learned paced beats, so on a paced recording
it asserts what it cannot know: MIT-BIH 102 and 107 read as atrial fibrillation, wide paced
complexes as a normal QRS, and a paced beat's delay as a long PR (QT Database sel104). Staff
know which patients have a pacemaker and say so at upload; this step then turns the read into
one that claims only what the machine can still judge.

Kept: the R peaks, the heart rate (mean, min, max), signal quality, pauses (in a paced
patient a pause may mean pacing failure) and ventricular flutter/fibrillation, which are read
from the signal and the beat times, not from the beats' shapes. Withdrawn: the rhythm
(atrial fibrillation/flutter, SVT, VT, bigeminy, trigeminy, dropped beats, sinus rhythm and
its rate labels), the beat types (every beat becomes Q, which is where AAMI puts paced
beats), ectopic beats, AV block, bundle branch block, the intervals and axis (not measurable,
with the reason), HRV, the short strip's rhythm call, and the notes on calls the rules took
back. The rhythm becomes "Paced rhythm
(pacemaker noted at upload)", the PACED statement, at medium risk: the machine has not
vouched for the rhythm, so a doctor should read the strip before routine work, but nothing
on it is known to be urgent (a pause or ventricular fibrillation, when found, outranks it).
A strip too noisy to read stays unreadable: no rhythm is claimed for it, paced or not.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ml import rhythm
from ml.analysis import Beats, EcgAnalysis, machine_notes
from ml.findings import Finding, main_finding
from ml.intervals import not_measured
from ml.strip_rhythm import UNCLASSIFIABLE, StripCall

PACED_RHYTHM = "Paced rhythm (pacemaker noted at upload)"
PACED_STRIP = "paced"  # the label of a short strip's call in a paced read
INTERVAL_REASON = "paced rhythm: intervals are not measured by the machine"
# What the beat types led to (runs set aside, calls taken back as Q or N) speaks of beats
# "called ventricular" or "called supraventricular": a paced read asserts no beat type, so it
# leaves those notes out.
BEAT_TYPE_NOTE_PHRASES = ("called ventricular", "called supraventricular")
HRV_REASON = "paced rhythm"
NOTE = (
    "Pacemaker noted by staff: rhythm, beat types and intervals were not assessed by the "
    "machine; read the strip."
)
PACED_RISK = "medium"
# Findings read from the signal and the beat times, which pacing does not change.
KEPT_CODES = frozenset({"VF", "PAUSE", "NOISY_STRIP"})
KEPT_EPISODES = (rhythm.VF, rhythm.PAUSE)


def paced_read(analysis: EcgAnalysis) -> EcgAnalysis:
    """`analysis` as the read of a paced recording (module docstring). Idempotent."""
    if analysis.pacemaker:
        return analysis
    unreadable = analysis.strip is not None and analysis.strip.label == UNCLASSIFIABLE
    n_beats = len(analysis.beats.samples)
    kept = [f for f in analysis.findings if f.code in KEPT_CODES]
    findings = kept if unreadable else [*kept, _paced_finding()]
    episodes = [e for e in analysis.episodes if e.label in KEPT_EPISODES]
    if not unreadable:  # the paced rhythm from the first beat to the last
        first_s, last_s = (
            analysis.beats.samples[[0, -1]] / analysis.fs_hz
            if n_beats >= 2
            else (0.0, analysis.duration_s)
        )
        episodes.append(rhythm.Episode(rhythm.PACED, float(first_s), float(last_s), n_beats))
    episodes.sort(key=lambda e: (e.start_s, e.label))
    main = main_finding(findings)  # never empty: an unreadable strip says so
    rate = analysis.heart_rate
    paced = dataclasses.replace(
        analysis,
        rhythm_summary=analysis.rhythm_summary if unreadable else _headline(main),
        main_finding=main,
        findings=findings,
        episodes=episodes,
        heart_rate=dataclasses.replace(
            rate, sdnn_ms=None, rmssd_ms=None, pnn50=None, n_nn=0, hrv_reason=HRV_REASON
        ),
        intervals=dataclasses.replace(
            not_measured(INTERVAL_REASON, analysis.intervals.n_beats),
            rr_ms=analysis.intervals.rr_ms,
        ),
        beat_counts={c: (n_beats if c == "Q" else 0) for c in analysis.beat_counts},
        class_probability_mean={c: float(c == "Q") for c in analysis.class_probability_mean},
        beats=Beats(
            analysis.beats.samples,
            np.full(n_beats, "Q", dtype="<U1"),
            np.ones(n_beats),  # assigned by the staff's flag, not estimated
        ),
        classification_leads=(),
        strip=_paced_strip(analysis.strip),
        pacemaker=True,
    )
    own_notes = len(analysis.notes) - len(machine_notes(analysis))
    recording_notes = [  # the reader's and the gaps'; not what the beat types led to
        n
        for n in analysis.notes[: max(own_notes, 0)]
        if not any(phrase in n for phrase in BEAT_TYPE_NOTE_PHRASES)
    ]
    paced.notes = [NOTE, *recording_notes, *machine_notes(paced)]
    return paced


def _paced_finding() -> Finding:
    return Finding(
        "PACED",
        PACED_RHYTHM,
        PACED_RISK,
        None,
        "rhythm, beat types and intervals not assessed by the machine",
    )


def _headline(main: Finding) -> str:
    """The paced rhythm, with the main finding beside it when it is a pause or ventricular
    fibrillation ("Paced rhythm (pacemaker noted at upload) with pause"), so the headline
    never contradicts the main finding (as `rhythm.headline` does for other rhythms)."""
    return PACED_RHYTHM if main.code == "PACED" else f"{PACED_RHYTHM} with {main.label.lower()}"


def _paced_strip(strip: StripCall | None) -> StripCall | None:
    """A short strip's call without its rhythm (an unreadable strip's call is kept)."""
    if strip is None or strip.label == UNCLASSIFIABLE:
        return strip
    return StripCall(
        PACED_STRIP,
        PACED_RHYTHM,
        "pacemaker noted by staff; the strip's rhythm is not assessed by the machine",
        None,
        strip.features,
    )
