"""The findings of a machine read: what the beats, episodes, intervals and heart rate amount
to, each with its risk, and which of them leads (the main finding). Reads no signal, so the
whole-record and the chunked analysis, the paced read and stored reads share it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml import rhythm, vocabulary
from ml.artefact_runs import NOTE_PHRASE as ARTEFACT_NOTE_PHRASE
from ml.av_dissociation import PR_REASON as DISSOCIATION_PR_REASON
from ml.einthoven import AUGMENTED_DISAGREE, LIMB_LEADS_DISAGREE
from ml.gaps import clocks, duration_text, seconds_text
from ml.hrv import HeartRateSummary
from ml.intervals import (
    LABELS,
    NO_P_WAVE_REASON,
    OUTSIDE_PLAUSIBLE,
    SHORT_PR_MS,
    WIDE_QRS_MS,
    WITHHELD_AS_UNSURE,
    Intervals,
)
from ml.lead_reversal import ARMS_SWAPPED
from ml.narrow_tachycardia import CAUSES as NARROW_TACHYCARDIA_CAUSES
from ml.pause_p_waves import pause_p_wave_phrase
from ml.st_segment import (
    WIDE_QRS_CAVEAT,
    depressed_leads,
    diffuse_with_avr_elevation,
    elevated_leads,
    st_depression_detail,
    st_elevation_detail,
)
from ml.standstill import Silence
from ml.strip_rhythm import OTHER_AF_NOT_RULED_OUT_TEXT, StripCall, may_be_fibrillation
from ml.vocabulary import (
    BAZETT_OVERCORRECTS_ABOVE_BPM,
    LONG_QTC_FRIDERICIA_MS,
    NORMAL_AXIS_DEG,
    NORMAL_ECG_BPM,
    STATEMENTS,
)
from ml.voltage import LOW_LIMB_VOLTAGE_MV, SOKOLOW_LYON_MV, low_voltage_detail, lvh_detail
from ml.wenckebach import PR_REASON

RISK_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class Finding:
    code: str  # a code of `ml.vocabulary.STATEMENTS`, nothing else
    label: str
    risk: str  # low / medium / high
    confidence: float | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.code not in STATEMENTS:
            raise ValueError(f"finding code {self.code!r} is not in ml.vocabulary")


def main_finding(findings: list[Finding]) -> Finding:
    """The highest risk; within a risk level the most serious kind (`ml.vocabulary`)."""
    return max(findings, key=lambda f: (RISK_ORDER[f.risk], -STATEMENTS[f.code].severity))


# The PR interval is withdrawn when atrial fibrillation/flutter holds at least this share of
# the normal beats the median beat is made of: whatever precedes their QRS is not a P wave.
# Not a half: an AF episode's edges are only known to a few seconds, and where sinus beats
# make half the median beat their P wave still shows in it (and is a true PR).
AF_SHARE_WITHOUT_PR = 0.75
# Ectopic beats are "frequent" from this share of all beats (FREQUENT_PVC; a PAC finding gives
# its share from here, and the patient's summary says "Many extra beats").
FREQUENT_ECTOPY_SHARE = 0.10
LONG_QTC_MS = 470.0  # QTc (Bazett) from which a long-QT finding is made (high from 500)
AF_PR_REASON = "no P waves in atrial fibrillation/flutter to measure it from"


def without_pr_in_af(intervals: Intervals, measured_in_af: np.ndarray) -> Intervals:
    """`intervals` with the PR "not measurable" when most measured beats lie in AF/flutter
    (`measured_in_af`: one flag per beat the median beat is made of) and a P onset was found,
    the PR measured or withheld for doubt (AF's is then the reason). The P-wave check does
    not always catch it (a handheld strip's flutter waves or a few sinus beats can stand out
    in the median beat), and a PR beside an AF call, let alone "first-degree AV block",
    contradicts the read."""
    if intervals.p_onset_ms is None or len(measured_in_af) == 0:
        return intervals  # no P wave found: the measurement says why
    if np.mean(measured_in_af) < AF_SHARE_WITHOUT_PR:
        return intervals
    return _without_pr(intervals, AF_PR_REASON)


def without_doubtful_long_qt(intervals: Intervals) -> Intervals:
    """`intervals` with the QT (and its QTc) "not measurable" when its QTc would be long
    (`LONG_QTC_MS`) but it was measured with low confidence, as a marked first-degree block's
    PR is (`intervals.SURE_ONLY_ABOVE_MS`); the reason gives the figures, and the T-wave end
    stays marked on the median beat for the doctor to check. A low-confidence QT stood as a
    number beside "No significant arrhythmia" (no finding is drawn from it): of the 1,618
    non-DS2 reads 82 showed a low-confidence QTc of 470 ms or more, 13 of them so (cinc2017
    A01040, QTc 645 ms), and every single-lead synthetic long QT (QTc 480-580 ms, measured
    within 10 ms) read so."""
    qt_ms, qtc_ms = intervals.qt_ms, intervals.qtc_bazett_ms
    if qt_ms is None or qtc_ms is None or qtc_ms < LONG_QTC_MS:
        return intervals
    if intervals.confidence.get("qt") == "high" or not _long_by_fridericia_when_fast(intervals):
        return intervals
    reason = (
        f"the QT found ({qt_ms:.0f} ms, QTc {qtc_ms:.0f} ms) would be a long QT (QTc "
        f"{LONG_QTC_MS:.0f} ms or more), {WITHHELD_AS_UNSURE}: check the T wave's end on the "
        "median beat"
    )
    return dataclasses.replace(
        intervals,
        qt_ms=None,
        qtc_bazett_ms=None,
        qtc_fridericia_ms=None,
        not_measurable={**intervals.not_measurable, "qt": reason},
        confidence={k: v for k, v in intervals.confidence.items() if k != "qt"},
    )


def without_doubtful_wide_qrs(intervals: Intervals) -> Intervals:
    """`intervals` with the QRS "not measurable" when it would be wide (`WIDE_QRS_MS` or
    more) but was measured with low confidence, as a long QT so measured is
    (`without_doubtful_long_qt`); its onset and end stay marked on the median beat. A 12-lead
    left bundle branch block of 150 ms, whose leads disagree on the QRS onset, read "QRS 166
    ms (low confidence)" beside "No significant arrhythmia", which the worklist showed as a
    routine "Normal ECG" (a 12-lead audit); the withheld QRS now stands beside it
    (`_withheld_doubt`) and the form does not preselect a normal ECG."""
    qrs_ms = intervals.qrs_ms
    if qrs_ms is None or qrs_ms < WIDE_QRS_MS or intervals.confidence.get("qrs") == "high":
        return intervals
    reason = (
        f"the QRS found ({qrs_ms:.0f} ms) would be wide ({WIDE_QRS_MS:.0f} ms or more: a "
        f"bundle branch block or ventricular conduction), {WITHHELD_AS_UNSURE}: check the QRS "
        "on the median beat and in every lead"
    )
    return dataclasses.replace(
        intervals,
        qrs_ms=None,
        not_measurable={**intervals.not_measurable, "qrs": reason},
        confidence={k: v for k, v in intervals.confidence.items() if k != "qrs"},
    )


NO_P_WAVE_PR_REASON = "the strip's rhythm shows no consistent P wave before the QRS"


def without_pr_without_p_waves(intervals: Intervals) -> Intervals:
    """`intervals` with the PR "not measurable" under a strip call that found no consistent
    P wave (`ml.strip_rhythm.rules_out_sinus`): the median beat can still show a wave before
    the QRS (fibrillatory waves averaged, a small wave in the noise), and a PR beside "no
    consistent P wave" contradicts the read; a synthetic 10-s 12-lead in atrial fibrillation,
    called "other rhythm: irregular RR intervals, no consistent P wave", read "first-degree
    AV block, PR 204 ms" at high confidence."""
    return _without_pr(intervals, NO_P_WAVE_PR_REASON) if intervals.pr_ms is not None else intervals


def without_pr_in_dissociation(intervals: Intervals) -> Intervals:
    """`intervals` with the PR "not measurable" where the P waves march apart from the QRS
    complexes (`ml.av_dissociation`): a median beat's PR there is chance."""
    return _without_pr(intervals, DISSOCIATION_PR_REASON)


def without_pr_in_mobitz_i(intervals: Intervals) -> Intervals:
    """`intervals` with the PR "not measurable": in a Mobitz I block it lengthens beat by beat,
    and one median PR would read as a fact (a first-degree block) what is a block's cycle."""
    return _without_pr(intervals, PR_REASON)


def _without_pr(intervals: Intervals, reason: str) -> Intervals:
    """`intervals` with the PR (and its P onset) "not measurable" for `reason`."""
    return dataclasses.replace(
        intervals,
        pr_ms=None,
        p_onset_ms=None,
        not_measurable={**intervals.not_measurable, "pr": reason},
        confidence={k: v for k, v in intervals.confidence.items() if k != "pr"},
    )


def artefact_runs_note(spans_s: list[tuple[float, float]]) -> str:
    """What the read says of the ventricular runs it set aside as artefact."""
    where = clocks(start_s for start_s, _ in spans_s)
    runs, were = ("1 run", "was") if len(spans_s) == 1 else (f"{len(spans_s)} runs", "were")
    return (
        f"{runs} of beats called ventricular in a noisy stretch (at {where}) {were} "
        f"{ARTEFACT_NOTE_PHRASE}: their beats do not look alike, as motion artefact makes "
        "them; check the strip there."
    )


def joined_pauses_note(pauses: list[rhythm.Episode]) -> str:
    """What the read says of pauses it joined across detections that may be no beat."""
    inside = sum(e.n_beats - 2 for e in pauses)
    what = "1 pause" if len(pauses) == 1 else f"{len(pauses)} pauses"
    lasting = ", ".join(f"{e.duration_s:.1f} s" for e in pauses)
    holds = "holds" if len(pauses) == 1 else "hold"
    detections = "1 detection" if inside == 1 else f"{inside} detections"
    return (
        f"{what} ({lasting}, at {clocks(e.start_s for e in pauses)}) {holds} {detections} "
        "under a quarter of the usual QRS size in a stretch of poor signal, not taken as beats "
        "ending it; check the strip there."
    )


def unreadable_findings(reason: str, episodes: list[rhythm.Episode]) -> list[Finding]:
    """A recording too noisy to read (a strip called unclassifiable, or a longer recording
    with no usable stretch) yields no beat-based finding (noise makes false VT and pauses),
    only the request to repeat it, with the `reason`, and ventricular fibrillation if seen."""
    findings = [
        Finding(
            "NOISY_STRIP",
            "Unclassifiable: too noisy",
            "medium",
            None,
            f"{reason}; repeat the recording",
        )
    ]
    fibrillation = [e for e in episodes if e.label == rhythm.VF]
    if fibrillation:
        findings.insert(
            0, Finding("VF", rhythm.VF, "high", None, f"{len(fibrillation)} episode(s)")
        )
    return findings


# Every run of 3 or more ventricular beats above 100 /min is ventricular tachycardia (the
# episode and the finding say so), but it is high risk only from this many beats in a run;
# shorter runs are non-sustained VT at medium risk. Bedside monitors rank them the same way
# (Philips IntelliVue: "V-Tach" from a run of 5 at >= 100 /min, shorter runs a lower-priority
# "non-sustained VT"; Mindray from 6). Most runs that motion artefact makes on handheld strips
# are 3-4 beats (11 of the 13 normal cinc2017 strips whose main finding was VT).
VT_HIGH_RISK_BEATS = 5
# One lead's ventricular calls are wrong more often than two leads' averaged (out of fold, each
# lead read alone: `python -m ml.train --cv-report`, figures in the README's "The beat
# classifier"). The findings that count V calls say so when only one lead was read, as on a
# handheld strip.
ONE_LEAD_CAVEAT = "read from one lead only, where ventricular calls are less reliable than with two"


# A dropped beat is a P wave not conducted, and a premature atrial beat blocked in the T wave
# before it drops one too, with no AV block: MIT-BIH 219's 133 blocked premature beats read five
# "dropped beat(s)" as AV block (an electrophysiologist's audit). The 2:1 finding says it too.
BLOCKED_PAC_CAVEAT = (
    "; blocked atrial premature beats look alike: check the T wave before each for a P wave"
)

# Rhythms in which a pause holds no sinus P wave whatever its cause (`ml.pause_p_waves`).
NO_SINUS_P_WAVES = (
    rhythm.AF, rhythm.NO_P_WAVES, rhythm.NARROW_TACHYCARDIA, rhythm.COMPLETE_BLOCK, rhythm.VF,
)  # fmt: skip
# A wide QRS at a marked tachycardia (mean over 120 bpm, `_rate_findings`) outside AF is a
# wide-complex tachycardia, read as ventricular tachycardia until proven otherwise (SVT with a
# bundle-branch block looks alike). The beat classifier reads each beat against the patient's
# dominant beat, so where every beat is ventricular none looks ventricular: 10-60 s of
# synthetic monomorphic VT at 165 bpm (QRS 140-170 ms, no P waves) read "Other rhythm: fast",
# with a wide QRS at medium risk and, on 12 leads, a first-degree AV block of 336 ms (the "P
# wave" was the T wave before), and no VT.
WIDE_COMPLEX_TACHYCARDIA_BPM = 120.0
# A wide QRS lengthens the QT by itself. With QRS >= 120 ms the AHA/ACCF/HRS recommendations
# (Rautaharju et al. 2009, part IV) judge repolarisation by the JT interval instead: the JT
# index, JT x (heart rate + 100) / 518, is prolonged from 112 (Rautaharju et al. 2004). MIT-BIH
# 109 (left bundle branch block, QRS 167 ms) read "Prolonged QTc" 542 ms at high risk; its JT
# index is 103.
JT_INDEX_LIMIT = 112


def _long_by_fridericia_when_fast(intervals: Intervals) -> bool:
    """Above BAZETT_OVERCORRECTS_ABOVE_BPM, the QTc by Fridericia is long too."""
    if not intervals.rr_ms or 60000.0 / intervals.rr_ms <= BAZETT_OVERCORRECTS_ABOVE_BPM:
        return True
    fridericia = intervals.qtc_fridericia_ms
    return fridericia is not None and fridericia >= LONG_QTC_FRIDERICIA_MS


# A QRS this long, short of a bundle branch block's 120 ms, lengthens the QT too: the long-QT
# finding says so with the JT index (MIT-BIH 207, 1,457 LBBB beats, read a high-risk QTc of
# 660 ms beside a QRS of 119 ms, nothing said of the conduction delay; a Holter audit).
NEAR_WIDE_QRS_MS = 110.0


def _near_wide_caveat(intervals: Intervals) -> str | None:
    """The long-QT finding's caveat for a QRS of NEAR_WIDE_QRS_MS up to a wide one."""
    qrs_ms, jti = intervals.qrs_ms, jt_index(intervals)
    if qrs_ms is None or jti is None or not NEAR_WIDE_QRS_MS <= qrs_ms < WIDE_QRS_MS:
        return None
    return (
        f"; the QRS of {qrs_ms:.0f} ms (a conduction delay) lengthens the QT too: "
        f"{jt_index_words(jti)}; check for a bundle branch block"
    )


def jt_index_words(jti: float) -> str:
    """The JT index and whether it is prolonged: "JT index 104 (prolonged from 112)" read the
    same as "JT index 165 (prolonged from 112)", and a reader took 104 for prolonged."""
    if jti >= JT_INDEX_LIMIT:
        return f"JT index {jti:.0f}, prolonged (from {JT_INDEX_LIMIT})"
    shown = f"{jti:.0f}" if round(jti) < JT_INDEX_LIMIT else f"{jti:.1f}"  # never "112, within"
    return f"JT index {shown}, within normal (prolonged from {JT_INDEX_LIMIT})"


def jt_index(intervals: Intervals) -> float | None:
    """JT x (heart rate + 100) / 518 from the QT, QRS and sinus cycle; None without them."""
    if intervals.qt_ms is None or intervals.qrs_ms is None or not intervals.rr_ms:
        return None
    heart_rate_bpm = 60000.0 / intervals.rr_ms
    return (intervals.qt_ms - intervals.qrs_ms) * (heart_rate_bpm + 100.0) / 518.0


def findings_of_read(
    episodes: list[rhythm.Episode],
    intervals: Intervals,
    rate: HeartRateSummary,
    counts: dict[str, int],
    classes: np.ndarray,
    probabilities: np.ndarray,
    af_beat_share: float = 0.0,
    one_lead: bool = False,
    other_strip: StripCall | None = None,
    atrial_bpm: float | None = None,
    two_to_one_atrial_bpm: float | None = None,
    silences: Sequence[Silence] = (),
    pause_p_waves: dict[tuple[float, float], int | None] | None = None,
    s_in_af: int = 0,
    leads_not_read: Sequence[str] = (),
    through_noise: bool = False,
    vf_waves: int = 0,
) -> list[Finding]:
    """Every finding of a readable recording; "No significant arrhythmia" when none, except
    on a strip called another rhythm (`other_strip`), whose call is then the finding: the
    read's headline must not say one thing and its main finding another.
    `af_beat_share`: the share of beats inside AF/flutter episodes (see `_rate_findings`).
    `one_lead`: the beats were classified from one lead (ONE_LEAD_CAVEAT). `atrial_bpm`: the
    P waves' rate where they march apart from the QRS complexes (`ml.av_dissociation`).
    `silences`: stretches with no QRS complex (`ml.standstill`); one open at the recording's
    start or end is a pause the finding says so of. `pause_p_waves`: the P waves found in
    each pause, by its (start, end) (`ml.pause_p_waves`): AV block or sinus arrest.
    `s_in_af`: the S calls inside AF/flutter episodes, not counted as premature atrial beats
    (in AF there is no sinus rhythm for a beat to be premature to; MIT-BIH 201 read 97 PACs
    where its Holter table, outside AF, counts 88, and the patient was told of extra beats
    from the top of the heart; a consistency audit). `leads_not_read`: leads left out for
    their signal, which "No significant arrhythmia" names (`_withheld_doubt`). `vf_waves`: the
    detections inside ventricular flutter/fibrillation (`ml.holter_summary.vf_waves`), no beats,
    so left out of the ectopy shares as the Holter summary leaves them out of its beats."""
    findings: list[Finding] = []
    pause_p_waves = pause_p_waves or {}
    by_label: dict[str, list[rhythm.Episode]] = {}
    for episode in episodes:
        by_label.setdefault(episode.label, []).append(episode)
    # Not the VF waves: MIT-BIH 207's last 305 s read 144 PVCs "(27%) outside the ventricular
    # flutter/fibrillation, whose waves are not counted" of 533 detections, 276 of them VF
    # waves; 144 of its 257 beats are 56 % (a Holter audit).
    total_beats = max(1, len(classes) - vf_waves)

    def add_episodes(label: str, code: str, risk: str, describe: str, caveat: str = "") -> None:
        found = by_label.get(label, [])
        if found:
            longest = max(e.duration_s for e in found)
            detail = f"{len(found)} {describe}, longest {seconds_text(longest)}{caveat}"
            findings.append(Finding(code, label, risk, None, detail))

    # The detector reads a sinusoidal ventricular trace; at 150-240 /min fast VT makes one too
    # (MIT-BIH 205's VT and 207's flutter share those rates): the doctor is told so.
    add_episodes(
        rhythm.VF,
        "VF",
        "high",
        "episode(s) of ventricular flutter or fibrillation",
        "; very fast ventricular tachycardia looks alike, so check the strip",
    )
    one_lead_caveat = f"; {ONE_LEAD_CAVEAT}" if one_lead else ""
    check = one_lead_caveat and f"{one_lead_caveat}: check the strip"
    most_beats = max((e.n_beats for e in by_label.get(rhythm.VT, [])), default=0)
    if 0 < most_beats < VT_HIGH_RISK_BEATS:
        short = (
            f"short run(s) of 3-{VT_HIGH_RISK_BEATS - 1} ventricular beats over 100 /min "
            "(non-sustained)"
        )
        artefact = "; check the strip: motion artefact can look alike"
        add_episodes(rhythm.VT, "VT", "medium", short, artefact + one_lead_caveat)
    else:
        longest_run = f"; up to {most_beats} beats" if most_beats else ""
        add_episodes(
            rhythm.VT,
            "VT",
            "high",
            "run(s) of 3 or more ventricular beats over 100 /min",
            longest_run + check,
        )
    af_mostly = af_beat_share >= AF_SHARE_WITHOUT_RATE_FINDING
    add_episodes(
        rhythm.AF,
        "AF",
        "high",
        "episode(s) of irregularly irregular rhythm",
        _ventricular_rate(rate) if af_mostly else "",
    )
    add_episodes(
        rhythm.SVT, "SVT", "medium", "run(s) of 3 or more supraventricular beats over 100 /min"
    )
    if by_label.get(rhythm.IVR):
        findings.append(_idioventricular(by_label[rhythm.IVR], check))
    add_episodes(rhythm.BIGEMINY, "BIGEMINY", "medium", "episode(s)", check)
    add_episodes(rhythm.TRIGEMINY, "TRIGEMINY", "medium", "episode(s)", check)
    dropped = len(by_label.get(rhythm.MOBITZ_I, []))
    suddenly_dropped = len(by_label.get(rhythm.MOBITZ_II, []))
    held = by_label.get(rhythm.TWO_TO_ONE, [])
    if suddenly_dropped:  # the one AV_BLOCK_2 finding: it names the block's type
        findings.append(_mobitz_ii(suddenly_dropped, dropped, held))
    elif held and not dropped:
        findings.append(_two_to_one(held, two_to_one_atrial_bpm))
    elif dropped:
        detail = (
            f"{dropped} dropped beat{'' if dropped == 1 else 's'}, each after the PR "
            "lengthened beat by beat (Mobitz I, Wenckebach): P waves at a steady rate, one not "
            "conducted"
        )
        findings.append(Finding("AV_BLOCK_2", rhythm.MOBITZ_I, "medium", None, detail))
    else:
        add_episodes(
            rhythm.HALVED,
            "AV_BLOCK_2",
            "medium",
            "episode(s) of the rate halving abruptly (every other beat dropped)",
            "; 2:1 AV block, blocked atrial premature beats or a flutter's changing conduction: "
            "check the P waves",
        )
    add_episodes(rhythm.DROPPED, "DROPPED_BEAT", "medium", "dropped beat(s)", BLOCKED_PAC_CAVEAT)
    pauses = by_label.get(rhythm.PAUSE, [])
    if pauses:
        longest = max(p.duration_s for p in pauses)
        detail = f"{len(pauses)} pause(s) over 2 s, longest {longest:.1f} s"
        spans = [(p.start_s, p.end_s) for p in pauses]
        unended = [q for q in silences if q.open and (q.start_s, q.end_s) in spans]
        closed = [span for span in spans if span not in {(q.start_s, q.end_s) for q in unended}]
        # In AF, flutter, a rhythm without P waves or AV dissociation no P wave is expected.
        without_p = [
            (e.start_s, e.end_s) for label in NO_SINUS_P_WAVES for e in by_label.get(label, [])
        ]
        judged = [span for span in closed if not _overlapping(span, without_p)]
        p_waves = pause_p_wave_phrase([pause_p_waves.get(span) for span in judged])
        said = [q.described(pause_p_waves.get((q.start_s, q.end_s))) for q in unended]
        findings.append(
            Finding(
                "PAUSE",
                "Pause",
                "high" if longest >= 3.0 else "medium",
                None,
                "; ".join(part for part in [detail, p_waves, *said] if part),
            )
        )
    v_share = counts["V"] / total_beats
    # The waves of ventricular flutter/fibrillation are no beats (read Q): a count beside it
    # says so, MIT-BIH 205's 60 s with 11 s of it having read "1 beat" (an audit).
    outside_vf = OUTSIDE_VF if by_label.get(rhythm.VF) else ""
    if v_share >= FREQUENT_ECTOPY_SHARE:
        findings.append(
            Finding(
                "FREQUENT_PVC",
                "Frequent ventricular ectopic beats",
                "medium",
                None,
                f"{counts['V']} beats ({v_share:.0%}){outside_vf}{check}",
            )
        )
    elif counts["V"]:
        findings.append(
            Finding(
                "PVC",
                "Ventricular ectopic beats",
                "low",
                None,
                _beats(counts["V"]) + outside_vf + check,
            )  # fmt: skip
        )
    premature_atrial = counts["S"] - s_in_af
    if premature_atrial > 0:
        outside_af = " outside atrial fibrillation" if s_in_af else ""
        # Their share of the beats as the ventricular finding gives it, from 10 %: svdb 822's
        # atrial bigeminy (38 of 77 beats) read "38 beats" (a cardiologist's audit).
        s_share = premature_atrial / total_beats
        share = f" ({s_share:.0%})" if s_share >= FREQUENT_ECTOPY_SHARE else ""
        findings.append(
            Finding(
                "PAC",
                "Supraventricular ectopic beats",
                "low",
                None,
                _beats(premature_atrial) + share + outside_af,
            )
        )
    sure = lambda name: intervals.confidence.get(name, "high") == "high"  # noqa: E731
    if intervals.pr_ms is not None and intervals.pr_ms > 200 and sure("pr"):
        findings.append(
            Finding(
                "AV_BLOCK_1",
                "First-degree AV block",
                "low",
                None,
                f"PR {intervals.pr_ms:.0f} ms (> 200 ms)",
            )
        )
    wide = intervals.qrs_ms is not None and intervals.qrs_ms >= WIDE_QRS_MS and sure("qrs")
    long_qtc = (
        intervals.qtc_bazett_ms is not None
        and intervals.qtc_bazett_ms >= LONG_QTC_MS
        and sure("qt")
        and _long_by_fridericia_when_fast(intervals)
    )
    # A QRS that reads wide lengthens the QT even when noise makes its width of low
    # confidence: a left bundle branch block under muscle noise (MIT-BIH 109 at 1110 s, 18 dB)
    # read "Prolonged QTc" once its QRS was withheld (a review of `_halves_disagree`).
    reads_wide = intervals.qrs_ms is not None and intervals.qrs_ms >= WIDE_QRS_MS
    jti = jt_index(intervals) if reads_wide and long_qtc else None
    # A QRS withheld or not measurable is no sure narrow QRS: a left bundle branch block whose
    # doubtful 158 ms was withheld read "Left ventricular hypertrophy" by voltage (a review of
    # `without_doubtful_wide_qrs`); none of the 138 such non-DS2 reads had LVH, low voltage
    # or an ST finding.
    qrs_sure = intervals.qrs_ms is not None and sure("qrs")
    findings += _st_findings(intervals, wide, qrs_sure)
    voltage = intervals.sokolow_lyon_mv
    if voltage is not None and voltage >= SOKOLOW_LYON_MV and qrs_sure and not wide:
        findings.append(
            Finding("LVH", "Left ventricular hypertrophy", "low", None, lvh_detail(voltage))
        )
    findings += axis_findings(intervals)
    limb_mv = intervals.limb_qrs_mv
    if limb_mv is not None and limb_mv < LOW_LIMB_VOLTAGE_MV and qrs_sure:
        findings.append(
            Finding("LOW_VOLTAGE", "Low QRS voltage", "low", None, low_voltage_detail(limb_mv))
        )
    if wide:
        assert intervals.qrs_ms is not None
        detail = f"QRS {intervals.qrs_ms:.0f} ms (>= {WIDE_QRS_MS} ms)"
        if jti is not None and jti < JT_INDEX_LIMIT:
            detail += (
                f"; the QTc of {intervals.qtc_bazett_ms:.0f} ms is long because the QRS is "
                f"wide: {jt_index_words(jti)}"
            )
        findings.append(Finding("WIDE_QRS", "Wide QRS complex", "medium", None, detail))
    if long_qtc and (jti is None or jti >= JT_INDEX_LIMIT):
        assert intervals.qtc_bazett_ms is not None
        risk = "high" if intervals.qtc_bazett_ms >= 500 else "medium"
        detail = f"QTc (Bazett) {intervals.qtc_bazett_ms:.0f} ms"
        if jti is not None:
            detail += f" with a wide QRS: JT index {jti:.0f} (>= {JT_INDEX_LIMIT})"
        elif (near := _near_wide_caveat(intervals)) is not None:
            detail += near
        findings.append(Finding("LONG_QT", "Prolonged QTc", risk, None, detail))
    if wide_complex_tachycardia(intervals, rate, af_beat_share):
        if one_lead and not _clearly_wide_and_fast(intervals, rate):
            findings = [
                dataclasses.replace(f, detail=f.detail + ONE_LEAD_WIDE_COMPLEX)
                if f.code == "WIDE_QRS"
                else f
                for f in findings
            ]
        else:
            findings = _as_wide_complex_tachycardia(findings, intervals, rate, one_lead)
    marked_rate = [] if af_mostly else _rate_findings(rate)  # in AF: said in the AF finding
    halved = next((i for i, f in enumerate(findings) if f.code == "AV_BLOCK_2"), None)
    if halved is not None and [f.code for f in marked_rate] == ["BRADY"]:
        # The slow rate is the 2:1 conduction's, not a sinus bradycardia, whose rhythm line
        # says sinus rhythm: QT Database sel231 came to the doctor as a read the signing rule
        # refused. Said in the block's finding.
        findings[halved] = _carrying(findings[halved], marked_rate)
        marked_rate = []
    without_p_waves = by_label.get(rhythm.NO_P_WAVES, [])
    if without_p_waves:
        # The recording's rhythm is not sinus: its marked rate belongs to this finding, as a
        # strip's other-rhythm call carries it (the rate findings are sinus statements).
        findings.append(_carrying(_no_p_wave_rhythm(without_p_waves), marked_rate))
        marked_rate = []
    narrow_fast = by_label.get(rhythm.NARROW_TACHYCARDIA, [])
    if narrow_fast:  # likewise
        findings.append(_carrying(_narrow_tachycardia(narrow_fast), marked_rate))
        marked_rate = []
    inverted = by_label.get(rhythm.INVERTED_P_WAVES, [])
    if inverted:  # likewise
        findings.append(_carrying(_inverted_p_wave_rhythm(inverted), marked_rate))
        marked_rate = []
    dissociated = by_label.get(rhythm.COMPLETE_BLOCK, [])
    if dissociated:
        # Not sinus either: the block's finding says the (ventricular) rate.
        findings.append(_carrying(_complete_block(dissociated, atrial_bpm), marked_rate))
        marked_rate = []
    if other_strip is None:
        findings += marked_rate
    elif marked_rate or not findings or (may_be_fibrillation(other_strip) and not through_noise):
        # The call is the finding when nothing else is, and carries a marked brady- or
        # tachycardia (53 cinc2017 strips could not be signed as prefilled); and where it is
        # what AF looks like, beside other findings too: MIT-BIH 221's 10 s of AF read
        # "Frequent ventricular ectopic beats" alone, its call's reason listing AF's signs
        # with nothing saying AF was not ruled out (a clinician audit, 2026-12-07). Not when
        # the whole strip was read through noise (`through_noise`), whose irregularity and
        # missing P waves are the noise's: its quality finding stays the main one.
        findings.append(_carrying(_strip_other_rhythm(other_strip), marked_rate))
    if not findings and (fast := _sinus_tachycardia(by_label, rate)) is not None:
        findings.append(fast)
    if not findings:
        chosen = probabilities.max(axis=1) if len(probabilities) else np.array([])
        findings.append(
            Finding(
                "NORMAL",
                vocabulary.MACHINE_LABELS["NORMAL"],
                REPEAT_ECG_RISK if repeat_the_ecg(intervals) else "low",
                float(chosen.mean()) if len(chosen) else None,
                _withheld_doubt(intervals, leads_not_read),
            )
        )
    return findings


# The machine's risk of a read that asks for the ECG to be repeated: medium, so the worklist
# shows it before the routine reads while the patient may still be in the department (an
# arms-swapped 12-lead read "No significant arrhythmia", routine, its "repeat the ECG" in the
# notes only; a 12-lead audit).
REPEAT_ECG_RISK = "medium"


def repeat_the_ecg(intervals: Intervals) -> bool:
    """Whether the read says the ECG must be repeated before it can be read: arm electrodes
    that look swapped (`ml.lead_reversal`)."""
    return intervals.not_measurable.get("axis") == ARMS_SWAPPED


def axis_findings(intervals: Intervals) -> list[Finding]:
    """Left or right axis deviation from the frontal QRS axis (`vocabulary.NORMAL_AXIS_DEG`).
    A 12-lead ECG with an axis of -44 or +119 degrees read "No significant arrhythmia" and
    "Normal ECG" was signed beside it (an audit of the 12-lead path)."""
    axis_deg = intervals.qrs_axis_deg
    if axis_deg is None:
        return []
    shown_deg, (low_deg, high_deg) = round(axis_deg), NORMAL_AXIS_DEG
    detail = f"QRS axis {shown_deg:+d}°"
    if -90 <= shown_deg < low_deg:
        return [Finding("LEFT_AXIS", "Left axis deviation", "low", None, detail)]
    if shown_deg > high_deg or shown_deg < -90:
        northwest = " (extreme, northwest)" if shown_deg < -90 else ""
        return [Finding("RIGHT_AXIS", "Right axis deviation", "low", None, detail + northwest)]
    return []


UNMEASURED_QRS_ADVICE = "check the strip (paced beats look so) before calling the ECG normal"
NO_P_WAVE_ADVICE = "check the strip for a P wave before every QRS before calling the ECG normal"
NO_QRS_THIS_NARROW_MS = 40.0


def _withheld_doubt(intervals: Intervals, leads_not_read: Sequence[str] = ()) -> str:
    """What a read with no finding must still say: an interval withheld because, measured
    with low confidence, it would be abnormal (a long QT, a marked first-degree block). A
    one-lead synthetic long QT (QTc 576 ms) read "No significant arrhythmia" with nothing
    beside it but the QT's "not measurable" (15 of the 613 such non-DS2 reads withheld one).
    Arm electrodes that look swapped too: a 12-lead ECG with them read "Normal ECG", routine,
    its advice to repeat the ECG only in the axis line (an upload audit); and leads I, II and
    III that do not add up, or an augmented lead that does not match them (`ml.einthoven`: one
    lead upside down). Leads not read
    (`leads_not_read`): a 12-lead ECG with V3 flat read "No significant arrhythmia", the form
    preselecting "Normal ECG", though nothing seen only in V3 was excluded (a 12-lead audit)."""
    doubts = [
        f"{LABELS[name]} not measurable: {reason}"
        for name, reason in intervals.not_measurable.items()
        if name in LABELS and WITHHELD_AS_UNSURE in reason
    ]
    if repeat_the_ecg(intervals):
        doubts.append(f"QRS axis not measurable: {ARMS_SWAPPED}")
    axis_reason = intervals.not_measurable.get("axis", "")
    if axis_reason == LIMB_LEADS_DISAGREE or AUGMENTED_DISAGREE in axis_reason:
        doubts.append(f"QRS axis not measurable: {axis_reason}")  # a limb lead upside down
    qrs_failed = intervals.not_measurable.get("qrs", "")
    on_ms, off_ms = intervals.qrs_onset_ms, intervals.qrs_offset_ms
    found_ms = None if on_ms is None or off_ms is None else off_ms - on_ms
    if (
        OUTSIDE_PLAUSIBLE in qrs_failed
        and found_ms is not None
        and found_ms < NO_QRS_THIS_NARROW_MS
    ):
        # No QRS is this narrow: what was found is no QRS, and paced beats do that (an
        # unflagged paced strip of MIT-BIH 107 read "Normal ECG" beside a QRS of 33 ms set
        # aside; an on-call audit). A QRS found at 45-59 ms is common on one-lead strips of
        # normal rhythm (50 or more of the cinc2017 normal strips) and stays out of this.
        doubts.append(f"QRS not measurable: {qrs_failed}; {UNMEASURED_QRS_ADVICE}")
    if intervals.lacks_p_wave_in_every_lead():
        # A normal ECG has a P wave before every QRS, and none was found: cinc2017 A08195
        # (reference AF) read "Sinus rhythm" and "No significant arrhythmia", prefilled and
        # signed as "Normal ECG" beside "PR not measurable (no consistent P wave ...)", and the
        # patient read "Your heart test looked normal." (a clinician-eye audit).
        doubts.append(f"PR not measurable: {NO_P_WAVE_REASON}; {NO_P_WAVE_ADVICE}")
    if _short_pr(intervals):
        doubts.append(f"short PR {intervals.pr_ms:.0f} ms: check for a delta wave (pre-excitation)")
    if leads_not_read:
        doubts.append(
            f"lead(s) {', '.join(leads_not_read)} not read (see the notes): what shows only "
            "there is not excluded"
        )
    return "; ".join(doubts)


def _short_pr(intervals: Intervals) -> bool:
    """A PR under `SHORT_PR_MS` measured with high confidence: with a delta wave, ventricular
    pre-excitation, which the machine does not look for. MIT-BIH 230's pre-excited minute (PR
    117 ms) read "No significant arrhythmia", prefilled "Normal ECG" (an electrophysiologist's
    audit, 2026-12-07)."""
    pr_ms = intervals.pr_ms
    sure = intervals.confidence.get("pr") == "high"
    return pr_ms is not None and sure and round(pr_ms) < SHORT_PR_MS


def wide_complex_tachycardia(
    intervals: Intervals, rate: HeartRateSummary, af_beat_share: float, one_lead: bool = False
) -> bool:
    """A wide QRS (high confidence) at a mean rate over WIDE_COMPLEX_TACHYCARDIA_BPM, outside
    AF/flutter (which with a bundle-branch block is read as AF). From one lead
    (`one_lead`), only a clearly wide QRS at a clearly fast rate (`_clearly_wide_and_fast`)
    is read as ventricular tachycardia; `findings_of_read` says the others' meaning."""
    fast = (rate.mean_bpm or 0.0) > WIDE_COMPLEX_TACHYCARDIA_BPM
    found = wide_qrs_measured(intervals) and fast and af_beat_share < AF_SHARE_WITHOUT_RATE_FINDING
    return found and (not one_lead or _clearly_wide_and_fast(intervals, rate))


ST_CODES = ("ST_ELEVATION", "ST_DEPRESSION")


def _st_findings(intervals: Intervals, wide: bool, qrs_sure: bool) -> list[Finding]:
    """ST elevation (high; medium with a wide QRS, with its caveat), naming the reciprocal ST
    depression beside it, else ST depression alone (medium; high in 8 or more leads with ST
    elevation in aVR; not with a wide QRS) (`ml.st_segment`)."""
    if intervals.qrs_ms is None or not qrs_sure:
        return []
    elevated = elevated_leads(intervals.st_mv)
    depressed = depressed_leads(intervals.st_mv, intervals.st_late_mv)
    if elevated:
        detail = st_elevation_detail(intervals.st_mv, elevated, depressed)
        if wide:
            detail += WIDE_QRS_CAVEAT.format(qrs_ms=intervals.qrs_ms)
        risk = "medium" if wide else "high"
        return [Finding("ST_ELEVATION", "ST elevation", risk, None, detail)]
    if depressed and not wide:
        detail = st_depression_detail(intervals.st_mv, depressed)
        diffuse = diffuse_with_avr_elevation(intervals.st_mv, depressed)
        risk = "high" if diffuse else "medium"  # left main or multivessel: review today
        return [Finding("ST_DEPRESSION", "ST depression", risk, None, detail)]
    return []


def wide_qrs_measured(intervals: Intervals) -> bool:
    """The median beat's QRS is wide (`WIDE_QRS_MS` or more) at high confidence."""
    wide = intervals.qrs_ms is not None and intervals.qrs_ms >= WIDE_QRS_MS
    return wide and intervals.confidence.get("qrs") == "high"


def _clearly_wide_and_fast(intervals: Intervals, rate: HeartRateSummary) -> bool:
    wide = (intervals.qrs_ms or 0.0) >= ONE_LEAD_VT_QRS_MS
    return wide and (rate.mean_bpm or 0.0) >= ONE_LEAD_VT_BPM


# One lead's QRS width is not enough to call VT: on cinc2017 A06992 (reference "other rhythm",
# 122 bpm) one lead read a QRS of 157 ms where its median beat's complex spans about 80 ms and
# a slow ST follows. There the wide QRS finding says what it would mean, at its own risk.
# Unless the QRS is clearly wide at a clearly fast rate: sustained monomorphic VT at 165 bpm
# (QRS 140-170 ms), read from one lead, came at medium risk as a wide QRS (4 of 11 synthetic
# one-lead VTs; the ectopy fuzzer, seed 762), while the 3 cinc2017 strips that read a wide
# QRS at a marked tachycardia ran at 122-142 bpm (QRS 127-157 ms).
ONE_LEAD_VT_QRS_MS = 140.0
ONE_LEAD_VT_BPM = 150.0
ONE_LEAD_WIDE_COMPLEX = (
    "; at a marked tachycardia this is a wide-complex tachycardia, ventricular tachycardia "
    "until proven otherwise, but one lead's QRS width is not enough to say so: check the strip"
)


def without_pr_in_wide_complex_tachycardia(intervals: Intervals) -> Intervals:
    """`intervals` with the PR "not measurable": in a wide-complex tachycardia the wave before
    the QRS is the T wave before (a "first-degree AV block" of 336 ms read on synthetic VT)."""
    if intervals.pr_ms is None:
        return intervals
    return _without_pr(intervals, WIDE_COMPLEX_PR_REASON)


WIDE_COMPLEX_PR_REASON = (
    "in a wide-complex tachycardia the P waves cannot be told from the T waves before them"
)


def _as_wide_complex_tachycardia(
    findings: list[Finding], intervals: Intervals, rate: HeartRateSummary, one_lead: bool = False
) -> list[Finding]:
    """The findings of a wide-complex tachycardia (`wide_complex_tachycardia`): ventricular
    tachycardia at high risk, saying why, in place of the wide QRS it explains."""
    if any(f.code == "VT" and f.risk == "high" for f in findings):
        return findings
    detail = (
        f"wide-complex tachycardia: QRS {intervals.qrs_ms:.0f} ms at a mean of "
        f"{rate.mean_bpm:.0f} bpm, ventricular tachycardia until proven otherwise (a "
        "supraventricular tachycardia with bundle-branch block looks alike); its beats are not "
        "called ventricular when every beat looks alike"
        + ("; its QRS width is read from one lead only" if one_lead else "")
        + ": check the strip"
    )
    # A ventricular rhythm's ST segment is its own: no ST change is read beside it.
    kept = [f for f in findings if f.code not in ("VT", "WIDE_QRS", *ST_CODES)]
    return [Finding("VT", rhythm.VT, "high", None, detail), *kept]


# The rate findings are the vocabulary's sinus bradycardia and sinus tachycardia: where AF/
# flutter holds at least half the beats, the rate is the AF's ventricular rate instead, said
# in the AF finding ("AF with a fast ventricular rate"), not a second rhythm statement.
AF_SHARE_WITHOUT_RATE_FINDING = 0.5


AF_NOT_RULED_OUT = "atrial fibrillation is not ruled out, check the strip"


def _strip_other_rhythm(call: StripCall) -> Finding:
    """A strip's other-rhythm call as its finding: low risk, but medium where its reason is
    what AF looks like (`strip_rhythm.may_be_fibrillation`), so it is read before routine
    work, and the finding says AF is not ruled out, in its label too (it had read "not
    AF/flutter" before it)."""
    if may_be_fibrillation(call):
        return Finding(
            "OTHER_RHYTHM", OTHER_AF_NOT_RULED_OUT_TEXT, "medium", None,
            f"{call.reason}: {AF_NOT_RULED_OUT}",
        )  # fmt: skip
    return _other_rhythm("low", call.reason)


def _other_rhythm(risk: str, detail: str) -> Finding:
    """The other-rhythm finding (not normal sinus rhythm, not AF/flutter)."""
    return Finding("OTHER_RHYTHM", STATEMENTS["OTHER_RHYTHM"].label, risk, None, detail)


def _time_and_mean_rate(stretches: list[rhythm.Episode]) -> tuple[float, float]:
    """The stretches' time in all (s) and their mean rate (bpm) over it."""
    seconds = sum(e.duration_s for e in stretches)
    return seconds, 60.0 * sum(e.n_beats - 1 for e in stretches) / max(seconds, 1e-9)


def _no_p_wave_rhythm(stretches: list[rhythm.Episode]) -> Finding:
    """The other-rhythm finding of a long recording whose rhythm has no P waves
    (`rhythm.NO_P_WAVES`), with how long and how fast. Complete AV block is among the causes
    it names: P waves marching apart from the QRS are inconsistent before it, and where
    `ml.av_dissociation` misses them (1 of 30 fuzzer blocks, seed 744) this is what the read
    says."""
    seconds, rate_bpm = _time_and_mean_rate(stretches)
    detail = (
        f"no consistent P wave before the QRS over {duration_text(seconds)}, at a mean of "
        f"{rate_bpm:.0f} bpm: not sinus rhythm (junctional, ectopic atrial or idioventricular "
        "rhythm, atrial flutter, or P waves unrelated to the QRS in complete AV block): check "
        "the strip"
    )
    return _other_rhythm("medium", detail)


def _narrow_tachycardia(stretches: list[rhythm.Episode]) -> Finding:
    """The other-rhythm finding of a long recording whose rhythm is a narrow-complex
    tachycardia without P waves (`rhythm.NARROW_TACHYCARDIA`), with how long and how fast.
    Sinus tachycardia is among the causes it names: at such rates its P wave can hide in the
    T wave before, where the read does not find it."""
    seconds, rate_bpm = _time_and_mean_rate(stretches)
    detail = (
        f"a narrow QRS and no consistent P wave before it over {duration_text(seconds)}, at a "
        f"mean of {rate_bpm:.0f} bpm: {NARROW_TACHYCARDIA_CAUSES}"
    )
    return _other_rhythm("medium", detail)


def _inverted_p_wave_rhythm(stretches: list[rhythm.Episode]) -> Finding:
    """The other-rhythm finding of a long recording whose P waves are inverted in lead II
    (`rhythm.INVERTED_P_WAVES`), with how long and how fast, at low risk as a strip's
    other-rhythm call: an ectopic atrial rhythm is seldom dangerous, and misplaced limb
    electrodes invert lead II's P wave too."""
    seconds, rate_bpm = _time_and_mean_rate(stretches)
    detail = (
        f"a P wave before every QRS, inverted in lead II, over {duration_text(seconds)}, at a "
        f"mean of {rate_bpm:.0f} bpm: not sinus rhythm (an ectopic atrial or junctional "
        "rhythm), or misplaced limb electrodes (then the QRS complex in II is upside down too): "
        "check the strip"
    )
    return _other_rhythm("low", detail)


# Idioventricular rhythm is "accelerated" from this rate (AHA/ACCF/HRS 2009, part II: 50-100
# /min, often benign, as in reperfusion); slower it is a ventricular escape rhythm, which a
# failing sinus node or AV conduction lets through.
ACCELERATED_IVR_BPM = 50.0


def _idioventricular(runs: list[rhythm.Episode], check: str) -> Finding:
    """The runs of 3 or more ventricular beats at 100 /min or slower, with their rates and
    what the slowest one may mean."""
    rates_bpm = [60.0 * (e.n_beats - 1) / max(e.duration_s, 1e-9) for e in runs]
    slowest, fastest = min(rates_bpm), max(rates_bpm)
    same = round(slowest) == round(fastest)
    rates = f"{slowest:.0f} /min" if same else f"{slowest:.0f}-{fastest:.0f} /min"
    longest = max(runs, key=lambda e: e.n_beats)
    detail = (
        f"{len(runs)} run(s) of 3 or more ventricular beats at 100 /min or slower ({rates}), "
        f"longest {longest.n_beats} beats"
    )
    if slowest < ACCELERATED_IVR_BPM:
        detail += "; under 50 /min a ventricular escape rhythm: look for AV block or sinus arrest"
    return Finding("IVR", rhythm.IVR, "medium", None, detail + check)


def _complete_block(stretches: list[rhythm.Episode], atrial_bpm: float | None) -> Finding:
    """The finding of P waves marching apart from the QRS complexes (`rhythm.COMPLETE_BLOCK`),
    with the two rates and how long."""
    seconds, ventricular_bpm = _time_and_mean_rate(stretches)
    atria = f"P waves at {atrial_bpm:.0f} /min" if atrial_bpm else "P waves at their own rate"
    detail = (
        f"{atria} march through the QRS complexes (mean {ventricular_bpm:.0f} bpm) with no "
        f"fixed PR over {duration_text(seconds)}: complete (third-degree) AV block, or AV "
        "dissociation: check the P waves on the strip"
    )
    return Finding("AV_BLOCK_3", rhythm.COMPLETE_BLOCK, "high", None, detail)


def _mobitz_ii(dropped: int, mobitz_i: int, held: list[rhythm.Episode]) -> Finding:
    """A Mobitz II block at high risk (it may go on to complete heart block without warning,
    where a Mobitz I block seldom does), with any Mobitz I cycles or 2:1 stretches beside it."""
    detail = (
        f"{dropped} dropped beat{'' if dropped == 1 else 's'} with the PR unchanged before and "
        "after (Mobitz II): P waves at a steady rate, one suddenly not conducted"
    )
    if mobitz_i:
        detail += f"; {mobitz_i} more after the PR lengthened (Mobitz I)"
    if held:
        detail += f"; 2:1 conduction over {rhythm.duration_text(sum(e.duration_s for e in held))}"
    detail += "; a blocked atrial premature beat looks alike: check the P waves"
    return Finding("AV_BLOCK_2", rhythm.MOBITZ_II, "high", None, detail)


def _two_to_one(held: list[rhythm.Episode], atrial_bpm: float | None = None) -> Finding:
    """Second-degree AV block held at 2:1 (`ml.two_to_one`), with the P waves' rate: that of
    the windows whose blocked P waves were found (`atrial_bpm`, as a strip's call says it),
    else twice the QRS rate over the episodes. An on-call audit: MIT-BIH 231's strip said
    "P waves at 73 /min" in its call and "at 80 /min" in this finding."""
    if atrial_bpm is None:
        beats = sum(e.n_beats - 1 for e in held)
        atrial_bpm = 2 * 60.0 * beats / max(sum(e.duration_s for e in held), 1e-9)
    over = rhythm.duration_text(sum(e.duration_s for e in held))
    detail = (
        f"P waves at {atrial_bpm:.0f} /min, every other one not conducted (2:1 AV block) over "
        f"{over}; blocked atrial premature beats in bigeminy look alike: check the P waves"
    )
    return Finding("AV_BLOCK_2", rhythm.TWO_TO_ONE, "medium", None, detail)


def _carrying(finding: Finding, marked_rate: list[Finding]) -> Finding:
    """`finding` saying a marked brady- or tachycardia in its detail, at the higher risk. The
    rate findings are the vocabulary's sinus ones: beside a rhythm that is not sinus (a strip
    called another rhythm, 2:1 conduction) they would be a second rhythm statement."""
    risks = [finding.risk, *(f.risk for f in marked_rate)]
    return dataclasses.replace(
        finding,
        risk=max(risks, key=RISK_ORDER.__getitem__),
        detail=finding.detail + "".join(f"; {f.label.lower()}, {f.detail}" for f in marked_rate),
    )


def _rate_findings(rate: HeartRateSummary) -> list[Finding]:
    """Marked bradycardia (under 50 bpm) or tachycardia (over 120 bpm), from the mean rate."""
    if rate.mean_bpm is None:
        return []
    if rate.mean_bpm < 50:
        risk = "high" if rate.mean_bpm < 40 else "medium"
        return [Finding("BRADY", "Marked bradycardia", risk, None, f"mean {rate.mean_bpm:.0f} bpm")]
    if rate.mean_bpm > 120:
        return [
            Finding("TACHY", "Marked tachycardia", "medium", None, f"mean {rate.mean_bpm:.0f} bpm")
        ]
    return []


def _sinus_tachycardia(
    by_label: dict[str, list[rhythm.Episode]], rate: HeartRateSummary
) -> Finding | None:
    """Sinus tachycardia over `NORMAL_ECG_BPM` (a mean over 100 bpm, as the form
    shows it) where nothing else is found: "No significant arrhythmia" is signed as "Normal
    ECG", which the signing rule refuses at that rate, and a 60-s strip at 118 bpm read it on
    the worklist, the API and FHIR ("Electrocardiogram normal"; an on-call audit). Low risk,
    as sinus tachycardia is; a marked one (over 120 bpm) is `_rate_findings`'."""
    if rate.mean_bpm is None or not by_label.get(rhythm.TACHY):
        return None
    if round(rate.mean_bpm) <= NORMAL_ECG_BPM[1]:
        return None
    detail = f"mean {rate.mean_bpm:.0f} bpm (a normal ECG's rate is 50-100 bpm)"
    return Finding("TACHY", "Sinus tachycardia", "low", None, detail)


# The lenient rate-control target in AF, a resting rate under 110 bpm (RACE II; ESC and
# ACC/AHA guidelines): at or above it the rate is not controlled. "Controlled" had been said up
# to 120 bpm, "117 bpm (controlled)" on 8 of the 1,500 cinc2017 strips (a clinician audit).
AF_RATE_CONTROLLED_UNDER_BPM = 110


def _ventricular_rate(rate: HeartRateSummary) -> str:
    if rate.mean_bpm is None:
        return ""
    mean_bpm = round(rate.mean_bpm)  # as printed: "110 bpm" is not under 110
    fast = mean_bpm >= AF_RATE_CONTROLLED_UNDER_BPM
    pace = "fast" if fast else "slow" if rate.mean_bpm < 50 else "controlled"
    return f"; mean ventricular rate {rate.mean_bpm:.0f} bpm ({pace})"


def _overlapping(span: tuple[float, float], spans: list[tuple[float, float]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in spans)


OUTSIDE_VF = " outside the ventricular flutter/fibrillation, whose waves are not counted"


def _beats(n: int) -> str:
    return f"{n} beat" if n == 1 else f"{n} beats"
