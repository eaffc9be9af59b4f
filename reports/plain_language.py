"""The patient summary's words: short sentences, everyday words, numbers as natural
frequencies ("about 11 of 100 people"). Its reading grade is measured in the tests."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from ml import rhythm, vocabulary
from ml.findings import FREQUENT_ECTOPY_SHARE
from portal.risk import beyond_calibration  # pure Python: no Flask, no database
from reports.data import Read, ReportData, Score
from reports.next_steps import SEE_SOON_ALONE
from reports.next_steps import in_plain_words as next_step_words

# Signed statement codes -> what they mean, in plain words (`ml.vocabulary`).
PLAIN_FINDINGS: dict[str, str] = {code: s.plain for code, s in vocabulary.STATEMENTS.items()}

# Said when staff noted a pacemaker at upload (`ml.paced`: the machine reads no rhythm, beat
# types or intervals then), whatever rhythm the doctor signed.
PACEMAKER = (
    "You have a pacemaker. The computer does not measure the rhythm or the wave timings of a "
    "heartbeat set by a pacemaker. Your doctor read the tracing."
)
WHAT_THE_TEST_IS = (
    "An ECG records the small electric signals that make your heart beat. Sticky pads on your "
    "skin pick up the signals. A computer program looked at every beat first. Then your doctor "
    "checked the result and signed it."
)
QUESTIONS = [
    "What do these results mean for me?",
    "Do I need more tests?",
    "Should I change any of my medicines?",
    "What can I do to lower my risk?",
    "When should I have my next check?",
]
# When to call an ambulance: the general signs, then those of what was signed (an audit: the
# same line for every finding gave no stroke signs beside AF, and no racing heart or dizziness
# beside VT or a pause). `emergency_number` is the EMERGENCY_NUMBER setting.
WHEN_TO_GET_HELP = (
    "Call {ambulance} at once if you have chest pain that does not go away, trouble "
    "breathing, or if you faint."
)
STROKE_SIGNS = (
    "Also call {ambulance} at once if your face, arm or leg suddenly feels weak or numb, or "
    "you cannot speak clearly. These can be signs of a stroke."
)
RHYTHM_SIGNS = (
    "Also call {ambulance} at once if you nearly faint, feel very dizzy, or your heart races "
    "and does not slow down."
)
RHYTHM_SIGN_CODES = frozenset(
    {"VF", "VT", "PAUSE", "AV_BLOCK_2", "AV_BLOCK_3", "SVT", "LONG_QT", "DROPPED_BEAT"}
)
FAST_SPELLS = frozenset({"VF", "VT", "SVT"})  # a mean rate hides them (`heart_rate...`)


def when_to_get_help(codes: list[str], emergency_number: str = "") -> list[str]:
    """The ambulance sentences for a summary whose signed statements are `codes`."""
    ambulance = f"{emergency_number} for an ambulance" if emergency_number else "an ambulance"
    said = [WHEN_TO_GET_HELP]
    if "AF" in codes:
        said.append(STROKE_SIGNS)
    if RHYTHM_SIGN_CODES & set(codes):
        said.append(RHYTHM_SIGNS)
    return [sentence.format(ambulance=ambulance) for sentence in said]


# AF/flutter signed beside another rhythm (paroxysmal AF in a long recording): the two rhythm
# sentences say which part of the recording each describes, so "out of step" and "normal,
# steady" do not read as a contradiction. Flutter too: the statement is "AF/flutter", and a
# flutter's beat is often regular, so "uneven" is said as what it often does, not a fact.
PAROXYSMAL_AF = (
    "For part of the recording the top parts of your heart were quivering or fluttering out "
    "of step with the rest of it. Doctors call this atrial fibrillation or atrial flutter."
)
REST_OF_THE_TIME = "The rest of the time "
APART_FROM = "Apart from "  # set off by commas after REST_OF_THE_TIME (`_rest_of_the_time`)


# Sinus rhythm beside extra beats: "Your heart beat in its normal, steady pattern." after "Every
# second beat was an extra beat." read as a contradiction; and on a recording read as episodes
# (a Holter) bigeminy and trigeminy are stretches of it, not the whole recording (a
# clinician-eye audit: MIT-BIH 208's summary said every second beat, then every third beat,
# then a normal steady pattern).
BESIDE_EXTRA_BEATS = "Apart from the extra beats, your heart beat in its normal pattern."
FOR_PART = "For part of the recording, "
# On a strip bigeminy and trigeminy are said of the whole of it only where the machine's
# episodes of them cover this share of it or more: a cardiologist's audit read "Every third
# beat was an extra beat." of nstdb 119e06's 60-s strip, 6.8 s of trigeminy among scattered
# PVCs (`patterns_in_part`).
PATTERN_WHOLE_STRIP_SHARE = 0.8
# A slow rate beside a heart block is the block's, not a fit heart's: MIT-BIH 231's 2:1 block
# read "This can be normal, for example in fit people" beside "about 37 times a minute" (an
# electrophysiologist's audit).
BLOCKS = frozenset({"AV_BLOCK_2", "AV_BLOCK_3", "DROPPED_BEAT"})
SLOW_BESIDE_BLOCK = "Your heart beat slower than usual."
# Nor beside pauses: a slow rate with pauses suggests a sick sinus node. MIT-BIH 232's 0-300 s,
# signed bradycardia and pause at 48 bpm, read "This can be normal, for example in fit people"
# (an audit of the patient's side). Nor beside anything but benign statements, an allow-list:
# a deny-list of blocks and pause had let "This can be normal, for example in fit people"
# stand beside an idioventricular rhythm, ST elevation, a long QT and VT (an adversarial
# review of the patient's side). Sinus rhythm, sinus bradycardia, a normal ECG, artefact.
SLOW_MAY_BE_FIT = frozenset({"SINUS", "BRADY", "NORMAL", "ARTIFACT"})
# Sinus rhythm beside a block is no "normal pattern": MIT-BIH 231's summary said "Some of the
# signals that start each beat did not get through the heart. ... Apart from the extra beats,
# your heart beat in its normal pattern." (a consistency audit). The atria keep their rhythm.
SINUS_BESIDE_BLOCK = (
    "Each heartbeat started in its usual place, though not every signal got through, as said above."
)
SINUS_BESIDE_BLOCK_AND_EXTRA_BEATS = "Apart from the extra beats, e" + SINUS_BESIDE_BLOCK[1:]
# In a complete block no signal gets through, and the lower parts beat from an escape rhythm of
# their own: sinus rhythm beside it had read "The signals that start each beat did not get
# through the heart. ... / Each heartbeat started in its usual place, though not every signal
# got through, as said above." (an adversarial review of the patient's side).
SINUS_BESIDE_COMPLETE_BLOCK = (
    "The top of your heart kept its usual rhythm, but its signals did not reach the lower "
    "parts, which beat on their own, more slowly."
)
# Sinus rhythm beside a spell that interrupts it (VT, SVT, a pause, an idioventricular rhythm, a
# run of VF or AF) is no "normal, steady pattern": sinus rhythm and SVT read "Your heart had
# short runs of fast beats ... Your heart beat in its normal, steady pattern." (an audit of the
# patient's side). Beside any other finding (a bundle branch block, a long QT) it is not said
# "normal" either; the rhythm itself still started in its usual place and kept its pace.
SPELLS_APART = "Apart from the spells, "
SPELLS_AND_EXTRA_BEATS_APART = "Apart from the spells and extra beats, "
SINUS_STARTED = "your heartbeat started in its usual place."
SINUS_BESIDE_FINDINGS = "Your heartbeat started in its usual place and kept a steady pattern."
# ... and beside extra beats too: a report amended to sinus rhythm, frequent PVCs, bigeminy and
# a long QT read "... long QT ... Apart from the extra beats, your heart beat in its normal
# pattern." (a patient-experience audit, 2026-12-07); so did ST changes, a bundle branch block
# and a first-degree block beside extra beats.
SINUS_BESIDE_FINDINGS_AND_EXTRA_BEATS = "Apart from the extra beats, y" + SINUS_BESIDE_FINDINGS[1:]
# Statements beside which sinus rhythm keeps its "normal, steady pattern": none is abnormal.
SINUS_STAYS_NORMAL = frozenset({"SINUS", "NORMAL", "ARTIFACT"})
# Supraventricular ectopic beats from `ml.findings.FREQUENT_ECTOPY_SHARE` of the machine's beats
# are "many", as frequent ventricular ones are: svdb 822's atrial bigeminy, 38 of 77 beats,
# read "Some extra beats ... often harmless" (a cardiologist's audit).
MANY_PACS = "Many extra beats came from the top parts of your heart."
PATTERNS = ("BIGEMINY", "TRIGEMINY")
EPISODIC = ("AF", "VF")  # rhythm statements never said as the rest of a recording's time


def patterns_in_part(
    episodes: Sequence[rhythm.Episode], duration_s: float, read_as_episodes: bool
) -> bool:
    """Whether bigeminy and trigeminy are said for part of the recording (`FOR_PART`): always
    on a recording read as episodes (a Holter); on a strip unless the machine's bigeminy and
    trigeminy episodes cover `PATTERN_WHOLE_STRIP_SHARE` of it or more (a pattern the doctor
    signed where the machine found none is said for part of it too)."""
    if read_as_episodes:
        return True
    patterns = (rhythm.BIGEMINY, rhythm.TRIGEMINY)
    patterned_s = sum(e.duration_s for e in episodes if e.label in patterns)
    return patterned_s < PATTERN_WHOLE_STRIP_SHARE * duration_s


def frequent_pacs(beat_counts: Mapping[str, int], vf_waves: int = 0) -> bool:
    """Whether the machine's supraventricular (S) calls are `FREQUENT_ECTOPY_SHARE` of its
    beats or more (`ReportVersion.beat_counts` of the machine read). Its beats leave out the
    `vf_waves` (detections inside ventricular flutter/fibrillation, `ml.holter_summary.vf_waves`),
    as the clinician's ectopy findings do (`ml.findings.findings_of_read`)."""
    total = sum(beat_counts.values()) - vf_waves
    return total > 0 and beat_counts.get("S", 0) / total >= FREQUENT_ECTOPY_SHARE


