"""The audit trail in a patient's words, for "Who has looked at my record" (/my/access).

The page had shown the trail's codes ("report view", "job view", "patient risk view") and
usernames ("demo-doctor", "analysis worker"), and cut the list at 200 rows without saying so
(a clinician-eye audit of the patient portal)."""

from __future__ import annotations

from portal.models import AuditEvent

ACTIONS = {
    "patient.create": "registered you as a patient",
    "patient.view": "opened your record",
    "patient.edit_form": "opened your details to change them",
    "patient.update": "changed your details",
    "patient.list": "saw your name in the list of patients",
    "patient.search": "found your record in a search",
    "patient.deactivate": "closed your record",
    "patient.reactivate": "reopened your record",
    "patient.portal_account_create": "set up your login to this portal",
    "patient.portal_password_reset": "gave you a new temporary password for this portal",
    "patient.risk_view": "looked at your risk of heart disease",
    "clinical_input.create": "recorded your measurements (such as blood pressure)",
    "clinical_input.list": "looked at your measurements",
    "recording.upload": "added a heart tracing (ECG)",
    "recording.duplicate_upload": "added the same heart tracing (ECG) again",
    "recording.read_again": "had the computer read a heart tracing (ECG) again, with the "
    "setting it was first read with corrected",
    "report.entered_in_error": "withdrew a result filed under your name by mistake",
    "recording.move_out": "moved a heart tracing (ECG) added to your record by mistake to "
    "the right patient's record",
    "recording.move_in": "moved a heart tracing (ECG) of yours, added to another record by "
    "mistake, to your record",
    "job.view": "checked how the computer's reading of an ECG was going",
    "job.retry": "restarted the computer's reading of an ECG",
    "report.create": "the computer read an ECG",
    "report.view": "opened an ECG report",
    "report.waveform": "looked at an ECG tracing",
    "report.list": "listed your ECG reports",
    "report.sign": "checked and signed an ECG report",
    "report.amend": "corrected a signed ECG report",
    "report.release": "made an ECG report available to you after talking it over",
    "report.download": "downloaded an ECG report",
    "worklist.view": "saw your ECG on their list of reports to check",
    "myhealth.reports": "opened your reports",
    "audit.view": "looked at the list of who has seen or changed your record",
    "api_token.issue": "gave an app access to your record, acting as you",
    "api_token.revoke": "cut off an app's access to your record (it had acted as you)",
    "fhir.export.patient": "copied your record to another system (bulk export)",
    "fhir.export.download": "downloaded a file of a bulk export that copied your record",
    "fhir.export.download.patient": "downloaded a file of a bulk export that copied your record",
    "account.deactivate": "turned off your login to this portal",
    "account.activate": "turned your login to this portal back on",
    "account.unlock": "unlocked your login to this portal (locked after wrong passwords)",
    "account.password_reset": "gave you a new temporary password for this portal",
    "account.password_change": "changed the password of your login to this portal",
    "account.mfa_enrol": "set up two-step login for your login to this portal",
    "account.mfa_recovery_codes": "made new recovery codes for your two-step login",
    "account.mfa_remove": "turned off two-step login for your login to this portal",
    "document.reissued": "made an ECG report's PDF again (the stored copy could not be used)",
    # Through FHIR, read and changed said apart (every one had read "read or updated").
    "fhir.patient.read": "read your details",
    "fhir.patient.search": "found your record in a search",
    "fhir.patient.everything": "read your whole record (details, ECG reports, measurements)",
    "fhir.patient.create": "registered you as a patient",
    "fhir.patient.update": "sent your details, which were already up to date (nothing changed)",
    "fhir.report.read": "read an ECG report",
    "fhir.report.search": "found your ECG reports in a search",
    "fhir.observation.read": "read a measurement of an ECG report",
    "fhir.observation.search": "found measurements of your ECG reports in a search",
    "fhir.waveform.read": "read an ECG tracing",
    # A list or search that showed several patients: one row for each (an access audit).
    "fhir.report.search.patient": "listed your ECG reports in a search",
    "fhir.observation.search.patient": "listed measurements of your ECG reports in a search",
    "fhir.patient.search.patient": "found your record in a search",
    "report.list.patient": "listed your ECG reports",
    "patient.list.patient": "saw your name in the list of patients",
    "patient.search.patient": "found your record in a search",
}
# Other hospital systems reach the record through the data exchange (FHIR, the REST API).
EXCHANGE = "another hospital system, through the data exchange, read or updated your record"
ROLES = {"doctor": "doctor", "staff": "hospital staff", "admin": "administrator"}
SYSTEM_ACTOR = "the computer (automatic ECG reading)"
# Rows with no person behind them, by the name they are written under: a PDF issued again by
# the portal ("system") had read "hospital staff" (an access audit).
SYSTEM_ACTORS = {None: SYSTEM_ACTOR, "analysis worker": SYSTEM_ACTOR, "system": "the portal"}
VAGUE = "looked at or changed your record"  # only for an action with no words of its own


