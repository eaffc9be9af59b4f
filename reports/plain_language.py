"""The patient summary's words: short sentences, everyday words, numbers as natural
frequencies ("about 11 of 100 people"). Its reading grade is measured in the tests."""

from __future__ import annotations

from reports.data import ReportData, Score

# Signed statement codes -> what they mean, in plain words.
PLAIN_FINDINGS: dict[str, str] = {
    "NORMAL": "Your heart test looked normal.",
    "SINUS": "Your heart beat in its normal, steady pattern.",
    "BRADY": "Your heart beat a bit slower than usual. This can be normal, for example in fit "
    "people.",
    "TACHY": "Your heart beat faster than usual.",
    "AF": "Your heartbeat was uneven. Doctors call this atrial fibrillation. The top parts of the "
    "heart do not beat in step.",
    "SVT": "Your heart had short runs of fast beats that start in the top parts of the heart.",
    "VT": "Your heart had runs of fast beats that start in the lower parts of the heart. "
    "Your doctor will talk with you about this soon.",
    "VF": "Your heart had a very fast and dangerous rhythm. Your doctor will talk with you now.",
    "PAC": "Some extra beats came from the top parts of your heart. This is common and is often "
    "harmless.",
    "PVC": "Some extra beats came from the lower parts of your heart. This is common.",
    "FREQUENT_PVC": "Many extra beats came from the lower parts of your heart.",
    "BIGEMINY": "Every second beat was an extra beat.",
    "TRIGEMINY": "Every third beat was an extra beat.",
    "PAUSE": "There were short pauses between some heartbeats.",
    "DROPPED_BEAT": "Now and then a heartbeat was skipped.",
    "AV_BLOCK_1": "The signal that starts each beat took a little longer than usual to pass "
    "through the heart. This is often harmless.",
    "AV_BLOCK_2": "Some of the signals that start each beat did not get through the heart.",
    "AV_BLOCK_3": "The signals that start each beat did not get through the heart. This needs "
    "care soon.",
    "LBBB": "The signal spread through the left side of the heart in a slower way than usual.",
    "RBBB": "The signal spread through the right side of the heart in a slower way than usual.",
    "WIDE_QRS": "Each beat took a bit longer than usual to spread through the heart.",
    "LONG_QT": "The heart took longer than usual to reset after each beat. Some medicines can "
    "do this.",
    "ST_ELEVATION": "Part of the trace was raised. This can be a sign of a blocked blood vessel.",
    "ST_DEPRESSION": "Part of the trace was lower than usual. This can mean the heart is short "
    "of blood and oxygen.",
    "T_INVERSION": "Part of the trace was upside down. This has many causes.",
    "LVH": "The trace hints that the heart muscle may be thicker than usual.",
    "PACED": "Your pacemaker was setting the pace of your heart.",
    "ARTIFACT": "Parts of the recording were not clear, so they could not be read.",
}

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
WHEN_TO_GET_HELP = (
    "Call an ambulance at once if you have chest pain that does not go away, trouble "
    "breathing, or if you faint."
)


def findings_in_plain_words(codes: list[str]) -> list[str]:
    sentences = [PLAIN_FINDINGS[c] for c in codes if c in PLAIN_FINDINGS]
    return sentences or ["Your doctor has written a note about your heart test below."]


def risk_in_plain_words(score: Score) -> str | None:
    """A risk as a natural frequency, or None when it was not computed."""
    if score.risk_percent is None:
        return None
    people = max(1, round(score.risk_percent)) if score.risk_percent >= 0.5 else None
    outcome = {
        "10-year": "will have a heart attack, a stroke or another heart or blood vessel problem "
        "in the next 10 years",
    }
    if "hard coronary" in score.title.lower() or "ATP III" in score.title:
        what = "will have a heart attack in the next 10 years"
    elif "in-hospital" in score.title.lower():
        what = "would not survive their stay in hospital"
    elif "6-month" in score.title.lower():
        what = "would not survive the next 6 months"
    else:
        what = outcome["10-year"]
    if people is None:
        return f"Fewer than 1 in 100 people with the same values {what}."
    return (
        f"About {people} of 100 people with the same values {what}. "
        f"The other {100 - people} will not."
    )


def next_steps(data: ReportData) -> list[str]:
    urgent = data.physician and any(
        c in ("VT", "VF", "AV_BLOCK_3", "ST_ELEVATION") for c in data.physician.findings
    )
    steps = []
    if urgent:
        steps.append(
            "Your doctor wants to see you soon. If you have not heard from us, call us today."
        )
    else:
        steps.append("Talk about this result at your next visit.")
    steps.append("Keep taking your medicines as usual unless your doctor tells you to stop.")
    steps.append("Bring this page and a list of your medicines to your next visit.")
    return steps