def findings_in_plain_words(
    codes: list[str], episodes: bool = False, many_pacs: bool = False
) -> list[str]:
    """One sentence per signed statement, the most serious first (so the first is the
    headline: bigeminy before "extra beats from the top of the heart, often harmless").
    `episodes`: bigeminy and trigeminy are said for part of the recording (`FOR_PART`): a
    recording read as episodes, or a strip they cover only part of (`patterns_in_part`).
    `many_pacs`: the machine's S calls are frequent (`frequent_pacs`): "many", not "some"
    (beside signed AF not said: the S calls inside AF are no premature atrial beats)."""
    if not vocabulary.by_severity(codes):
        return ["Your doctor has written a note about your heart test below."]
    return _explained_once([sentence for _, sentence in _worded(codes, episodes, many_pacs)])


# "Your doctor will explain ..." is said once per summary, by the first sentence that says it:
# an idioventricular and another rhythm read "... Your doctor will explain what it means for
# you. / Your heartbeat did not follow its usual pattern. Your doctor will explain what this
# means." (an audit of the patient's side).
EXPLAIN_PROMISE = re.compile(r"(; y|\s*Y)our doctor will explain [^.]*\.")


def _explained_once(sentences: list[str]) -> list[str]:
    """`sentences` with the doctor's promise to explain kept in the first that makes it only
    ("This has many causes; your doctor will explain ..." keeps "This has many causes.")."""
    said, kept = False, []
    for sentence in sentences:
        promises = bool(EXPLAIN_PROMISE.search(sentence))
        if said and promises:
            sentence = EXPLAIN_PROMISE.sub(lambda m: "." if m.group(1) == "; y" else "", sentence)
        said = said or promises
        kept.append(sentence)
    return kept