# Through the patient's own API token: an app of theirs, not another hospital system.
OWN_APP = "read your record through an app you connected to this portal"
DETAIL_WORDS = {
    "full_name": "name",
    "date_of_birth": "date of birth",
    "sex": "sex",
    "address": "address",
    "email": "e-mail",
    "phone": "phone",
    "emergency_contact_name": "emergency contact",
    "emergency_contact_phone": "emergency contact's phone",
    "assigned_doctor_id": "doctor",
    "active": "whether your record is open",
}


def what(event: AuditEvent) -> str:
    """What was done, in plain words (which details changed, by name)."""
    changes_details = event.action in ("patient.update", "fhir.patient.update")
    if changes_details and (fields := (event.details or {}).get("fields")):
        named = dict.fromkeys(DETAIL_WORDS.get(f, "other details") for f in fields)
        return f"{ACTIONS['patient.update']}: {', '.join(named)}"
    if event.action == "report.entered_in_error" and (event.details or {}).get("kind") == (
        "misread"
    ):
        return "withdrew a result read with a wrong setting"
    if event.action == "fhir.export.patient" and (client := (event.details or {}).get("client")):
        return f'copied your record to another system, "{client}" (bulk export)'
    if event.action == "document.reissued" and (reason := (event.details or {}).get("reason")):
        return f"made an ECG report's PDF again (the stored copy was {reason})"
    if event.action in ACTIONS:
        return ACTIONS[event.action]
    if event.action.startswith(("fhir.", "api.")):
        return OWN_APP if event.actor_role == "patient" else EXCHANGE
    return VAGUE


def who(event: AuditEvent, names: dict[str, str]) -> str:
    """Who did it: their name (`names`, by username) and role, "you", the computer or the
    portal (`SYSTEM_ACTORS`); through an API token, the client acting for them."""
    if event.actor_role == "patient":
        client = (event.details or {}).get("client")
        # Through a token acting as them: the app, not "you" (an administrator's token for a
        # patient's login had read their results as "you").
        return f'an app acting as you ("{client}")' if client else "you"
    if event.actor_role is None and event.actor_username in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[event.actor_username]
    person = _person(event, names)
    # A client's reads and changes, through the token (not a token's issue, which names its
    # client too), are the system's, for the person whose token it holds: they had read as the
    # person's own, "Sam Staff (hospital staff) opened an ECG report".
    client = _client_through_a_token(event)
    return f'"{client}", a system acting for {person}' if client else person


def _client_through_a_token(event: AuditEvent) -> str | None:
    """The client named by a row of a request made with its API token (REST's `api_token_id`,
    FHIR's and the services' `token_id`), else None."""
    details = event.details or {}
    through = details.get("token_id") is not None or details.get("api_token_id") is not None
    return details.get("client") if through else None


def _person(event: AuditEvent, names: dict[str, str]) -> str:
    if event.actor_username in names:
        role = ROLES.get(event.actor_role or "", "")
        return f"{names[event.actor_username]} ({role})" if role else names[event.actor_username]
    return "hospital staff"
