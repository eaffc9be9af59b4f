"""Every action the portal audits on a patient's record reads in plain words on the patient's
"who has looked at my record" page (`portal.access_words`). An audit: a staff member's new
temporary password and a doctor's release of a held report read "looked at or changed your
record"."""

from __future__ import annotations

import re
from pathlib import Path

from portal.access_words import ACTIONS

PORTAL = Path(__file__).resolve().parents[1] / "portal"
# Actions on patients' records written as a literal beside `patient_id=` in an audit call.
AUDITED = re.compile(r'"((?:patient|report|recording|clinical_input|job)\.[a-z_]+)"')


def test_every_audited_action_on_a_record_has_plain_words() -> None:
    actions = {
        action
        for path in PORTAL.rglob("*.py")
        for action in AUDITED.findall(path.read_text(encoding="utf-8"))
        if not action.endswith((".id", "_id"))
    }
    assert {"report.release", "patient.portal_password_reset"} <= actions
    missing = sorted(actions - set(ACTIONS))
    assert missing == [], f"no plain words for {missing} in portal/access_words.py"