def _worded(codes: list[str], episodes: bool, many_pacs: bool = False) -> list[tuple[str, str]]:
    """(code, sentence) per known statement, in the order `findings_in_plain_words` says them."""
    ordered = vocabulary.by_severity(codes)
    words = dict(PLAIN_FINDINGS)
    extra_beats = any(
        vocabulary.STATEMENTS[c].category is vocabulary.Category.ECTOPY for c in ordered
    )
    if extra_beats:
        words["SINUS"] = BESIDE_EXTRA_BEATS
    if many_pacs and "AF" not in ordered:
        words["PAC"] = MANY_PACS
    if set(ordered) - SLOW_MAY_BE_FIT:
        words["BRADY"] = SLOW_BESIDE_BLOCK
    if BLOCKS & set(ordered):
        blocked = _sinus_beside_block(ordered)
        words["SINUS"] = (
            "Apart from the extra beats, " + _lower_first(blocked) if extra_beats else blocked
        )
    if episodes:
        for code in PATTERNS:
            words[code] = FOR_PART + words[code][0].lower() + words[code][1:]
    underlying = [c for c in ordered if c in vocabulary.RHYTHM_STATEMENTS and c not in EPISODIC]
    anchor = ""
    if vocabulary.paroxysmal_af(ordered):
        anchor = "AF"
    elif "VF" in ordered and underlying:  # a run of VF within another rhythm (a Holter)
        anchor = "VF"
    words["SINUS"] = _sinus_beside(ordered, anchor, words["SINUS"])
    if not anchor:
        return [(c, words[c]) for c in ordered]
    anchor_words = PAROXYSMAL_AF if anchor == "AF" else words["VF"]
    # The AF (or VF) sentence, then at once the rest of the time's rhythm, then the other
    # findings. Ventricular fibrillation is never the rest of the time: on a Holter it is
    # minutes among hours (24 h with 11 h of AF and 15 min of VF read "The rest of the time
    # your heart had a very fast and dangerous rhythm", the VF sentence twice).
    # Sinus rhythm beside AF or VF and extra beats is "apart from the extra beats, ..." (never
    # "normal" beside them: `_sinus_beside`).
    rest = [(c, _rest_of_the_time(words[c])) for c in underlying]
    before = ordered[: ordered.index(anchor)]
    after = [c for c in ordered[ordered.index(anchor) + 1 :] if c not in underlying]
    # A block comes before the rest of the time's rhythm, which says "as said above" of it
    # (AF, sinus rhythm and a dropped beat had read "... not every signal got through, as
    # said above." before "Now and then a heartbeat was skipped."; a Holter audit).
    blocks_first = [c for c in after if c in BLOCKS]
    return [
        *((c, words[c]) for c in before),
        (anchor, anchor_words),
        *((c, words[c]) for c in blocks_first),
        *rest,
        *((c, words[c]) for c in after if c not in blocks_first),
    ]


