"""One finding vocabulary: complete, emitted by the machine, kept by the doctor's form,
ordered by severity for the patient, and read by the worklist's urgency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from ml import vocabulary
from ml.analysis import analyze
from ml.findings import Finding
from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgRecording, EcgReport, RiskModel, RiskScore
from portal.services.reports import (
    MEDIUM_URGENCY,
    ROUTINE,
    high_risk_scores,
    urgency_of,
    worklist_scores,
)
from reports.plain_language import (
    BESIDE_EXTRA_BEATS,
    BLOCKS,
    FIT_PEOPLE,
    FOR_PART,
    PAROXYSMAL_AF,
    SINUS_BESIDE_BLOCK,
    SINUS_BESIDE_BLOCK_AND_EXTRA_BEATS,
    SINUS_BESIDE_COMPLETE_BLOCK,
    SINUS_BESIDE_FINDINGS,
    SINUS_BESIDE_FINDINGS_AND_EXTRA_BEATS,
    SINUS_STARTED,
    SINUS_STAYS_NORMAL,
    SLOW_BESIDE_BLOCK,
    SLOW_MAY_BE_FIT,
    SPELLS_AND_EXTRA_BEATS_APART,
    SPELLS_APART,
    _explained_once,
    findings_in_plain_words,
    heart_rate_in_plain_words,
)
from tests.conftest import People, client_for
from tests.support.machine_codes import codes_the_machine_writes
from tests.test_upload_and_review import _analysed_report


def test_every_code_has_a_label_category_severity_and_plain_sentence() -> None:
    severities = [s.severity for s in vocabulary.STATEMENTS.values()]
    assert sorted(severities) == list(range(len(severities)))  # a strict order
    for code, statement in vocabulary.STATEMENTS.items():
        assert statement.code == code and code == code.upper()
        assert statement.label and statement.category in vocabulary.Category
        assert statement.plain.endswith(".") and len(statement.plain.split()) >= 4


def test_the_af_statement_tells_the_patient_of_flutter_too() -> None:
    """The statement is "Atrial fibrillation / flutter", whose flutter often beats regularly:
    the patient's sentence said "Your heartbeat was uneven. Doctors call this atrial
    fibrillation." of both."""
    for sentence in (vocabulary.STATEMENTS["AF"].plain, PAROXYSMAL_AF):
        assert "atrial fibrillation or atrial flutter" in sentence
        assert "heartbeat was uneven" not in sentence


def test_the_machine_emits_only_known_codes() -> None:
    emitted = codes_the_machine_writes()
    assert emitted and emitted <= set(vocabulary.STATEMENTS), emitted - set(vocabulary.STATEMENTS)
    with pytest.raises(ValueError, match="not in ml.vocabulary"):
        Finding("AVB1", "First-degree AV block", "low")


def test_a_long_pr_is_a_first_degree_av_block_in_the_vocabularys_spelling() -> None:
    recording, _ = synthetic_recording(BeatTruth(pr_ms=260.0), leads=("I", "II"), duration_s=30)
    codes = {f.code for f in analyze(recording).findings}
    assert "AV_BLOCK_1" in codes


