"""What happens next, as the signing doctor orders it: a short list the doctor ticks (plus a
free-text note), each with the doctor's words and the patient's plain sentence. The patient
summary says exactly these steps, never generic advice that contradicts the doctor's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NextStep:
    code: str
    label: str  # the doctor's words, on the sign form and the clinician PDF
    plain: str  # the patient's sentence; "{clinic}" is the clinic's contact (CLINIC_CONTACT)


def _steps(*rows: tuple[str, str, str]) -> dict[str, NextStep]:
    return {code: NextStep(code, label, plain) for code, label, plain in rows}


# "Review within a week" without its own deadline to call: beside a finding that already asks
# the patient to call the clinic today unless their doctor has talked with them (VT, VF:
# `plain_language.next_steps`), "If nobody calls you in 2 days, call us" had set a second one.
SEE_SOON_ALONE = "Your doctor wants to see you within a week."
# In the order a summary lists them: how soon first, then tests, then the rest.
NEXT_STEPS: dict[str, NextStep] = _steps(
    ("SEE_TODAY", "Review today (urgent)",
     "Your doctor wants to see you today. If nobody has called you, call the clinic now "
     "({clinic})."),
    ("SEE_SOON", "Review within a week",
     SEE_SOON_ALONE + " If nobody calls you in 2 days, call us ({clinic})."),
    ("ROUTINE", "Discuss at the next routine visit",
     "You can talk about this result at your next usual visit."),
    ("DISCUSSED", "Discussed with the patient (their summary is released now)",
     "Your doctor has talked with you about this result."),
    ("REPEAT_ECG", "Repeat ECG", "You will have another ECG."),
    ("HOLTER", "Holter monitoring (24 h or longer)",
     "You will wear a small heart monitor for a day or more. It records every heartbeat."),
    ("ECHO", "Echocardiogram",
     "You will have an ultrasound scan of your heart. It shows how well your heart pumps."),
    ("EXERCISE_TEST", "Exercise stress test",
     "You will have a heart test while you walk or cycle."),
    ("BLOOD_TESTS", "Blood tests (electrolytes, thyroid)", "You will have blood tests."),
    ("CARDIOLOGY", "Cardiology referral", "You will see a heart doctor (a cardiologist)."),
    ("MEDICATION_REVIEW", "Medication review",
     "Your doctor will go over your medicines with you. Keep taking them until then, unless "
     "your doctor has told you otherwise."),
    ("STROKE_PREVENTION", "Discuss anticoagulation (stroke prevention)",
     "Your doctor will talk with you about medicine that lowers the chance of a stroke."),
)  # fmt: skip


FOLLOW_UP_TIMES = frozenset({"SEE_TODAY", "SEE_SOON", "ROUTINE"})  # at most one of these


def in_plain_words(codes: list[str], note: str = "", clinic: str = "") -> list[str]:
    """The patient's sentences for the steps the doctor chose, in the table's order, then
    the doctor's own note; empty when the doctor chose none. `clinic`: how to reach it."""
    chosen = [
        NEXT_STEPS[c].plain.format(clinic=clinic).replace(" ()", "")
        for c in NEXT_STEPS
        if c in codes
    ]
    return chosen + ([note.strip()] if note.strip() else [])