def _rest_of_the_time(sentence: str) -> str:
    """`sentence` said of the rest of a Holter's time: "The rest of the time, apart from the
    spells, ..." where it opens with "Apart from" (it had read "The rest of the time apart
    from the spells, your heartbeat ...", an adversarial review of the patient's side)."""
    if sentence.startswith(APART_FROM):
        return REST_OF_THE_TIME.rstrip() + ", " + _lower_first(sentence)
    return REST_OF_THE_TIME + _lower_first(sentence)


def _sinus_beside(ordered: list[str], anchor: str, sinus_words: str) -> str:
    """Sinus rhythm's sentence beside the other statements: `sinus_words` (its own, or the one
    beside extra beats or a block) unless a spell interrupts it (any other rhythm statement but
    the AF or VF `anchor`, which the rest-of-the-time sentence answers), or it would say
    "normal" beside another abnormal finding (`SINUS_BESIDE_FINDINGS`, with the extra beats
    `SINUS_BESIDE_FINDINGS_AND_EXTRA_BEATS`)."""
    category = vocabulary.Category
    spells = [
        c
        for c in ordered
        if vocabulary.STATEMENTS[c].category is category.RHYTHM and c not in ("SINUS", anchor)
    ]
    if spells:
        ectopy = any(vocabulary.STATEMENTS[c].category is category.ECTOPY for c in ordered)
        apart = SPELLS_AND_EXTRA_BEATS_APART if ectopy else SPELLS_APART
        blocked = BLOCKS & set(ordered)  # "apart from the spells, each heartbeat ..."
        return apart + (_lower_first(_sinus_beside_block(ordered)) if blocked else SINUS_STARTED)
    others = set(ordered) - SINUS_STAYS_NORMAL
    if sinus_words == BESIDE_EXTRA_BEATS and any(
        vocabulary.STATEMENTS[c].category is not category.ECTOPY for c in others
    ):
        return SINUS_BESIDE_FINDINGS_AND_EXTRA_BEATS
    normal = sinus_words == PLAIN_FINDINGS["SINUS"]
    return SINUS_BESIDE_FINDINGS if normal and others else sinus_words


def _sinus_beside_block(ordered: list[str]) -> str:
    """Sinus rhythm's sentence beside a block: no signal got through a complete one."""
    return SINUS_BESIDE_COMPLETE_BLOCK if "AV_BLOCK_3" in ordered else SINUS_BESIDE_BLOCK


def _lower_first(sentence: str) -> str:
    return sentence[0].lower() + sentence[1:]


# "During the fast rhythm it beat much faster" only where the machine read's fast runs (VT,
# SVT) cover part of the recording, under this share: a cardiologist's audit read it of
# MIT-BIH 223's 60 s, VT from 3.3 s to 58.3 s, whose mean of 105 bpm is the fast rhythm's.
FAST_PART_SHARE = 0.8
# VF is no beat: "it beat much faster" was said of it too (the same audit).
DURING_VF = (
    "During the dangerous rhythm your heart quivered instead of beating properly. This "
    "number does not show that rhythm."
)


def fast_share(episodes: Sequence[rhythm.Episode], duration_s: float) -> float:
    """The share of the recording in the machine read's VT and SVT runs (0 where it found
    none: a fast rhythm the doctor signed alone)."""
    fast_s = sum(e.duration_s for e in episodes if e.label in (rhythm.VT, rhythm.SVT))
    return fast_s / duration_s if duration_s > 0 else 0.0


def heart_rate_in_plain_words(
    heart_rate_bpm: float,
    episodes: bool = False,
    codes: list[str] | None = None,
    fast_share: float = 0.0,
) -> str:
    """The heart rate sentence. On a recording read as episodes (a Holter) the rate is the
    whole recording's mean, said so: MIT-BIH 201 read "The rest of the time your heart beat
    slower than usual" beside "Your heart beat about 65 times a minute", AF's faster stretches
    included in that mean (a records audit). Beside a fast rhythm signed (`codes`: VT, VF,
    SVT) the mean is said as one: "a very fast rhythm" beside "about 98 times a minute ...
    60 to 100 is usual" read as a contradiction (an audit of the patient summaries). That the
    fast spells were faster is said only where the machine's runs of them (`fast_share`, of
    the recording) cover part of it, under `FAST_PART_SHARE`; that most of the recording was
    in them where they cover more; of VF, that the heart quivered (`DURING_VF`)."""
    rate = f"about {heart_rate_bpm:.0f} times a minute"
    signed = FAST_SPELLS & set(codes or [])
    if signed:
        mean = f"On average over the whole recording your heart beat {rate}"
        if "VF" in signed:
            return f"{mean}. {DURING_VF}"
        if fast_share >= FAST_PART_SHARE:
            return f"{mean}, most of that time in the fast rhythm."
        if fast_share > 0:
            return f"{mean}. During the fast rhythm it beat much faster."
        return f"{mean}."
    said = (
        f"Over the whole recording your heart beat on average {rate}."
        if episodes
        else f"Your heart beat {rate}."
    )
    return f"{said} At rest, 60 to 100 is usual.{_beside_the_usual_range(heart_rate_bpm, codes)}"