def test_the_doctors_form_keeps_a_stored_legacy_machine_code(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    # What reads stored before the vocabulary say (rows are immutable through the ORM).
    sql.execute(
        text("UPDATE report_version SET findings = :codes WHERE id = :id"),
        {"codes": json.dumps(["AVB1", "PVC"]), "id": machine.id},
    )
    sql.commit()
    page = client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'value="AV_BLOCK_1" selected' in page or 'selected value="AV_BLOCK_1"' in page


def test_extra_beats_and_their_patterns_do_not_contradict_the_rhythm() -> None:
    """A clinician-eye audit: MIT-BIH 208's summary (a Holter) said "Every second beat was an
    extra beat.", "Every third beat was an extra beat." and "Your heart beat in its normal,
    steady pattern." one after the other."""
    holter = findings_in_plain_words(["SINUS", "BIGEMINY", "TRIGEMINY", "PVC"], episodes=True)
    assert holter == [
        "For part of the recording, every second beat was an extra beat.",
        "For part of the recording, every third beat was an extra beat.",
        vocabulary.STATEMENTS["PVC"].plain,
        BESIDE_EXTRA_BEATS,
    ]
    strip = findings_in_plain_words(["SINUS", "BIGEMINY"])
    assert strip == [vocabulary.STATEMENTS["BIGEMINY"].plain, BESIDE_EXTRA_BEATS]
    assert not any(s.startswith(FOR_PART) for s in strip)
    assert vocabulary.STATEMENTS["SINUS"].plain in findings_in_plain_words(["SINUS", "NORMAL"])


@pytest.mark.parametrize(
    "codes",
    [
        ["SINUS", "FREQUENT_PVC", "BIGEMINY", "LONG_QT"],
        ["SINUS", "ST_ELEVATION", "PVC"],
        ["SINUS", "ST_DEPRESSION", "PVC"],
        ["SINUS", "LBBB", "PVC"],
        ["SINUS", "AV_BLOCK_1", "PAC"],
    ],
)
def test_sinus_rhythm_beside_extra_beats_and_another_finding_is_not_a_normal_pattern(
    codes: list[str],
) -> None:
    """A patient-experience audit (2026-12-07): a report amended to sinus rhythm, frequent
    PVCs, bigeminy and a long QT read "... long QT ... Apart from the extra beats, your heart
    beat in its normal pattern.", as did ST changes, a bundle branch block and a first-degree
    block beside extra beats."""
    sentences = findings_in_plain_words(codes)
    assert sentences[-1] == (
        "Apart from the extra beats, your heartbeat started in its usual place and kept a "
        "steady pattern."
    )
    assert sentences[-1] == SINUS_BESIDE_FINDINGS_AND_EXTRA_BEATS
    assert not any("normal" in sentence for sentence in sentences), sentences


def test_frequent_pacs_are_many_extra_beats_to_the_patient() -> None:
    """A cardiologist's audit: svdb 822's atrial bigeminy (38 S of 77 beats) read "Some extra
    beats came from the top parts of your heart. This is common and is often harmless."; from
    10 % of the machine's beats they are "many", as frequent ventricular ones are."""
    from reports.plain_language import MANY_PACS, frequent_pacs

    bigeminy = {"N": 39, "S": 38, "V": 0, "F": 0, "Q": 0}
    assert frequent_pacs(bigeminy) and not frequent_pacs({"N": 91, "S": 9})
    assert not frequent_pacs({})
    said = findings_in_plain_words(["SINUS", "PAC"], many_pacs=frequent_pacs(bigeminy))
    assert said == [MANY_PACS, BESIDE_EXTRA_BEATS]
    assert "often harmless" not in " ".join(said)
    few = findings_in_plain_words(["SINUS", "PAC"], many_pacs=frequent_pacs({"N": 91, "S": 9}))
    assert few[0] == vocabulary.STATEMENTS["PAC"].plain
    # Beside AF the S calls inside it are no premature atrial beats: not counted as many.
    beside_af = findings_in_plain_words(["SINUS", "AF", "PAC"], True, many_pacs=True)
    assert vocabulary.STATEMENTS["PAC"].plain in beside_af


def test_the_patients_headline_is_the_most_serious_statement() -> None:
    sentences = findings_in_plain_words(["PAC", "SINUS", "BIGEMINY", "FREQUENT_PVC"])
    assert sentences[0] == vocabulary.STATEMENTS["FREQUENT_PVC"].plain
    assert sentences.index(vocabulary.STATEMENTS["PAC"].plain) > sentences.index(
        vocabulary.STATEMENTS["BIGEMINY"].plain
    )
    assert findings_in_plain_words(["AVB1"])[0] == vocabulary.STATEMENTS["AV_BLOCK_1"].plain


def test_a_high_grace_category_in_either_band_is_flagged_but_never_outranks_arrhythmia() -> None:
    from portal import risk
    from portal.risk.result import RiskLevel

    result = risk.grace_in_hospital(
        age_years=57, heart_rate_bpm=70, sbp_mmhg=110, creatinine=1.2, killip_class=3,
        cardiac_arrest=False, st_deviation=False, elevated_enzymes=False,
    )  # fmt: skip
    assert result.points == 142  # ACS type unknown: both bands, one high
    assert (result.category, result.level) == ("NSTE-ACS high, STEMI intermediate", "high")
    both = RiskScore(
        model=RiskModel.GRACE_IN_HOSPITAL, category=result.category, level=result.level
    )
    assert urgency_of([], [both]) == MEDIUM_URGENCY  # lifted from routine
    assert urgency_of([("BIGEMINY", "medium")], []) <= urgency_of([], [both])
    assert urgency_of([("VT", "high")], [both]) < urgency_of([], [both])
    own = EcgReport(risk_scores=[both], recording=EcgRecording(reference_record=None))
    assert high_risk_scores(own) == ["GRACE death in hospital"]
    # A reference record (teaching/QA) is not this patient's ECG: no flag, no lift from her
    # risk (MIT-BIH 119 attached to a patient was flagged "high risk score"; an audit).
    teaching = EcgReport(risk_scores=[both], recording=EcgRecording(reference_record="119"))
    assert high_risk_scores(teaching) == [] and worklist_scores(teaching) == []
    assert urgency_of([], worklist_scores(teaching, [both])) == ROUTINE
    low = RiskScore(
        model=RiskModel.GRACE_IN_HOSPITAL, category="NSTE-ACS low, STEMI low", level=RiskLevel.LOW
    )
    assert urgency_of([], [low]) == ROUTINE


def test_contradictory_statements_are_refused_with_the_reason(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    from tests.conftest import PASSWORD, error_messages, post_form

    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'value="SINUS" selected' in page or 'selected value="SINUS"' in page  # preselected
    cases = [
        (["NORMAL", "VF"], "Sinus rhythm", "cannot be signed with abnormal statements"),
        (["SINUS"], "banana", "does not say"),
        (["SINUS", "AF"], "Sinus rhythm", "exactly one rhythm statement"),
        (["PVC"], "Sinus rhythm", "exactly one rhythm statement"),
        (["SINUS", "LBBB", "RBBB"], "Sinus rhythm", "exclude each other"),
    ]
    for findings, rhythm, words in cases:
        response = post_form(doctor, f"/reports/{report.id}/sign",
                             {"rhythm_label": rhythm, "findings": findings, "conclusion": "x",
                              "password": PASSWORD, "row_version": str(report.row_version)},
                             token_page=f"/reports/{report.id}")  # fmt: skip
        assert response.status_code in (400, 422), findings
        assert words in " ".join(error_messages(response.get_data(as_text=True))), findings
    sql.expire_all()
    assert len(sql.get(EcgReport, report.id).versions) == 1  # nothing was signed
    assert vocabulary.contradictions(["SINUS", "PAC", "AV_BLOCK_1"], "NSR with PACs") == []


def test_leads_come_in_the_order_clinicians_read_them() -> None:
    from ml.recording import standard_order

    alphabetical = ("I", "II", "III", "V1", "V2", "V3", "V4", "V5", "V6", "aVF", "aVL", "aVR")
    assert standard_order(alphabetical) == [
        "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"
    ]  # fmt: skip
    assert standard_order(("V1", "MLII", "X")) == ["MLII", "V1", "X"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    rhythm=st.sampled_from(vocabulary.RHYTHM_STATEMENTS),
    others=st.sets(
        st.sampled_from([c for c in vocabulary.STATEMENTS if c not in vocabulary.RHYTHM_STATEMENTS])
    ),
)
def test_the_patient_summary_never_contradicts_itself(rhythm: str, others: set[str]) -> None:
    """Every set of statements the library lets a doctor sign (exactly one rhythm, no
    excluded pair, "Normal ECG" only with sinus rhythm) reads, in the patient's words, as one
    sentence per statement, most serious first, and never "normal" beside an abnormality."""
    codes = [rhythm, *sorted(others)]
    assume(not vocabulary.contradictions(codes, vocabulary.STATEMENTS[rhythm].label))
    sentences = findings_in_plain_words(codes)
    extra_beats = any(vocabulary.STATEMENTS[c].category == "ectopy" for c in codes)
    blocked = bool(BLOCKS & set(codes))  # a slow rate beside a block is not "normal"
    spells = any(vocabulary.STATEMENTS[c].category == "rhythm" for c in others)
    beside_findings = any(
        vocabulary.STATEMENTS[c].category != "ectopy" for c in set(codes) - SINUS_STAYS_NORMAL
    )
    expected = [
        sinus_beside_spells(extra_beats, blocked, "AV_BLOCK_3" in codes)
        if c == "SINUS" and spells
        else sinus_beside_block(codes, extra_beats)
        if c == "SINUS" and blocked
        else SINUS_BESIDE_FINDINGS_AND_EXTRA_BEATS
        if c == "SINUS" and extra_beats and beside_findings
        else BESIDE_EXTRA_BEATS
        if c == "SINUS" and extra_beats
        else SLOW_BESIDE_BLOCK
        if c == "BRADY" and set(codes) - SLOW_MAY_BE_FIT  # not a fit heart's beside these
        else SINUS_BESIDE_FINDINGS
        if c == "SINUS" and set(codes) - SINUS_STAYS_NORMAL
        else vocabulary.STATEMENTS[c].plain
        for c in vocabulary.by_severity(codes)
    ]
    assert sentences == _explained_once(expected)  # "your doctor will explain" once
    assert vocabulary.by_severity(codes)[0] == vocabulary.most_serious(codes)  # the headline
    says_normal = vocabulary.STATEMENTS["NORMAL"].plain in sentences
    assert not says_normal or set(codes) <= {"NORMAL", "SINUS"}
    assert not blocked or not any("normal" in sentence for sentence in sentences)
    assert len(set(sentences)) == len(sentences)


def sinus_beside_spells(extra_beats: bool, blocked: bool, complete: bool = False) -> str:
    """Sinus rhythm's sentence beside a spell that interrupts it (`_sinus_beside`)."""
    apart = SPELLS_AND_EXTRA_BEATS_APART if extra_beats else SPELLS_APART
    block = SINUS_BESIDE_COMPLETE_BLOCK if complete else SINUS_BESIDE_BLOCK
    return apart + (block[0].lower() + block[1:] if blocked else SINUS_STARTED)


def sinus_beside_block(codes: list[str], extra_beats: bool) -> str:
    """Sinus rhythm's sentence beside a block: a complete one lets no signal through."""
    if "AV_BLOCK_3" in codes:
        apart = "Apart from the extra beats, t" if extra_beats else "T"
        return apart + SINUS_BESIDE_COMPLETE_BLOCK[1:]
    return SINUS_BESIDE_BLOCK_AND_EXTRA_BEATS if extra_beats else SINUS_BESIDE_BLOCK


@pytest.mark.parametrize("episodes", [False, True])
@pytest.mark.parametrize("code", sorted(vocabulary.STATEMENTS))
def test_sinus_rhythm_is_never_normal_and_steady_beside_an_abnormal_statement(
    code: str, episodes: bool
) -> None:
    """An audit of the patient's side signed sinus rhythm and SVT, and the patient read "Your
    heart had short runs of fast beats that start in the top parts of the heart." then "Your
    heart beat in its normal, steady pattern."; likewise beside VT ("... call the clinic
    today."), a pause and an idioventricular rhythm. Every statement signable beside sinus
    rhythm, on a strip and on a Holter (AF and VF may stand beside it there)."""
    codes = ["SINUS", code]
    if vocabulary.contradictions(codes, "Sinus rhythm", episodes=episodes):
        return
    sentences = findings_in_plain_words(codes, episodes=episodes)
    normal = vocabulary.STATEMENTS["SINUS"].plain
    if code in SINUS_STAYS_NORMAL:  # Normal ECG, artefact: nothing abnormal of the heart
        assert normal in sentences
        return
    assert not any("normal, steady" in s for s in sentences), sentences
    spell = vocabulary.STATEMENTS[code].category == "rhythm" and code not in ("AF", "VF")
    if spell:  # VT, SVT, a pause, an idioventricular rhythm: said apart from them
        assert sentences[-1] == SPELLS_APART + SINUS_STARTED, sentences
    if code in ("AF", "VF"):  # the rest of a Holter's time
        assert sentences[-1] == "The rest of the time y" + SINUS_BESIDE_FINDINGS[1:], sentences


def test_sinus_rhythm_beside_a_signed_block_is_not_a_normal_pattern() -> None:
    """MIT-BIH 231 signed as prefilled (sinus rhythm, 2:1 AV block, PVCs, PACs) told the
    patient "Apart from the extra beats, your heart beat in its normal pattern." right after
    "Some of the signals that start each beat did not get through the heart."."""
    sentences = findings_in_plain_words(["SINUS", "AV_BLOCK_2", "PVC", "PAC"])
    assert sentences[0] == vocabulary.STATEMENTS["AV_BLOCK_2"].plain
    assert SINUS_BESIDE_BLOCK_AND_EXTRA_BEATS in sentences
    assert not any("normal" in sentence for sentence in sentences), sentences
    assert findings_in_plain_words(["SINUS", "DROPPED_BEAT"])[-1] == SINUS_BESIDE_BLOCK


def test_the_block_comes_before_the_rest_of_the_time_that_says_as_said_above() -> None:
    """A Holter audit: paroxysmal AF, sinus rhythm, a dropped beat and PVCs read "The rest of
    the time apart from the extra beats, each heartbeat started in its usual place, though not
    every signal got through, as said above." before "Now and then a heartbeat was skipped."."""
    for block in sorted(BLOCKS):
        sentences = findings_in_plain_words(["AF", "SINUS", block, "PVC"])
        rest = next(i for i, s in enumerate(sentences) if s.startswith("The rest of the time"))
        said = sentences.index(vocabulary.STATEMENTS[block].plain)
        assert said < rest, sentences


def test_patient_sentences_read_neither_as_a_fault_nor_as_a_fast_pulse() -> None:
    """T-wave inversion read "Part of the trace was upside down" (a patient takes it for a
    printing or electrode fault); AF read "beating fast" beside "about 77 times a minute" (a
    patient takes it for their pulse). A clinician-eye audit of the patient portal."""
    from reports.plain_language import PAROXYSMAL_AF
    from reports.readability import grade_level

    inverted = vocabulary.STATEMENTS["T_INVERSION"].plain
    assert "upside down" not in inverted and "where the heart resets" in inverted
    for sentence in (vocabulary.STATEMENTS["AF"].plain, PAROXYSMAL_AF):
        # "quivering" is fibrillation, "fluttering" flutter: the statement is both (a
        # clinician audit, 2026-12-07: a 2:1 flutter's patient read only "quivering").
        assert "fast" not in sentence and "quivering or fluttering" in sentence
    # Not "but it was not atrial fibrillation": a term the patient may never have heard.
    assert "fibrillation" not in vocabulary.STATEMENTS["OTHER_RHYTHM"].plain
    assert all(grade_level(s) <= 8 for s in (inverted, PAROXYSMAL_AF))


def test_a_pause_is_not_called_short() -> None:
    """A pause is 2 s or more (MIT-BIH 232's longest 5.9 s, high risk, "see you today"), and
    the patient read "There were short pauses between some heartbeats" (a records audit)."""
    plain = vocabulary.STATEMENTS["PAUSE"].plain
    assert "short" not in plain and "paused for a few seconds" in plain


def test_a_holters_heart_rate_is_said_as_the_whole_recordings_mean() -> None:
    """MIT-BIH 201 read "The rest of the time your heart beat slower than usual" beside "Your
    heart beat about 65 times a minute" (the mean of all of it, AF's faster stretches
    included): a patient could not tell which was true (a records audit)."""
    from reports.plain_language import heart_rate_in_plain_words

    strip = heart_rate_in_plain_words(64.6)
    assert strip == "Your heart beat about 65 times a minute. At rest, 60 to 100 is usual."
    holter = heart_rate_in_plain_words(64.6, episodes=True)
    assert holter.startswith("Over the whole recording your heart beat on average about 65 ")
    sentences = [*findings_in_plain_words(["BRADY", "AF"], episodes=True), holter]
    # Beside AF a slow rest of the time is not said to be a fit heart's (`SLOW_MAY_BE_FIT`).
    assert "The rest of the time your heart beat slower than usual." in sentences


def test_the_fast_rhythms_rate_is_said_faster_only_where_it_covers_part_of_the_recording() -> None:
    """A cardiologist's audit: MIT-BIH 223's 60 s, VT from 3.3 s to 58.3 s, signed VT, read
    "On average over the whole recording your heart beat about 105 times a minute. During the
    fast rhythm it beat much faster.", its mean the fast rhythm's; VF, no beat, read so too."""
    from ml import rhythm
    from reports.plain_language import DURING_VF, fast_share, heart_rate_in_plain_words

    mean = "On average over the whole recording your heart beat about 105 times a minute"
    sustained = fast_share([rhythm.Episode(rhythm.VT, 3.3, 58.3, 99)], 60.0)
    said = heart_rate_in_plain_words(105.0, codes=["VT"], fast_share=sustained)
    assert said == f"{mean}, most of that time in the fast rhythm."
    runs = fast_share([rhythm.Episode(rhythm.VT, 10.0, 14.0, 8)], 60.0)
    assert heart_rate_in_plain_words(105.0, codes=["SINUS", "VT"], fast_share=runs) == (
        f"{mean}. During the fast rhythm it beat much faster."
    )
    # A fast rhythm the doctor signed where the machine found no run: the mean, no comparison.
    assert heart_rate_in_plain_words(105.0, codes=["VT"]) == f"{mean}."
    for share in (0.0, runs, sustained):
        vf = heart_rate_in_plain_words(105.0, codes=["VF", "VT"], fast_share=share)
        assert vf == f"{mean}. {DURING_VF}" and "beat much faster" not in vf


def test_a_long_qt_tells_the_patient_not_to_stop_medicines_and_to_ask_before_new_ones() -> None:
    """ "Some medicines can do this." alone could have a patient stop an essential medicine,
    or buy one that lengthens the QT further (an audit of the patient summaries)."""
    from reports.readability import grade_level

    plain = vocabulary.STATEMENTS["LONG_QT"].plain
    assert "Do not stop any medicine unless your doctor tells you to." in plain
    assert "ask your doctor or pharmacist" in plain
    assert grade_level(plain) <= 8


def test_the_medicine_sentences_leave_room_for_the_doctors_own_instruction() -> None:
    """Signed with a medication review and "Stop taking sotalol until you see us.", the
    summary read "Keep taking them until then." and "Do not stop any medicine on your own."
    beside it (an audit of the patient's side)."""
    from reports.next_steps import in_plain_words
    from reports.readability import grade_level

    steps = in_plain_words(["MEDICATION_REVIEW"], "Stop taking sotalol until you see us.")
    assert steps[0].endswith(
        "Keep taking them until then, unless your doctor has told you otherwise."
    )
    assert grade_level(steps[0]) <= 8
    assert "on your own" not in vocabulary.STATEMENTS["LONG_QT"].plain


def test_a_slow_rate_beside_a_block_is_not_said_to_be_normal() -> None:
    """MIT-BIH 231's 2:1 block read "This can be normal, for example in fit people" beside
    "about 37 times a minute" (an electrophysiologist's audit)."""
    said = findings_in_plain_words(["BRADY", "AV_BLOCK_2"])
    assert "Your heart beat slower than usual." in said
    assert not any("fit people" in s for s in said)
    assert any("fit people" in s for s in findings_in_plain_words(["BRADY"]))


def test_a_slow_rate_beside_pauses_is_not_said_to_be_normal() -> None:
    """MIT-BIH 232's 0-300 s, signed bradycardia and pause at 48 bpm, read "This can be
    normal, for example in fit people" (a sick sinus node's picture; an audit of the
    patient's side); so did the rest of a Holter's time beside paroxysmal AF."""
    said = findings_in_plain_words(["BRADY", "PAUSE", "AV_BLOCK_1"])
    assert "Your heart beat slower than usual." in said
    assert not any("fit people" in s for s in said)
    rest = findings_in_plain_words(["BRADY", "AF", "PAUSE"], episodes=True)
    assert "The rest of the time your heart beat slower than usual." in rest
    assert not any("fit people" in s for s in rest)
    # A pause is no block: sinus rhythm beside it keeps its own sentence.
    assert not any("got through" in s for s in findings_in_plain_words(["SINUS", "PAUSE"]))


def test_a_rate_outside_the_usual_range_is_said_so_and_the_doctor_explains_once() -> None:
    """An audit of the patient's side signed another rhythm and an idioventricular rhythm at
    58 bpm: "... Your doctor will explain what it means for you. / Your heartbeat did not
    follow its usual pattern. Your doctor will explain what this means. / Your heart beat
    about 58 times a minute. At rest, 60 to 100 is usual." """
    from reports.plain_language import EXPLAIN_PROMISE, heart_rate_in_plain_words
    from reports.readability import grade_level

    codes = ["OTHER_RHYTHM", "IVR"]
    said = [*findings_in_plain_words(codes), heart_rate_in_plain_words(58.0, codes=codes)]
    assert " ".join(said).count("will explain") == 1, said
    assert said[1] == "Your heartbeat did not follow its usual pattern."
    assert said[2].endswith("At rest, 60 to 100 is usual. This is a little slower than usual.")
    # Every pair of statements that promise it: once, the first keeps it.
    promising = [c for c, s in vocabulary.STATEMENTS.items() if EXPLAIN_PROMISE.search(s.plain)]
    assert {"PAUSE", "IVR", "OTHER_RHYTHM", "T_INVERSION"} <= set(promising)
    for first in promising:
        for second in promising:
            sentences = findings_in_plain_words([first, second])
            assert sum(bool(EXPLAIN_PROMISE.search(s)) for s in sentences) == 1, sentences
            assert all(s.endswith(".") and ". ." not in s for s in sentences), sentences
    assert "This has many causes." in " ".join(findings_in_plain_words(["PAUSE", "T_INVERSION"]))

    def rate(bpm: float, *signed: str) -> str:
        return heart_rate_in_plain_words(bpm, codes=list(signed)).split("usual.", 1)[1]

    assert rate(59.6, "SINUS") == rate(100.4, "SINUS") == ""  # about 60 and 100: usual
    assert rate(45, "OTHER_RHYTHM") == " This is slower than usual."
    assert rate(104, "AF") == " This is a little faster than usual."
    fast = heart_rate_in_plain_words(130, codes=["SINUS", "SVT"])  # said as its mean
    assert "than usual" not in fast
    assert rate(140, "AF") == " This is faster than usual."
    # A fit heart only of a slow sinus rhythm: not beside a pause or block, nor of another
    # rhythm; a signed brady- or tachycardia says it already.
    assert rate(55, "SINUS") == " This is a little slower than usual." + FIT_PEOPLE
    assert "fit" not in rate(55, "SINUS", "PAUSE") and "fit" not in rate(55, "IVR", "OTHER_RHYTHM")
    assert rate(45, "BRADY") == rate(120, "TACHY") == ""
    assert grade_level(heart_rate_in_plain_words(55, codes=["SINUS"])) <= 8


@pytest.mark.parametrize("rhythm", ["SINUS", "BRADY"])
@pytest.mark.parametrize("code", sorted(vocabulary.STATEMENTS))
def test_a_fit_heart_is_said_only_beside_benign_statements(rhythm: str, code: str) -> None:
    """An adversarial review of the patient's side read "This can be normal, for example in
    fit people" beside an idioventricular rhythm and PVCs at 54 bpm, ST elevation at 44, a
    long QT at 42 and, on a Holter, VT ("call the clinic today"): only blocks and a pause had
    kept it away. Every statement beside sinus rhythm and sinus bradycardia at 45 bpm, on a
    strip and as a Holter's rest of the time."""
    codes = [rhythm, code]
    for episodes in (False, True):
        said = [
            *findings_in_plain_words(codes, episodes=episodes),
            heart_rate_in_plain_words(45.0, episodes=episodes, codes=codes),
        ]
        fit = any("fit people" in s for s in said)
        assert fit == (set(codes) <= SLOW_MAY_BE_FIT), (codes, said)


def test_sinus_rhythm_beside_a_complete_block_says_no_signal_got_through() -> None:
    """An adversarial review of the patient's side: sinus rhythm and complete heart block at 38
    bpm read "The signals that start each beat did not get through the heart. ... / Each
    heartbeat started in its usual place, though not every signal got through, as said
    above.": in a complete block none gets through, and the lower parts beat on their own.
    Beside extra beats, spells and as a Holter's rest of the time beside AF too; a
    second-degree block and a dropped beat keep their words."""
    for others in ([], ["PVC"], ["IVR"], ["IVR", "PVC"], ["AF"], ["AF", "PVC"], ["AF", "VT"]):
        codes = ["SINUS", "AV_BLOCK_3", *others]
        said = " ".join(findings_in_plain_words(codes, episodes=True))
        assert "not every signal got through" not in said, said
        assert "top of your heart kept its usual rhythm, but its signals did not reach" in said
    assert findings_in_plain_words(["SINUS", "AV_BLOCK_3"]) == [
        vocabulary.STATEMENTS["AV_BLOCK_3"].plain,
        "The top of your heart kept its usual rhythm, but its signals did not reach the lower "
        "parts, which beat on their own, more slowly.",
    ]
    for block in ("AV_BLOCK_2", "DROPPED_BEAT"):
        assert findings_in_plain_words(["SINUS", block])[-1] == SINUS_BESIDE_BLOCK
    from reports.readability import grade_level

    assert grade_level(SINUS_BESIDE_COMPLETE_BLOCK) <= 8


def test_the_rest_of_the_time_reads_as_one_sentence_before_apart_from() -> None:
    """An adversarial review of the patient's side read "The rest of the time apart from the
    spells, your heartbeat started in its usual place." (paroxysmal AF's rest-of-the-time
    prefix on sinus rhythm's sentence beside VT). Every underlying rhythm beside AF or a run
    of VF, with every one or two other statements, on a Holter: capitalised, and "apart from
    ..." set off by commas."""
    import itertools
    import re

    others = [c for c in vocabulary.STATEMENTS if c not in vocabulary.RHYTHM_STATEMENTS]
    combinations = [(), *itertools.combinations(others, 1), *itertools.combinations(others, 2)]
    for anchor, underlying in itertools.product(("AF", "VF"), ("SINUS", "BRADY", "OTHER_RHYTHM")):
        for extra in combinations:
            sentences = findings_in_plain_words([anchor, underlying, *extra], episodes=True)
            for sentence in sentences:
                assert sentence[0].isupper() and sentence.endswith("."), sentences
                assert "time apart" not in sentence and ",," not in sentence, sentences
                if sentence.startswith("The rest of the time, "):
                    assert re.match(r"The rest of the time, apart from [a-z ]+, [a-z]", sentence)
    sentences = findings_in_plain_words(["AF", "SINUS", "VT", "PVC"], episodes=True)
    assert (
        "The rest of the time, apart from the spells and extra beats, your heartbeat started "
        "in its usual place." in sentences
    ), sentences
