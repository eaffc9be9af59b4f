"""What a read kept after a signing conflict would change in the version that now stands
(`portal.review.kept_read`): a working-day audit's kept read withdrew a colleague's "Long QT"
and QT of 420 ms unseen, under a reason that named neither."""

from __future__ import annotations

from portal.models import ReportVersion
from portal.review.kept_read import differences
from portal.services.reports import PhysicianRead


def test_the_colleagues_long_qt_and_qt_are_named_as_withdrawn() -> None:
    standing = ReportVersion(
        version_no=4, rhythm_label="AF", findings=["AF", "FREQUENT_PVC", "LONG_QT"],
        conclusion="AF, long QT.", heart_rate_bpm=96.0, qt_ms=420.0, pr_ms=None,
        qrs_ms=98.4, qrs_axis_deg=30.0,
    )  # fmt: skip
    kept = PhysicianRead(
        "AF", ["AF", "FREQUENT_PVC", "ST_ELEVATION"], "AF, long QT.",
        measurements={"heart_rate_bpm": 96.0, "pr_ms": None, "qrs_ms": 98.0, "qt_ms": 342.0,
                      "qrs_axis_deg": None},
    )  # fmt: skip
    assert differences(kept, standing) == [
        "it would withdraw Long QT",
        "it would add ST elevation",
        "QT 420 -> 342 ms",
        "QRS axis 30 -> not measurable",
    ]


def test_a_read_like_the_standing_one_changes_nothing() -> None:
    standing = ReportVersion(version_no=2, rhythm_label="Sinus rhythm", findings=["SINUS"],
                             conclusion="Normal.")  # fmt: skip
    assert differences(PhysicianRead("Sinus rhythm", ["SINUS"], "Normal."), standing) == []


def test_next_steps_and_words_to_the_patient_are_named_too() -> None:
    """A review of the kept form: a colleague's "Review today", cardiology referral, note and
    comment to the patient were withdrawn by a kept read that named nothing."""
    standing = ReportVersion(
        version_no=2, rhythm_label="Sinus rhythm", findings=["SINUS"], conclusion="Read.",
        next_steps=["SEE_TODAY", "CARDIOLOGY"], next_steps_note="Call patient at 3 pm",
        patient_comment="Please come to the clinic today.",
    )  # fmt: skip
    kept = PhysicianRead("Sinus rhythm", ["SINUS"], "Read.", next_steps=("ROUTINE",))
    assert differences(kept, standing) == [
        "it would withdraw next steps Cardiology referral, Review today (urgent)",
        "it would add next steps Discuss at the next routine visit",
        "another next step in words",
        "another note to the patient",
    ]