# A rate outside 60-100 said with no comment beside "At rest, 60 to 100 is usual.": an
# idioventricular and another rhythm at 58 bpm read so (an audit of the patient's side).
# "A little" within this many beats a minute of the range.
A_LITTLE_BPM = 10
FIT_PEOPLE = " This can be normal, for example in fit people."


def _beside_the_usual_range(heart_rate_bpm: float, codes: list[str] | None) -> str:
    """ " This is a little slower than usual." (or slower, faster) of a rate outside 60-100,
    as said rounded; nothing where a signed sinus brady- or tachycardia says it already. A
    slow sinus rhythm may be a fit heart's only beside benign statements (`SLOW_MAY_BE_FIT`)."""
    signed = set(codes or [])
    bpm = round(heart_rate_bpm)
    if 60 <= bpm <= 100 or signed & {"BRADY", "TACHY"}:
        return ""
    a_little = "a little " if min(abs(bpm - 60), abs(bpm - 100)) <= A_LITTLE_BPM else ""
    said = f" This is {a_little}{'slower' if bpm < 60 else 'faster'} than usual."
    fit = bpm < 60 and "SINUS" in signed and signed <= SLOW_MAY_BE_FIT
    return said + FIT_PEOPLE if fit else said


# What each model predicts, for a patient, and what the rest of the 100 people do.
# A rate the doctor signed as not measurable: the summary had said nothing of the rate at all,
# and only a later amendment "your doctor could not measure it" (an audit).
NO_HEART_RATE = "Your doctor could not measure your heart rate reliably from this recording."

OUTCOMES = {
    "framingham_general_cvd": (
        "will have a heart attack, a stroke or another heart or blood vessel problem in the "
        "next 10 years", "will not"),
    "framingham_hard_chd_atp3": ("will have a heart attack in the next 10 years", "will not"),
    "grace_in_hospital": ("would not survive their stay in hospital", "would survive it"),
    "grace_six_month": ("would not survive the next 6 months", "would survive them"),
}  # fmt: skip
OUTCOMES["framingham_general_cvd_bmi"] = OUTCOMES["framingham_general_cvd"]


