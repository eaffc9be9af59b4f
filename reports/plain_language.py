"""The patient summary's words: short sentences, everyday words, numbers as natural
frequencies ("about 11 of 100 people"). Its reading grade is measured in the tests."""

from __future__ import annotations

from ml import vocabulary
from reports.data import ReportData, Score

# Signed statement codes -> what they mean, in plain words (`ml.vocabulary`).
PLAIN_FINDINGS: dict[str, str] = {code: s.plain for code, s in vocabulary.STATEMENTS.items()}

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
    """One sentence per signed statement, the most serious first (so the first is the
    headline: bigeminy before "extra beats from the top of the heart, often harmless")."""
    sentences = [PLAIN_FINDINGS[c] for c in vocabulary.by_severity(codes)]
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
