"""Where the review chart's "Next finding" stops: every part of the machine read that has a
place in time, in time order.

A stop is a rhythm episode other than plain sinus rhythm, an ectopic beat or run the episodes
do not already cover (a PVC, a couplet, a slow run), a representative beat for an interval
finding measured on the median beat, or a stretch of poor signal. Stops with the same time
stay distinct (the chart walks them by index). A kind with very many occurrences (a Holter
with thousands of PVCs) is thinned to MAX_STOPS_PER_KIND: its LARGEST_KEPT longest (the
longest pause, the longest VT run) and the rest spread over the recording; its labels say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from ml import rhythm
from ml.analysis import EcgAnalysis
from ml.findings import Finding
from ml.gaps import seconds_text
from ml.holter_summary import runs_of

MAX_STOPS_PER_KIND = 50
# Of a thinned kind, the longest occurrences always kept: evenly spread stops alone had left
# out a 24-h Holter's longest pause (5.9 s) and its five longest VT runs (up to 125 beats).
LARGEST_KEPT = 10

# Rhythm episode label -> the finding code of the same name (`ml.vocabulary`).
EPISODE_CODES = {
    rhythm.BRADY: "BRADY",
    rhythm.TACHY: "TACHY",
    rhythm.AF: "AF",
    rhythm.VF: "VF",
    rhythm.VT: "VT",
    rhythm.SVT: "SVT",
    rhythm.IVR: "IVR",
    rhythm.BIGEMINY: "BIGEMINY",
    rhythm.TRIGEMINY: "TRIGEMINY",
    rhythm.PAUSE: "PAUSE",
    rhythm.DROPPED: "DROPPED_BEAT",
    rhythm.HALVED: "AV_BLOCK_2",
    rhythm.MOBITZ_I: "AV_BLOCK_2",
    rhythm.MOBITZ_II: "AV_BLOCK_2",
    rhythm.TWO_TO_ONE: "AV_BLOCK_2",
    rhythm.PACED: "PACED",
    rhythm.NO_P_WAVES: "OTHER_RHYTHM",
    rhythm.NARROW_TACHYCARDIA: "OTHER_RHYTHM",
    rhythm.INVERTED_P_WAVES: "OTHER_RHYTHM",
    rhythm.COMPLETE_BLOCK: "AV_BLOCK_3",
}
# Ectopic beats inside these episodes are already stops (the episode's start).
COVERING_EPISODES = {
    "V": (rhythm.VT, rhythm.IVR, rhythm.VF, rhythm.BIGEMINY, rhythm.TRIGEMINY),
    "S": (rhythm.SVT, rhythm.AF),  # in AF no beat is premature: the PAC finding agrees
}
# (single, two in a row, three or more) per beat class; a fast run of three is an episode.
ECTOPIC_NAMES = {
    "V": ("PVC", "PVC couplet", "Ventricular run"),
    "S": ("PAC", "PAC couplet", "Supraventricular run"),
}
# Findings measured on the median beat: the stop is a typical normal beat.
MEDIAN_BEAT_CODES = (
    "AV_BLOCK_1", "WIDE_QRS", "LONG_QT", "ST_ELEVATION", "ST_DEPRESSION", "LVH", "LEFT_AXIS",
    "RIGHT_AXIS", "LOW_VOLTAGE",
)  # fmt: skip
# Findings about the whole recording, and why "Next finding" has no one place to show them.
NO_STOP_BECAUSE = {
    "NORMAL": "nothing abnormal to show",
    "BRADY": "a mean rate over the whole recording: the heart-rate trend shows it (each "
    "stretch of sinus bradycardia is a stop)",
    "TACHY": "a mean rate over the whole recording: the heart-rate trend shows it (each "
    "stretch of sinus tachycardia is a stop)",
    "NOISY_STRIP": "the whole strip is unreadable: its stretches of poor signal are stops",
    "OTHER_RHYTHM": "the whole strip's rhythm call: every beat of the strip shows it",
}
# How every other finding the machine writes is found in time.
LOCATED_BY = {
    **{
        code: "its rhythm episodes"
        for code in EPISODE_CODES.values()
        if code not in NO_STOP_BECAUSE
    },
    "PVC": "its ventricular beats",
    "FREQUENT_PVC": "its ventricular beats",
    "PAC": "its supraventricular beats",
    **{code: "a typical normal beat (measured on the median beat)" for code in MEDIAN_BEAT_CODES},
}


@dataclass(frozen=True)
class Stop:
    """One step of "Next finding": where the window goes, what the doctor is shown, and the
    kind it belongs to (a finding code, an ectopic pattern, or QUALITY)."""

    t_s: float
    label: str
    kind: str
    size: float = 0.0  # how long (s) or how many beats: a thinned kind keeps its largest


def finding_stops(analysis: EcgAnalysis) -> list[Stop]:
    """Every stop in time order; stops at the same time keep the order episodes, ectopy,
    interval findings, signal quality."""
    stops = [
        *_thinned(list(episode_stops(analysis))),
        *_thinned(list(ectopic_stops(analysis))),
        *median_beat_stops(analysis),
        *_thinned(list(quality_stops(analysis))),
    ]
    return sorted(stops, key=lambda stop: stop.t_s)  # stable


def withdrawn_marked(stops: list[Stop], withdrawn: frozenset[str], note: str) -> list[Stop]:
    """`stops` with those of episodes whose statement the signed read withdrew (`withdrawn`,
    episode labels: `portal.services.documents.withdrawn_episodes`) saying so (`note`): an
    amended read without SVT still stepped to "Supraventricular tachycardia, 5 beats, 1.8 s"
    unqualified (a consistency audit)."""
    kinds = {EPISODE_CODES[label] for label in withdrawn if label in EPISODE_CODES}
    return [replace(s, label=f"{s.label} ({note})") if s.kind in kinds else s for s in stops]


def episode_stops(analysis: EcgAnalysis) -> Iterator[Stop]:
    """Each rhythm episode that is not plain sinus rhythm, at its start."""
    for episode in analysis.episodes:
        if episode.label == rhythm.SINUS:
            continue
        kind = EPISODE_CODES.get(episode.label, episode.label)
        yield Stop(round(episode.start_s, 3), _episode_label(episode), kind, episode.duration_s)


def ectopic_stops(analysis: EcgAnalysis) -> Iterator[Stop]:
    """The first beat of every PVC or PAC, couplet and slow run outside the episodes that
    already cover them (tachycardias, bigeminy, trigeminy)."""
    beat_s = analysis.beats.samples / analysis.fs_hz
    for beat_class, names in ECTOPIC_NAMES.items():
        covering = [
            (e.start_s, e.end_s)
            for e in analysis.episodes
            if e.label in COVERING_EPISODES[beat_class]
        ]
        ectopic = (analysis.beats.classes == beat_class) & ~rhythm.within(beat_s, covering)
        for first, count in runs_of(ectopic):
            name = names[min(count, 3) - 1]
            label = name if count < 3 else f"{name}, {count} beats"
            yield Stop(round(float(beat_s[first]), 3), label, name, count)


def median_beat_stops(analysis: EcgAnalysis) -> list[Stop]:
    """Findings measured on the median beat (PR, QRS, QT) have no one place in time: they stop
    at a typical beat, the first normal beat in good signal, all at the same time."""
    located = [f for f in analysis.findings if f.code in MEDIAN_BEAT_CODES]
    at_s = typical_beat_s(analysis)
    if not located or at_s is None:
        return []
    return [Stop(at_s, _median_beat_label(finding), finding.code) for finding in located]


def typical_beat_s(analysis: EcgAnalysis) -> float | None:
    """The first normal beat outside the flagged segments (else the first normal beat)."""
    beat_s = analysis.beats.samples / analysis.fs_hz
    normal = analysis.beats.classes == "N"
    flagged = [(s.start_s, s.end_s) for s in analysis.flagged_segments]
    for candidates in (normal & ~rhythm.within(beat_s, flagged), normal):
        if candidates.any():
            return round(float(beat_s[np.argmax(candidates)]), 3)
    return None


def quality_stops(analysis: EcgAnalysis) -> Iterator[Stop]:
    """Each stretch of noisy or unusable signal, at its start."""
    for segment in analysis.flagged_segments:
        why = f": {segment.reason}" if segment.reason else ""
        yield Stop(
            round(segment.start_s, 3),
            f"Poor signal quality ({segment.level}{why})",
            "QUALITY",
            segment.end_s - segment.start_s,
        )


def _thinned(stops: list[Stop]) -> list[Stop]:
    """At most MAX_STOPS_PER_KIND of each kind: its LARGEST_KEPT largest, and the rest evenly
    spread in time over the others; when some are left out, the labels of those kept say how
    many there are, and the largest are labelled so."""
    kept: list[Stop] = []
    for kind in dict.fromkeys(stop.kind for stop in stops):
        of_kind = [stop for stop in stops if stop.kind == kind]
        if len(of_kind) <= MAX_STOPS_PER_KIND:
            kept += of_kind
            continue
        by_size = sorted(range(len(of_kind)), key=lambda i: -of_kind[i].size)  # stable
        # Only where sizes differ: of single PACs, all alike, "the longest" were just the
        # first ten (an audit).
        varied = of_kind[by_size[0]].size > of_kind[by_size[-1]].size
        largest = set(by_size[:LARGEST_KEPT]) if varied else set()
        others = [i for i in range(len(of_kind)) if i not in largest]
        spread = np.linspace(0, len(others) - 1, MAX_STOPS_PER_KIND - len(largest))
        chosen = sorted(largest | {others[i] for i in spread.round().astype(int)})
        note = f"{MAX_STOPS_PER_KIND} of {len(of_kind):,} shown"
        kept += [
            replace(
                of_kind[i],
                label=f"{of_kind[i].label} ("
                + (f"one of the {LARGEST_KEPT} longest; " if i in largest else "")
                + f"{note})",
            )
            for i in chosen
        ]
    return kept


def _episode_label(episode: rhythm.Episode) -> str:
    length = seconds_text(episode.duration_s)
    if episode.label in (rhythm.VT, rhythm.SVT, rhythm.IVR, rhythm.BIGEMINY, rhythm.TRIGEMINY):
        return f"{episode.label}, {episode.n_beats} beats, {length}"
    return f"{episode.label}, {length}"


def _median_beat_label(finding: Finding) -> str:
    detail = f": {finding.detail}" if finding.detail else ""
    return f"{finding.label}{detail}, measured on the median beat (a typical beat shown)"