def _whole_people(risk_percent: float) -> int:
    """The stored figure as shown ("12.5 %") to a whole number, half up as it reads: stored at
    one decimal since 2026-12-07 (`risk_scores.score_values`), `round` had made 12.5 "About 12"
    where 12.54 % at four decimals had read "About 13"."""
    return int(Decimal(str(risk_percent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def risk_in_plain_words(score: Score) -> str | None:
    """A risk as a natural frequency, or None when it was not computed; above the highest
    figure the model states (`portal.risk.beyond_calibration`) "More than 30 of 100 ...",
    with no "The other N": "About 100 of 100 people ... The other 0 will not." had told a
    patient a certainty the model cannot give (a risk audit)."""
    if score.risk_percent is None:
        return None
    what, rest = OUTCOMES.get(score.model, OUTCOMES["framingham_general_cvd"])
    if score.risk_percent < 0.5:
        return f"Fewer than 1 in 100 people with the same values {what}."
    if (ceiling := beyond_calibration(score.model, score.risk_percent)) is not None:
        return f"More than {ceiling:.0f} of 100 people with the same values {what}."
    people = max(1, _whole_people(score.risk_percent))
    others = 100 - people
    return f"About {people} of 100 people with the same values {what}. The other {others} {rest}."


# One risk figure for the patient, the one that fits their situation: during an acute coronary
# syndrome (`IN_ACS`) the outlook in words; otherwise the 10-year cardiovascular risk.
# The first-event models are not computed during one (`risk_scores.IN_ACS`), GRACE computed
# or not: a GRACE score not computed had let "About 14 of 100 people ... in 10 years" through.
IN_ACS = "the admission values show an acute coronary syndrome"
# The patient summary's heading where no risk number is given (`AFTER_ACS_TITLE`,
# `AFTER_MI_TITLE`): "What your risk number means" had headed "Your outlook: ..." (an audit).
NO_RISK_NUMBER_HEADING = "About your heart risk"
AFTER_ACS_TITLE = "Your outlook"
AFTER_ACS_WORDS = (
    "Your doctor will talk with you about what your heart tests mean for the months ahead."
)
# The first-event models are not computed once a heart attack is recorded
# (`portal.services.risk_scores.PRIOR_MI_REASON` says this): the patient had read "We did not
# have all the values we need ... which tests are missing", which no test would mend (an audit).
AFTER_A_HEART_ATTACK = "a previous heart attack is recorded"
AFTER_MI_TITLE = "Your heart risk"
AFTER_MI_WORDS = (
    "The usual 10-year risk numbers are for people who have not had a heart attack, so none is "
    "given here. Your doctor will talk with you about what your heart tests mean for you."
)
# Not computed for their age (`portal.risk.inputs.number`: "Age 82 years is outside the range
# the ... model was developed for"): a patient of 82 had read "... Your doctor can tell you
# which tests are missing.", and no test would mend it (an audit of the patient summaries).
OUTSIDE_AGE_RANGE = "outside the range the"
AGE_RANGE_WORDS = (
    "The usual 10-year risk numbers are made for people aged 30 to 79, so none is given for "
    "your age here. Your doctor will talk with you about what your heart tests mean for you."
)
# Not computed for a sex other than male or female (`portal.risk.inputs`: "Sex 'other': the
# model has equations for male and female only"): a patient of sex "other" with every value
# recorded had read "... Your doctor can tell you which tests are missing." (a risk audit).
SEX_REFUSED = "the model has equations for male and female only"
SEX_WORDS = (
    "The usual 10-year heart risk numbers are worked out separately for men and women, so none "
    "is given here. Your doctor will talk with you about what your heart tests mean for you."
)
# ... and for a person with diabetes too old for the 2008 model (75-79): Framingham refused
# for the age, ATP III for the diabetes (a coronary heart disease risk equivalent there,
# `portal.risk.atp3`). A diabetic of 77 with every value recorded had read "... which tests
# are missing" (a risk audit).
DIABETES_REFUSED = "does not score people with diabetes"
DIABETES_AND_AGE_WORDS = (
    "The usual 10-year risk numbers do not fit you, so none is given here. Some are made for "
    "people aged 30 to 74. The other one gives no number to people with diabetes, because "
    "in it diabetes already counts as a high risk. Your doctor will talk with you about what "
    "your heart tests mean for you."
)
# Not computed because the values came after this ECG (`risk_scores._missing_text`: "Systolic
# blood pressure missing (measured after this ECG, 2026-12-07, not used for it)"): a patient
# with every value recorded an hour after the recording, and one whose file is dated 2000, read
# "... Your doctor can tell you which tests are missing." (an audit of the patient's side).
MEASURED_AFTER = "after this ECG"
MEASURED_AFTER_WORDS = (
    "Values we need to work out your risk number were measured after this heart test, so this "
    "result has no risk number. Your doctor will talk with you about what your heart tests "
    "mean for you."
)
PATIENT_RISK_ORDER = (
    "framingham_general_cvd",
    "framingham_general_cvd_bmi",
    "framingham_hard_chd_atp3",
)
PATIENT_RISK_TITLES = {
    "framingham_general_cvd": "Your chance of a heart or blood vessel problem in 10 years",
    "framingham_general_cvd_bmi": "Your chance of a heart or blood vessel problem in 10 years",
    "framingham_hard_chd_atp3": "Your chance of a heart attack in 10 years",
}


def patient_risk(scores: list[Score]) -> tuple[str, str] | None:
    """The one risk a patient reads (a plain title and a natural frequency), or None when
    none could be computed. Two Framingham variants side by side, or a 10-year risk after a
    heart attack, would confuse more than inform; the clinician PDF keeps them all.

    During an acute coronary syndrome (recorded as the first-event models' test finds one,
    `risk_scores._acute_coronary_syndrome`) the patient reads no figure: a
    chance of dying is said in person, with its context, never first on paper at home (an
    audit: "About 29 of 100 people with the same values would not survive the next 6
    months" beside a signed "Sinus tachycardia"; GRACE is computed from the admission's
    inputs whatever the ECG shows)."""
    # A score computed for an age or sex since corrected is not said to the patient.
    computed = {s.model: s for s in scores if s.risk_percent is not None and not s.stale_reason}
    # Only when an acute coronary syndrome is recorded (the first-event models' test, their
    # reason): a GRACE score computed from admission values without one had replaced a
    # woman's 10-year figure, > 30 % high, with "the months ahead" (a risk-score audit).
    in_acs = any(IN_ACS in (s.not_computed_reason or "") for s in scores)
    if in_acs:
        return AFTER_ACS_TITLE, AFTER_ACS_WORDS
    if any(AFTER_A_HEART_ATTACK in (s.not_computed_reason or "") for s in scores):
        return AFTER_MI_TITLE, AFTER_MI_WORDS
    for model in PATIENT_RISK_ORDER:
        if model in computed:
            words = risk_in_plain_words(computed[model])
            if words:
                return PATIENT_RISK_TITLES[model], words + measured_on_words(computed[model])
    first_event = [s for s in scores if s.model in PATIENT_RISK_ORDER]
    if any(map(_sex_refused, first_event)) and all(
        _sex_refused(s) or _outside_age_range(s) for s in first_event
    ):
        return AFTER_MI_TITLE, SEX_WORDS
    if first_event and all(_outside_age_range(s) for s in first_event):
        return AFTER_MI_TITLE, AGE_RANGE_WORDS
    if first_event and all(_outside_age_range(s) or _diabetes_refused(s) for s in first_event):
        return AFTER_MI_TITLE, DIABETES_AND_AGE_WORDS
    if first_event and all(_measured_after(s) for s in first_event):
        return AFTER_MI_TITLE, MEASURED_AFTER_WORDS
    return None


def _outside_age_range(score: Score) -> bool:
    reason = (score.not_computed_reason or "").removeprefix("not computed: ")
    return reason.startswith("Age ") and OUTSIDE_AGE_RANGE in reason


def _sex_refused(score: Score) -> bool:
    return SEX_REFUSED in (score.not_computed_reason or "")


def _diabetes_refused(score: Score) -> bool:
    return DIABETES_REFUSED in (score.not_computed_reason or "")


def _measured_after(score: Score) -> bool:
    """Whether every value the stored reason lists as missing was measured after this ECG
    (each such names it); the column cuts a long reason after a whole item, "; ..."
    (`risk_scores._fitted`), and a full set measured after fills it with two."""
    reason = (score.not_computed_reason or "").removesuffix("; ...")
    missing = reason.count(" missing")
    return 0 < missing == reason.count(MEASURED_AFTER)


def measured_on_words(score: Score) -> str:
    """ " It uses your measurements from 3 December 2026." (or "from ... to ..."): reports
    of one day had said 24 and 79 of 100 with nothing to tell which values each used (an
    audit of the patient summaries)."""
    if score.measured_on is None:
        return ""
    first, last = score.measured_on
    if first == last:
        return f" It uses your measurements from {first:%-d %B %Y}."
    return f" It uses your measurements from {first:%-d %B %Y} to {last:%-d %B %Y}."


def test_date_words(recorded: bool) -> str:
    """What a test's date is, on the summary and the patient's list alike: when it was done if
    its file gave a clock (`recorded`), else when the hospital received it (the upload). The
    list had said "Date of the test" of the upload time, the summary "Test received on"."""
    return "Test done on" if recorded else "Test received on"


def updated_on(signed_at: dt.datetime) -> str:
    """The line an amended report's summary opens with: a patient may hold the earlier one,
    which only its footer's "version 3" had told apart (an audit)."""
    return (
        f"Your doctor updated this report on {signed_at:%-d %B %Y}. "
        "This page replaces any earlier one you may have."
    )


# Statements whose sentence asks the patient to call the clinic today unless their doctor has
# already talked with them (`ml.vocabulary`: VF, VT): the one deadline to call on their page.
CALL_TODAY = "call the clinic today"
CALLS_TODAY = frozenset(code for code, words in PLAIN_FINDINGS.items() if CALL_TODAY in words)


def _one_deadline_to_call(steps: list[str], findings: list[str]) -> list[str]:
    """The steps with "within a week" said without its "If nobody calls you in 2 days, call
    us" beside a finding that asks to call today: a VT result, released after the talk, read
    "call the clinic today" and "wait 2 days" on one page (an audit of the patient's side)."""
    if not CALLS_TODAY & set(findings):
        return steps
    return [SEE_SOON_ALONE if step.startswith(SEE_SOON_ALONE) else step for step in steps]


KEEP_TAKING = "Keep taking your medicines as usual unless your doctor tells you to stop."
BRING_THIS_PAGE = "Bring this page and a list of your medicines to your next visit."


def earlier_shown(data: ReportData) -> Read | None:
    """The newest earlier version of an amended report the patient could read, if any: one
    held for a talk and amended before its release was never theirs (`Read.shown_to_patient`),
    and to them the amendment is the first version."""
    if not data.amendments:
        return None
    earlier = [data.physician, *data.amendments[:-1]]
    return next((r for r in reversed(earlier) if r is not None and r.shown_to_patient), None)


def what_changed(data: ReportData) -> list[str]:
    """What an amendment changed, in the patient's words: the sentences about the findings the
    newest version adds and those it no longer says, a changed heart rate, new next steps and
    those taken back, a changed free-text step or note, against the version before it. An
    amended summary had said only "Your doctor updated this report", and a patient holding
    both could not tell what was different (an audit of the patient summaries)."""
    before = earlier_shown(data)
    if before is None:
        return []
    now = data.amendments[-1]
    said: list[str] = []
    # Statements added or dropped, each in the sentence its version printed, in context (one
    # quoted alone had read "The top parts of your heart were quivering ..." where the earlier
    # summary said "For part of the recording ..."; a consistency audit).
    in_part = patterns_in_part(data.episodes, data.duration_s, data.read_as_episodes)
    many_pacs = frequent_pacs(data.beat_counts, data.vf_waves)
    then_words = dict(_worded(before.findings, in_part, many_pacs))
    now_words = dict(_worded(now.findings, in_part, many_pacs))
    added = [w for c, w in now_words.items() if c not in then_words]
    dropped = [w for c, w in then_words.items() if c not in now_words]
    if added:
        said.append("It now says: " + " ".join(added))
    if dropped:
        said.append("It no longer says: " + " ".join(dropped))
    rate_then, rate_now = before.heart_rate_bpm, now.heart_rate_bpm
    if rate_then is not None and rate_now is not None and round(rate_then) != round(rate_now):
        said.append(
            f"Your heart rate now reads about {rate_now:.0f} times a minute; it said about "
            f"{rate_then:.0f}."
        )
    elif rate_then is not None and rate_now is None:
        said.append("It no longer gives your heart rate: your doctor could not measure it.")
    elif rate_then is None and rate_now is not None:
        said.append(f"It now gives your heart rate: about {rate_now:.0f} times a minute.")
    # The risk figure, recomputed at every signature: a patient holding both pages read
    # "About 32 of 100" and "About 20 of 100" with nothing between them (an audit).
    risk_then, risk_now = before.patient_risk, now.patient_risk
    if risk_then and risk_now and risk_then != risk_now:
        if not _a_figure(risk_now):  # after a heart attack, in an ACS, outside the ages
            said.append(  # the earlier figure is not repeated (a review)
                "The risk number the earlier page gave no longer applies to you: "
                + (risk_now.partition(": ")[2] or risk_now)
            )
        else:
            said.append(
                f"Your risk number was worked out again. It now reads: "
                f"{_first_sentence(risk_now)} It said: {_first_sentence(risk_then)}"
            )
    new_steps = _one_deadline_to_call(
        next_step_words(
            [c for c in now.next_steps if c not in before.next_steps], clinic=data.clinic_contact
        ),
        now.findings,
    )
    if new_steps:
        said.append("New next steps: " + " ".join(new_steps))
    said += _steps_and_note_changed(before, now, data.clinic_contact)
    return said or ["The findings and next steps are the same as before."]


# Not a step taken back: the talk it says was had (an amendment's form never ticks it again).
DONE_STEPS = frozenset({"DISCUSSED"})
NOTE_CHANGED = "Your doctor's note for you has changed: see below."
NOTE_REMOVED = "It no longer has the note your doctor wrote for you before."


def _steps_and_note_changed(before: Read, now: Read, clinic: str) -> list[str]:
    """Next steps an amendment dropped, a changed free-text step and a changed note for the
    patient: an echo taken back, or "Stop taking sotalol ..." reworded, had read "The
    findings and next steps are the same as before." (an audit of the patient's side)."""
    said = []
    dropped = next_step_words(
        [c for c in before.next_steps if c not in now.next_steps and c not in DONE_STEPS],
        clinic=clinic,
    )
    if dropped:
        said.append("You no longer need these next steps: " + " ".join(dropped))
    step_then, step_now = _words(before.next_steps_note), _words(now.next_steps_note)
    if step_then != step_now and step_now:
        said.append("Your doctor's own next step has changed. It now reads: " + step_now)
    elif step_then != step_now:
        said.append("Your doctor's own next step no longer applies: " + step_then)
    if _words(before.patient_comment) != _words(now.patient_comment):
        said.append(NOTE_CHANGED if _words(now.patient_comment) else NOTE_REMOVED)
    return said


def _words(text: str) -> str:
    """`text` with its spacing and line breaks made single spaces (no change to the patient)."""
    return " ".join(text.split())


def _a_figure(risk: str) -> bool:
    """Whether a stored patient risk gives a number ("About 20 of 100", "Fewer than 1 in 100")."""
    return " of 100 people" in risk or " in 100 people" in risk


def _first_sentence(risk: str) -> str:
    """ "About 20 of 100 people ... in the next 10 years." of a stored "Title: About ..."."""
    words = risk.partition(": ")[2] or risk
    return words.split(". ")[0].rstrip(".") + "."


def next_steps(data: ReportData) -> list[str]:
    """The doctor's own next steps when they chose any (never generic advice beside them),
    else the usual ones; then what always holds: keep taking the medicines (unless the
    doctor's medication review says it; the sign form always preselects a follow-up time, so
    a patient told "Some medicines can cause this" had never read it, an audit), and bring
    the page. "Call the clinic" names its number (`clinic_contact`)."""
    read = data.latest_read
    ordered = (
        _one_deadline_to_call(
            next_step_words(read.next_steps, read.next_steps_note, data.clinic_contact),
            read.findings,
        )
        if read
        else []
    )
    if ordered:
        keep = [] if read and "MEDICATION_REVIEW" in read.next_steps else [KEEP_TAKING]
        return [*ordered, *keep, BRING_THIS_PAGE]
    # The latest read's findings: the first signed one's had given an amendment that added VT
    # "Talk about this result at your next visit" (an audit of the patient summaries).
    urgent = read is not None and any(
        c in ("VT", "VF", "AV_BLOCK_3", "ST_ELEVATION") for c in read.findings
    )
    steps = []
    if urgent:
        steps.append(
            f"Your doctor wants to see you soon. If you have not heard from us, call us today "
            f"({data.clinic_contact})."
        )
    else:
        steps.append("Talk about this result at your next visit.")
    steps.append(KEEP_TAKING)
    steps.append(BRING_THIS_PAGE)
    return steps
