"""The one finding-code vocabulary: what the machine may say and what a doctor may sign.

Every code has a clinician's label, a category, a severity rank (0 = most serious: what a
cardiologist would put first) and a plain-language sentence for the patient. The machine
(`ml.analysis`), the doctor's statement picker, the worklist, the PDFs and the patient
summary all read this table, so a finding can no longer vanish between them because two
modules spelled it differently (the machine once said AVB1 where the form said AV_BLOCK_1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ml.intervals import LONG_PR_MS, SHORT_PR_MS, WIDE_QRS_MS


class Category(StrEnum):
    OVERALL = "overall"
    RHYTHM = "rhythm"
    CONDUCTION = "conduction"
    ECTOPY = "ectopy"
    INTERVALS = "intervals"
    ST_T = "ST-T"
    QUALITY = "recording quality"


@dataclass(frozen=True)
class Statement:
    code: str
    label: str
    category: Category
    severity: int  # 0 = most serious
    plain: str  # for the patient: short sentences, everyday words

    @property
    def risk(self) -> str:
        """The risk level of a signed statement (the worklist's urgency): high, medium, low.
        (The machine sets its own findings' risk from their measure, e.g. a pause's length.)"""
        if self.code in HIGH_RISK:
            return "high"
        return "medium" if self.code in MEDIUM_RISK else "low"


def _table(*rows: tuple[str, str, Category, str]) -> dict[str, Statement]:
    """Rows in order of seriousness, most serious first: the order is the severity."""
    return {
        code: Statement(code, label, category, rank, plain)
        for rank, (code, label, category, plain) in enumerate(rows)
    }


STATEMENTS: dict[str, Statement] = _table(
    ("VF", "Ventricular fibrillation", Category.RHYTHM,
     "Your heart had a spell of a very fast rhythm that can be dangerous. If your doctor has "
     "not already talked with you about it, call the clinic today."),
    ("VT", "Ventricular tachycardia", Category.RHYTHM,
     "Your heart had runs of fast beats that start in the lower parts of the heart. These "
     "can be dangerous. If your doctor has not already talked with you about them, call the "
     "clinic today."),
    ("ST_ELEVATION", "ST elevation", Category.ST_T,
     "Part of the trace was raised. This can be a sign of a blocked blood vessel."),
    ("AV_BLOCK_3", "Complete heart block", Category.CONDUCTION,
     "The signals that start each beat did not get through the heart. This needs care soon."),
    ("AF", "Atrial fibrillation / flutter", Category.RHYTHM,
     "The top parts of your heart were quivering or fluttering out of step with the rest of "
     "it. "
     "Doctors call this atrial fibrillation or atrial flutter. It often makes the heartbeat "
     "uneven."),
    ("PAUSE", "Pause", Category.RHYTHM,
     "Your heart paused for a few seconds between some beats. Your doctor will explain what "
     "this means for you."),
    ("AV_BLOCK_2", "Second-degree AV block", Category.CONDUCTION,
     "Some of the signals that start each beat did not get through the heart."),
    ("BRADY", "Sinus bradycardia", Category.RHYTHM,
     "Your heart beat a bit slower than usual. This can be normal, for example in fit people."),
    ("LONG_QT", "Long QT", Category.INTERVALS,
     "Your heart took longer than usual to recover after each beat. Doctors call this a long "
     "QT. Some medicines can cause it. Do not stop any medicine unless your doctor tells you "
     "to. Before you start a new medicine, even one from a shop, ask your doctor or "
     "pharmacist if it is safe for you."),
    ("ST_DEPRESSION", "ST depression", Category.ST_T,
     "Part of the trace was lower than usual. This can mean the heart is short of blood and "
     "oxygen."),
    ("IVR", "Idioventricular rhythm", Category.RHYTHM,
     "For short spells, your heartbeat started in the lower parts of the heart instead of its "
     "usual place, without beating fast. Your doctor will explain what it means for you."),
    ("FREQUENT_PVC", "Frequent ventricular ectopic beats", Category.ECTOPY,
     "Many extra beats came from the lower parts of your heart."),
    ("BIGEMINY", "Bigeminy", Category.ECTOPY, "Every second beat was an extra beat."),
    ("TRIGEMINY", "Trigeminy", Category.ECTOPY, "Every third beat was an extra beat."),
    ("SVT", "Supraventricular tachycardia", Category.RHYTHM,
     "Your heart had short runs of fast beats that start in the top parts of the heart."),
    ("LBBB", "Left bundle branch block", Category.CONDUCTION,
     "The signal spread through the left side of the heart in a slower way than usual."),
    ("RBBB", "Right bundle branch block", Category.CONDUCTION,
     "The signal spread through the right side of the heart in a slower way than usual."),
    ("PRE_EXCITATION", "Ventricular pre-excitation (WPW pattern)", Category.CONDUCTION,
     "Part of the signal that starts each beat took an extra path between the top and "
     "lower parts of your heart. Doctors call this a Wolff-Parkinson-White pattern. Your "
     "doctor will explain what it means for you."),
    ("WIDE_QRS", "Wide QRS", Category.INTERVALS,
     "Each beat took a bit longer than usual to spread through the heart."),
    ("LVH", "Left ventricular hypertrophy", Category.OVERALL,
     "The trace hints that the heart muscle may be thicker than usual."),
    ("LOW_VOLTAGE", "Low QRS voltage", Category.OVERALL,
     "The electrical signals of your heart looked smaller than usual on the trace. This has "
     "several causes; your doctor will say if it needs a closer look."),
    ("RIGHT_AXIS", "Right axis deviation", Category.CONDUCTION,
     "The main electrical signal of your heart pointed more to the right than usual. Your "
     "doctor will explain whether this matters for you."),
    ("LEFT_AXIS", "Left axis deviation", Category.CONDUCTION,
     "The main electrical signal of your heart pointed more to the left than usual. This is "
     "common and often harmless."),
    ("T_INVERSION", "T-wave inversion", Category.ST_T,
     "On the trace, the part of each beat where the heart resets pointed down instead of "
     "up. This has many causes; your doctor will explain what it means for you."),
    ("OTHER_RHYTHM", "Other rhythm (not normal sinus rhythm, not AF/flutter)", Category.RHYTHM,
     "Your heartbeat did not follow its usual pattern. Your doctor will explain what this "
     "means."),
    ("DROPPED_BEAT", "Dropped beat", Category.CONDUCTION, "Now and then a heartbeat was skipped."),
    ("TACHY", "Sinus tachycardia", Category.RHYTHM, "Your heart beat faster than usual."),
    ("PACED", "Paced rhythm", Category.RHYTHM,
     "Your pacemaker was setting the pace of your heart."),
    ("AV_BLOCK_1", "First-degree AV block", Category.CONDUCTION,
     "The signal that starts each beat took a little longer than usual to pass through the "
     "heart. This is often harmless."),
    ("SHORT_PR", "Short PR interval", Category.INTERVALS,
     "The signal that starts each beat passed through the heart a little faster than usual. "
     "This is often harmless."),
    ("PVC", "Ventricular ectopic beats", Category.ECTOPY,
     "Some extra beats came from the lower parts of your heart. This is common."),
    ("PAC", "Supraventricular ectopic beats", Category.ECTOPY,
     "Some extra beats came from the top parts of your heart. This is common and is often "
     "harmless."),
    ("NOISY_STRIP", "Unclassifiable: too noisy", Category.QUALITY,
     "The recording was too unclear to read. It may need to be repeated."),
    ("ARTIFACT", "Poor quality / artefact", Category.QUALITY,
     "Parts of the recording were not clear, so they could not be read."),
    ("SINUS", "Sinus rhythm", Category.RHYTHM, "Your heart beat in its normal, steady pattern."),
    ("NORMAL", "Normal ECG", Category.OVERALL, "Your heart test looked normal."),
)  # fmt: skip
# What the machine itself says where a code's statement is the doctor's to make: it finds "no
# significant arrhythmia", and only a doctor signs a "Normal ECG" (the worklist and the
# version list had shown an unsigned read with a withheld wide QRS as a routine "Normal ECG").
# An unsigned read's words for a statement that only a doctor makes: a "Normal ECG", and
# "not AF/flutter" of another rhythm (the machine misses some AF, and says where it cannot
# rule it out: `ml.findings.AF_NOT_RULED_OUT`).
MACHINE_LABELS = {
    "NORMAL": "No significant arrhythmia",
    "OTHER_RHYTHM": "Other rhythm (not normal sinus rhythm)",
}
HIGH_RISK = frozenset({"VF", "VT", "ST_ELEVATION", "AV_BLOCK_3", "AF", "PAUSE"})
MEDIUM_RISK = frozenset(
    {
        "AV_BLOCK_2", "LONG_QT", "ST_DEPRESSION", "FREQUENT_PVC", "BIGEMINY", "TRIGEMINY",
        "SVT", "IVR", "LBBB", "WIDE_QRS", "DROPPED_BEAT", "NOISY_STRIP", "PRE_EXCITATION",
    }
)  # fmt: skip
# Codes the machine wrote before this table existed, read back from stored analyses.
LEGACY_CODES = {"AVB1": "AV_BLOCK_1"}


def canonical(code: str) -> str:
    """The table's spelling of a code read from storage (legacy spellings mapped)."""
    return LEGACY_CODES.get(code, code)


def is_known(code: str) -> bool:
    return canonical(code) in STATEMENTS


def most_serious(codes: list[str]) -> str | None:
    ordered = by_severity(codes)
    return ordered[0] if ordered else None


def most_urgent(codes: list[str]) -> str | None:
    """The signed statement that sets the report's urgency: the highest risk, then the most
    serious, as the machine picks its main finding (`ml.findings.main_finding`). By
    seriousness alone a signed "Sinus bradycardia" (low risk) named a report whose medium
    urgency came from its idioventricular rhythm (an audit)."""
    order = {"high": 0, "medium": 1, "low": 2}
    known = by_severity(codes)
    return min(
        known, key=lambda c: (order[STATEMENTS[c].risk], STATEMENTS[c].severity), default=None
    )


def by_severity(codes: list[str]) -> list[str]:
    """Known codes, most serious first (unknown codes dropped)."""
    known = {canonical(c) for c in codes if is_known(c)}
    return sorted(known, key=lambda c: STATEMENTS[c].severity)


# --- Consistency of a signed set of statements ---

# The underlying rhythm: a read states exactly one. On a recording long enough to hold rhythm
# episodes (a Holter), AF/flutter may also stand beside it: paroxysmal AF.
# OTHER_RHYTHM: neither normal sinus rhythm nor AF/flutter (junctional, ectopic atrial,
# idioventricular...), as a short strip's "other rhythm" call says it (`ml.strip_rhythm`).
RHYTHM_STATEMENTS = ("SINUS", "BRADY", "TACHY", "AF", "PACED", "VF", "OTHER_RHYTHM")
# ... unless the doctor signs that no rhythm can be read: "Unclassifiable: too noisy" stands in
# place of a rhythm statement (a strip drowned in noise is reported so, to be repeated), and
# never beside one.
UNREADABLE = "NOISY_STRIP"
# Words the free-text rhythm line must carry for each rhythm statement.
RHYTHM_WORDS = {
    "SINUS": ("sinus",),
    "BRADY": ("brady",),
    "TACHY": ("tachy",),
    "AF": ("fibrillation", "flutter"),
    "PACED": ("paced", "pacing", "pacemaker"),
    "VF": ("ventricular",),
    "OTHER_RHYTHM": (
        "other", "junctional", "ectopic", "escape", "idioventricular", "wandering", "multifocal",
        "narrow-complex tachycardia",
    ),
}  # fmt: skip
# ... or one of the abbreviations clinicians write, as a whole word.
RHYTHM_ABBREVIATIONS = {
    "SINUS": ("sr", "nsr"),
    "BRADY": ("sb",),
    "TACHY": ("st",),
    "AF": ("af", "afib", "afl"),
    "PACED": (),
    "VF": ("vf", "vfib"),
    "OTHER_RHYTHM": ("jr", "mat", "aivr"),
}
# Statements that cannot both be true of one recording (AF's pairs only when AF is the
# underlying rhythm: beside sinus rhythm, a first-degree block or a dropped beat belongs to the
# sinus stretches; bigeminy and trigeminy only on a strip: a Holter has episodes of each).
EXCLUSIONS = (
    ("AV_BLOCK_3", "AV_BLOCK_1"),
    ("AV_BLOCK_3", "AV_BLOCK_2"),
    ("SHORT_PR", "AV_BLOCK_1"),
    ("AV_BLOCK_3", "DROPPED_BEAT"),
    ("LBBB", "RBBB"),
    ("AF", "DROPPED_BEAT"),
    ("AF", "AV_BLOCK_1"),
    ("BIGEMINY", "TRIGEMINY"),
    ("LEFT_AXIS", "RIGHT_AXIS"),  # one axis (both were signed together: an audit)
)


def paroxysmal_af(codes: list[str]) -> bool:
    """AF/flutter stated beside another rhythm statement: episodes of it in a long recording."""
    chosen = {canonical(c) for c in codes}
    return "AF" in chosen and any(c in chosen for c in RHYTHM_STATEMENTS if c != "AF")


# On a recording read as episodes these may stand beside the underlying rhythm statement:
# paroxysmal AF, and a run of VF (an electrophysiologist's audit could not sign MIT-BIH 207's
# 101 s of VF between its other rhythms: VF had to be the one rhythm or be left out).
EPISODIC_RHYTHMS = ("AF", "VF")


def counted_rhythms(codes: list[str], episodes: bool) -> list[str]:
    """The rhythm statements of `codes` that count as the recording's one rhythm: on a
    recording read as episodes, not AF or VF beside another (nor VF beside AF)."""
    rhythms = [c for c in codes if c in RHYTHM_STATEMENTS]
    if not episodes:
        return rhythms
    underlying = [c for c in rhythms if c not in EPISODIC_RHYTHMS]
    if underlying:
        return underlying
    return ["AF"] if set(rhythms) == set(EPISODIC_RHYTHMS) else rhythms


def contradictions(codes: list[str], rhythm_line: str = "", episodes: bool = False) -> list[str]:
    """Why this set of statements cannot be signed, in a doctor's words (empty when it can).
    `episodes`: the recording is read as episodes (longer than `ml.strip_rhythm.STRIP_MAX_S`,
    61 s), so AF/flutter or VF may stand beside the underlying rhythm (`counted_rhythms`)."""
    chosen = [canonical(c) for c in codes]
    problems = []
    paroxysmal = episodes and paroxysmal_af(chosen)
    rhythms = counted_rhythms(chosen, episodes)
    unreadable = STATEMENTS[UNREADABLE].label
    if UNREADABLE in chosen and rhythms:
        problems.append(
            f'"{unreadable}" says no rhythm can be read: it cannot stand with '
            + ", ".join(f'"{STATEMENTS[c].label}"' for c in rhythms)
            + "."
        )
    elif UNREADABLE in chosen and rhythm_code_of(rhythm_line):
        problems.append(
            f'The rhythm line "{rhythm_line.strip()}" names a rhythm, and "{unreadable}" says '
            "none can be read."
        )
    elif UNREADABLE not in chosen and len(rhythms) != 1:
        names = ", ".join(STATEMENTS[c].label.lower() for c in RHYTHM_STATEMENTS)
        beside = "; AF/flutter or VF may also stand beside one of the others" if episodes else ""
        problems.append(
            f"Choose exactly one rhythm statement ({names}{beside}), or "
            f'"{unreadable}" when none can be read; this read has {len(rhythms)}.'
        )
    if "NORMAL" in chosen:
        abnormal = [STATEMENTS[c].label for c in chosen if c not in ("NORMAL", "SINUS")]
        if abnormal:
            problems.append(
                '"Normal ECG" cannot be signed with abnormal statements: '
                + ", ".join(abnormal)
                + "."
            )
    for a, b in EXCLUSIONS:
        # On a recording read as episodes a dropped beat lies outside AF (the machine reads
        # none inside it): a 2-h Holter, AF 64 % and its one dropped beat between two AF
        # episodes, was refused as prefilled (a Holter audit).
        dropped_outside_af = episodes and (a, b) == ("AF", "DROPPED_BEAT")
        episode_pair = (
            (paroxysmal and a == "AF") or (episodes and a == "BIGEMINY") or dropped_outside_af
        )
        if a in chosen and b in chosen and not episode_pair:
            problems.append(
                f'"{STATEMENTS[a].label}" and "{STATEMENTS[b].label}" exclude each other.'
            )
    if "not ruled out" in rhythm_line.lower() and "AF" not in rhythms:
        # The machine's doubt is not a signed read: "Other rhythm (...; atrial fibrillation not
        # ruled out)" signed with the other-rhythm statement said both "not AF/flutter" and
        # "AF not ruled out" (a review, 2026-12-07).
        problems.append(
            f'The rhythm line "{rhythm_line.strip()}" leaves the rhythm open: a signed read '
            "says what it is. Type the rhythm you see and choose its statement (atrial "
            "fibrillation/flutter, or another rhythm), and put any doubt in the conclusion."
        )
    if len(rhythms) == 1 and rhythm_line.strip():
        words, tokens = RHYTHM_WORDS[rhythms[0]], re.findall(r"[a-z]+", rhythm_line.lower())
        if not any(w in rhythm_line.lower() for w in words) and not set(tokens) & set(
            RHYTHM_ABBREVIATIONS[rhythms[0]]
        ):
            problems.append(
                f'The rhythm line "{rhythm_line.strip()}" does not say '
                f'"{STATEMENTS[rhythms[0]].label.lower()}", the rhythm statement chosen.'
            )
    return problems


# The rates that name sinus rhythm (`ml.rhythm.BRADY_BELOW_BPM`, `TACHY_ABOVE_BPM`) and a normal
# ECG's (50-100 bpm, the AHA/ACCF/HRS recommendations' normal range), and a QTc (Bazett) under
# which no definition calls the QT long (limits run 440-470 ms).
SINUS_BRADY_BELOW_BPM, SINUS_TACHY_ABOVE_BPM = 60.0, 100.0
# The adult frontal QRS axis called normal (AHA/ACCF/HRS 2009): -30 to +90 degrees; beyond
# -30 left axis deviation, beyond +90 right (to +180, and the "northwest" -90 to -180).
NORMAL_AXIS_DEG = (-30, 90)
NORMAL_ECG_BPM = (50.0, 100.0)
NO_LONG_QT_BELOW_MS = 440.0
# Intervals a signed statement is defined by (`measurement_contradictions`): a first-degree
# AV block is a PR over LONG_PR_MS, a short PR one under SHORT_PR_MS; a bundle branch block
# or a wide QRS, WIDE_QRS_MS or more (the machine's limits); "Normal ECG" stands with none of
# them, nor with a QTc long in either sex (470 ms or more).
WIDE_QRS_STATEMENTS = ("WIDE_QRS", "LBBB", "RBBB")
NORMAL_ECG_QTC_BELOW_MS = 470.0


# A QTc signed at this or more without "Long QT" is refused (a browser audit signed a QT of
# 360 ms at 118 bpm, QTc 505 ms, under "Sinus tachycardia" alone: nothing had shown the
# doctor the QTc, and the report ranked routine). Not beside a wide QRS or a paced rhythm,
# whose QT the QRS lengthens (the machine reads the JT index there), and above 100 bpm only
# when Fridericia's QTc is long too, as the machine's own long-QT finding.
QTC_LONG_UNSAID_MS = 500.0
# Bazett overcorrects at fast rates (AHA/ACCF/HRS recommendations, Rautaharju et al. 2009, part
# IV): above 100 bpm the QT must be long by Fridericia's correction too, from its upper normal
# limit for men (450 ms). A sinus tachycardia at 118 bpm read "Prolonged QTc 471 ms" with a
# Fridericia QTc of 421 and the form preselected Long QT (a clinician-eye audit); none of the
# 1,618 non-DS2 reads' 3 long-QT findings is at such a rate (`ml.findings`).
BAZETT_OVERCORRECTS_ABOVE_BPM = 100.0
LONG_QTC_FRIDERICIA_MS = 450.0


def _long_qtc_unsaid(chosen: set[str], signed: Mapping[str, float | None]) -> bool:
    qtc_ms, rate_bpm = signed.get("qtc_bazett_ms"), signed.get("heart_rate_bpm")
    if qtc_ms is None or round(qtc_ms) < QTC_LONG_UNSAID_MS or "LONG_QT" in chosen:
        return False
    if chosen & {*WIDE_QRS_STATEMENTS, "PACED"}:
        return False
    fridericia_ms = signed.get("qtc_fridericia_ms")
    fast = rate_bpm is not None and rate_bpm > BAZETT_OVERCORRECTS_ABOVE_BPM
    return not fast or (fridericia_ms is not None and fridericia_ms >= LONG_QTC_FRIDERICIA_MS)


def short_pr_doubt(pr_ms: float) -> str:
    """What a PR under `SHORT_PR_MS` asks of whoever calls the ECG normal: a short PR with a
    delta wave (a slurred QRS upstroke) is ventricular pre-excitation, which the machine does
    not look for."""
    return (
        f"a PR of {pr_ms:.0f} ms is short: check for a delta wave (pre-excitation) before "
        "calling the ECG normal"
    )


def measurement_contradictions(
    codes: list[str], signed: Mapping[str, float | None], strip: bool
) -> list[str]:
    """Why these statements cannot be signed with these measurements (`signed`: heart_rate_bpm,
    pr_ms, qrs_ms, qtc_bazett_ms; None where not measurable), in a doctor's words: a rate-named
    rhythm or "Normal ECG" against the heart rate signed (on a strip, whose heart rate is its
    rhythm's; a Holter's mean rate is not), "Long QT" against the QTc the QT and heart rate
    signed give, a statement defined by an interval against that interval, and "Normal ECG"
    beside an interval no definition calls normal. Clinician-eye audits signed "Sinus
    tachycardia" and "Long QT" with a heart rate of 40 bpm (QTc 274 ms), and the patient read
    "Your heart beat faster than usual" beside "about 40 times a minute"; then "Normal ECG"
    with a QTc of 562 ms, "Left bundle branch block" with a QRS of 80 ms and "First-degree AV
    block" with a PR of 120 ms."""
    chosen = {canonical(c) for c in codes}
    heart_rate_bpm, qtc_ms = signed.get("heart_rate_bpm"), signed.get("qtc_bazett_ms")
    pr_ms, qrs_ms = signed.get("pr_ms"), signed.get("qrs_ms")
    problems = []
    if strip and heart_rate_bpm is not None:
        # As the form shows it (whole bpm): a machine rate of 100.4 named sinus tachycardia is
        # signed as 100.
        shown_bpm = round(heart_rate_bpm)
        rate = f"the heart rate signed is {shown_bpm} bpm"
        if "BRADY" in chosen and shown_bpm > SINUS_BRADY_BELOW_BPM:
            problems.append(f'"Sinus bradycardia" is a rate under 60 bpm, and {rate}.')
        if "TACHY" in chosen and shown_bpm < SINUS_TACHY_ABOVE_BPM:
            problems.append(f'"Sinus tachycardia" is a rate over 100 bpm, and {rate}.')
        low, high = NORMAL_ECG_BPM
        if "NORMAL" in chosen and not low <= shown_bpm <= high:
            problems.append(f'"Normal ECG" needs a heart rate of 50-100 bpm, and {rate}.')
    if "LONG_QT" in chosen and qtc_ms is not None and qtc_ms < NO_LONG_QT_BELOW_MS:
        problems.append(
            f'"Long QT" with a QTc of {qtc_ms:.0f} ms (from the QT and heart rate signed): no '
            "definition calls a QTc under 440 ms long."
        )
    if _long_qtc_unsaid(chosen, signed):
        fridericia = signed.get("qtc_fridericia_ms")
        also = f"; Fridericia {fridericia:.0f} ms" if fridericia is not None else ""
        problems.append(
            f"The QT and heart rate signed give a QTc of {qtc_ms:.0f} ms (Bazett{also}): "
            f"{QTC_LONG_UNSAID_MS:.0f} ms or more is a long QT, with a risk of torsades. Add "
            '"Long QT", or correct the QT or the heart rate (empty if not measurable).'
        )
    if "AV_BLOCK_1" in chosen and pr_ms is not None and round(pr_ms) <= LONG_PR_MS:
        problems.append(
            f'"{STATEMENTS["AV_BLOCK_1"].label}" is a PR over {LONG_PR_MS:.0f} ms, and the PR '
            f"signed is {pr_ms:.0f} ms."
        )
    if "SHORT_PR" in chosen and pr_ms is not None and round(pr_ms) >= SHORT_PR_MS:
        problems.append(
            f'"{STATEMENTS["SHORT_PR"].label}" is a PR under {SHORT_PR_MS:.0f} ms, and the PR '
            f"signed is {pr_ms:.0f} ms."
        )
    for code in WIDE_QRS_STATEMENTS:
        if code in chosen and qrs_ms is not None and round(qrs_ms) < WIDE_QRS_MS:
            problems.append(
                f'"{STATEMENTS[code].label}" needs a QRS of {WIDE_QRS_MS:.0f} ms or more, and '
                f"the QRS signed is {qrs_ms:.0f} ms."
            )
    axis_deg = signed.get("qrs_axis_deg")
    if axis_deg is not None:
        shown_deg, low_deg, high_deg = round(axis_deg), *NORMAL_AXIS_DEG
        axis = f"the QRS axis signed is {shown_deg}°"
        if "LEFT_AXIS" in chosen and not -90 <= shown_deg < low_deg:
            problems.append(
                f'"Left axis deviation" is an axis from {low_deg}° to -90°, and {axis}.'
            )
        if "RIGHT_AXIS" in chosen and -90 <= shown_deg <= high_deg:
            problems.append(
                f'"Right axis deviation" is an axis beyond +{high_deg}° (or beyond -90°), and '
                f"{axis}."
            )
        if "NORMAL" in chosen and not low_deg <= shown_deg <= high_deg:
            problems.append(
                f'"Normal ECG" needs a QRS axis of {low_deg}° to +{high_deg}°, and {axis}.'
            )
    if "NORMAL" in chosen:
        if pr_ms is not None and round(pr_ms) > LONG_PR_MS:
            problems.append(f'"Normal ECG" with a PR of {pr_ms:.0f} ms (over {LONG_PR_MS:.0f}).')
        if pr_ms is not None and round(pr_ms) < SHORT_PR_MS:
            # MIT-BIH 230's pre-excited minute (PR 117 ms, a delta wave) was signed so.
            problems.append(f'"Normal ECG": {short_pr_doubt(pr_ms)}.')
        if qrs_ms is not None and round(qrs_ms) >= WIDE_QRS_MS:
            problems.append(f'"Normal ECG" with a QRS of {qrs_ms:.0f} ms (a wide QRS).')
        if qtc_ms is not None and round(qtc_ms) >= NORMAL_ECG_QTC_BELOW_MS:
            problems.append(
                f'"Normal ECG" with a QTc of {qtc_ms:.0f} ms (long: '
                f"{NORMAL_ECG_QTC_BELOW_MS:.0f} ms or more)."
            )
    return problems


def rhythm_codes_of(rhythm_line: str) -> list[str]:
    """The rhythm statements a machine's rhythm line names: the one it opens with, then one it
    names beside it ("Sinus rhythm with atrial fibrillation/flutter (1.2 min)" -> SINUS, AF;
    "Atrial fibrillation/flutter with sinus rhythm (4.1 min)" -> AF, SINUS). Only a sinus
    rhythm or AF/flutter counts beside: "with ventricular tachycardia (3 s)" or "with pause"
    names a finding, not a second rhythm; nor does one named after " and " ("Sinus rhythm
    with atrial fibrillation/flutter (42 min) and ventricular tachycardia (68 s)" -> SINUS,
    AF: read whole, the part beside had named "tachycardia")."""
    first, *with_parts = rhythm_line.split(" with ")
    beside = [part for with_part in with_parts for part in with_part.split(" and ")]
    codes = [rhythm_code_of(first)] + [
        rhythm_code_of(part)
        for part in beside
        if part.strip().lower().startswith(("sinus", "atrial fibrillation", "atrial flutter"))
    ]
    return [c for c in dict.fromkeys(codes) if c]


def rhythm_code_of(rhythm_line: str) -> str | None:
    """The rhythm statement a machine's rhythm line names ("Sinus rhythm with pause" -> SINUS,
    "Other rhythm (not normal sinus rhythm, not atrial fibrillation)" -> OTHER_RHYTHM), or
    None when it names none (too noisy, undetermined). What a parenthesis says (the rhythm
    it is not, how long it lasted) names nothing."""
    line = re.sub(r"\([^)]*\)", "", rhythm_line.lower())
    for code in ("OTHER_RHYTHM", "BRADY", "TACHY", "AF", "PACED", "VF", "SINUS"):
        if code == "VF" and "fibrillation" in line and not line.startswith("ventricular"):
            continue  # "... with atrial fibrillation" is not VF
        if code == "AF" and line.startswith("ventricular"):
            continue
        if any(w in line.split(" with ")[0] for w in RHYTHM_WORDS[code]):
            return code
    return None
