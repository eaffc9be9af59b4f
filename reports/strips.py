"""Which ECG strips a report prints: for a 12-lead recording the classic 3 x 4 grid with a lead II
rhythm strip (page 1); 10 s of every lead that grid does not show (all leads of any other
recording); a 30 s rhythm strip of the analysis lead; and 10 s around an episode of each
significant rhythm (the first VF, the longest AF episode, VT and SVT run, the longest pause)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ml import rhythm
from ml.analysis import EcgAnalysis
from ml.gaps import HMS_FROM_S, clock
from ml.recording import Recording, canonical_lead_name, standard_order
from reports.data import NOT_SIGNED, TWELVE_LEAD, Strip
from reports.paper import strip_svg
from reports.time_of_day import moment_text, time_of_day
from reports.twelve_lead import lead_indices, twelve_lead_svg

STRIP_S = 10.0
RHYTHM_ROWS = 3
SIGNIFICANT = (rhythm.VF, rhythm.VT, rhythm.AF, rhythm.SVT)


def _markers(analysis: EcgAnalysis, start_s: float, end_s: float) -> list[tuple[float, str]]:
    t = analysis.beats.samples / analysis.fs_hz
    classes = analysis.beats.classes
    keep = np.flatnonzero((t >= start_s) & (t <= end_s))
    return [(float(t[i]), str(classes[i])) for i in keep if classes[i] != "N"]


def report_strips(
    recording: Recording,
    analysis: EcgAnalysis,
    withdrawn: frozenset[str] = frozenset(),
    started: dt.datetime | None = None,
) -> list[Strip]:
    """The PDF's strips: every lead, the rhythm strips, and 10 s around an episode of each
    SIGNIFICANT rhythm and the longest pause (`_shown_episode`), titled on the notes' clock.
    An episode label in `withdrawn` (its statement is not in the signed read) says so in its
    title: an amended report still showed "Supraventricular tachycardia at 1183.2 s" after
    the doctor withdrew the SVT as artefact (a clinician-eye audit). `started`: when the
    recording began (aware, the hospital's zone), to say each episode's clock time too."""
    fs = recording.fs_hz
    span = min(STRIP_S, recording.duration_s)
    strips = []
    standard = lead_indices(recording.lead_names) or {}
    in_grid = set(standard.values())
    if in_grid:  # a 12-lead recording: the 3 x 4 grid shows them, so no 10 s stack of them
        # The rhythm strip is the lead the read was made on: lead II, or the lead it turned to
        # when lead II was flat or could not find the beats (page 1 printed a flat lead II).
        read_on = canonical_lead_name(analysis.analysis_lead)
        rhythm_lead = read_on if read_on in standard else "II"
        strips.append(
            Strip(
                f"12-lead ECG, 0-{span:.0f} s, 2.5 s per lead. Rhythm strip, lead "
                f"{rhythm_lead}, 0-{span:.0f} s",
                twelve_lead_svg(recording, _markers(analysis, 0.0, span), rhythm_lead),
                kind=TWELVE_LEAD,
            )
        )
    for lead in standard_order(recording.lead_names):  # I, II, III, aVR, ... V6, others
        k = recording.lead_names.index(lead)
        if k in in_grid:
            continue
        strip = strip_svg(recording.signal_mv[:, k], fs, lead_name=lead, start_s=0, duration_s=span)
        strips.append(Strip(f"Lead {lead}, 0-{span:.0f} s", strip))
    chosen_lead = analysis.analysis_lead
    index = recording.lead_names.index(chosen_lead) if chosen_lead in recording.lead_names else 0
    name = recording.lead_names[index]
    signal = recording.signal_mv[:, index]
    for row in range(RHYTHM_ROWS):
        start = row * STRIP_S
        if start >= recording.duration_s:
            break
        length = min(STRIP_S, recording.duration_s - start)
        strips.append(
            Strip(
                f"Rhythm strip, lead {name}, {start:.0f}-{start + length:.0f} s",
                strip_svg(signal, fs, lead_name=name, start_s=start, duration_s=length,
                          markers=_markers(analysis, start, start + length)),
            )
        )  # fmt: skip
    chosen = [_shown_episode(analysis.episodes, label) for label in (*SIGNIFICANT, rhythm.PAUSE)]
    clock_time = time_of_day(started, recording.duration_s) if started is not None else None

    def when(t_s: float) -> str:
        """A Holter's strip "at 23:51:52" was read as a time of day (a Holter audit)."""
        return moment_text(t_s, recording.duration_s, clock_time)

    for episode, which in (c for c in chosen if c is not None):
        start = max(0.0, min(_strip_start_s(episode, span), recording.duration_s - span))
        shown_at = episode.start_s
        if episode.label in SHOWN_INSIDE:  # the strip is inside it: say where it began
            onset = clock(episode.start_s, recording.duration_s >= HMS_FROM_S)
            which = f"{which[:-1]}, from {onset})" if which else f" (from {onset})"
            shown_at = start
        said = f" ({NOT_SIGNED})" if episode.label in withdrawn else ""
        strips.append(
            Strip(
                f"{episode.label}{which} at {when(shown_at)}, lead {name}{said}",
                strip_svg(signal, fs, lead_name=name, start_s=start, duration_s=span,
                          markers=_markers(analysis, start, start + span)),
            )
        )  # fmt: skip
    return strips


# Runs shown by their longest (most beats): a 24-h Holter's VT strip showed its first run, of 3
# beats, beside a finding saying "longest 70 s; up to 125 beats" (a Holter audit). Ventricular
# fibrillation is shown at its first onset, where the strip shows it begin.
LONGEST_SHOWN = (rhythm.VT, rhythm.SVT, rhythm.AF, rhythm.PAUSE)
SHOWN_BY_BEATS = (rhythm.VT, rhythm.SVT)  # the others by their length
# AF is shown from the middle of its longest episode: its onset, read over 32-beat and 30-s
# windows, may lead the true one by seconds, and a Holter's AF strip from 2 s before its first
# onset (1799.8 s, the AF from 1805.7 s) showed 7 s of sinus rhythm in 10 (a Holter audit).
SHOWN_INSIDE = (rhythm.AF,)


def _strip_start_s(episode: rhythm.Episode, span_s: float) -> float:
    """Where an episode's strip starts: 2 s before its onset, or for SHOWN_INSIDE the
    `span_s` in its middle."""
    if episode.label not in SHOWN_INSIDE:
        return episode.start_s - 2.0
    return max(episode.start_s, (episode.start_s + episode.end_s - span_s) / 2)


def _shown_episode(episodes: list[rhythm.Episode], label: str) -> tuple[rhythm.Episode, str] | None:
    """The episode of `label` a strip shows (the longest run or pause, else the first), and
    which it is when there are several (" (the longest of 521: 125 beats, 70 s)")."""
    of_label = [e for e in episodes if e.label == label]
    if not of_label:
        return None
    if label not in LONGEST_SHOWN:
        return of_label[0], ""
    by_beats = label in SHOWN_BY_BEATS
    longest = max(of_label, key=lambda e: (e.n_beats if by_beats else 0, e.duration_s))
    if len(of_label) == 1:
        return longest, ""
    beats = f"{longest.n_beats} beats, " if by_beats else ""
    return longest, f" (the longest of {len(of_label):,}: {beats}{longest.duration_s:.1f} s)"
