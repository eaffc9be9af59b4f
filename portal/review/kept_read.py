"""What a doctor's read, kept in the amend form after a signing conflict, would change in the
version that now stands. A working-day audit: a doctor whose amendment lost to a colleague's
re-sent the kept form, and it withdrew the colleague's "Long QT" and QT of 420 ms unseen,
under a reason that named neither. The kept form now says what it would change and is signed
in its place only when the doctor ticks that they have read the version that stands."""

from __future__ import annotations

from ml import vocabulary
from portal.models import ReportVersion
from portal.review.forms import MEASUREMENTS
from portal.services.reports import PhysicianRead
from reports.next_steps import NEXT_STEPS

MEASUREMENT_WORDS = {
    "heart_rate_bpm": ("heart rate", "bpm"),
    "pr_ms": ("PR", "ms"),
    "qrs_ms": ("QRS", "ms"),
    "qt_ms": ("QT", "ms"),
    "qrs_axis_deg": ("QRS axis", "degrees"),
}


def differences(read: PhysicianRead, standing: ReportVersion) -> list[str]:
    """In words, what signing `read` would change in `standing`: statements withdrawn and
    added, measurements changed (as the form shows them, whole numbers), the rhythm line, the
    conclusion, the next steps and the words to the patient."""
    said = []
    now = set(standing.findings or [])
    mine = set(read.findings)
    if withdrawn := vocabulary.by_severity(sorted(now - mine)):
        said.append("it would withdraw " + ", ".join(_label(c) for c in withdrawn))
    if added := vocabulary.by_severity(sorted(mine - now)):
        said.append("it would add " + ", ".join(_label(c) for c in added))
    for name in MEASUREMENTS if read.measurements is not None else ():
        was, would = _shown(getattr(standing, name)), _shown((read.measurements or {}).get(name))
        if was != would:
            words, unit = MEASUREMENT_WORDS[name]
            said.append(f"{words} {was} -> {would}" + (f" {unit}" if would[0].isdigit() else ""))
    if (standing.rhythm_label or "").strip() != read.rhythm_label.strip():
        said.append(f'rhythm line "{standing.rhythm_label or ""}" -> "{read.rhythm_label}"')
    if (standing.conclusion or "").strip() != read.conclusion.strip():
        said.append("another conclusion")
    # What the patient is told and when they are seen: a kept read had dropped a colleague's
    # "Review today", referral and note to the patient without a word (a review of this).
    steps = {s.code: s.label for s in NEXT_STEPS.values()}
    now_steps, my_steps = set(standing.next_steps or []), set(read.next_steps)
    if withdrawn_steps := sorted(now_steps - my_steps):
        said.append(
            "it would withdraw next steps " + ", ".join(steps.get(c, c) for c in withdrawn_steps)
        )
    if added_steps := sorted(my_steps - now_steps):
        said.append("it would add next steps " + ", ".join(steps.get(c, c) for c in added_steps))
    if (standing.next_steps_note or "").strip() != read.next_steps_note.strip():
        said.append("another next step in words")
    if (standing.patient_comment or "").strip() != read.patient_comment.strip():
        said.append("another note to the patient")
    return said


def _label(code: str) -> str:
    return vocabulary.STATEMENTS[code].label


def _shown(value: float | None) -> str:
    """As the form shows a measurement: a whole number, or not measurable."""
    return "not measurable" if value is None else f"{value:.0f}"
