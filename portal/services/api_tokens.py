"""API tokens for machine clients: an admin issues one to a named client (the EHR, the order
system) to act for one account, with scopes and an expiry; it can be revoked. The token is
shown once ("cp_" + 43 random characters); only its SHA-256 is stored, so a stolen database
gives no working token. A token's account keeps its role rules: a doctor's token sees that
doctor's patients, a patient's token only their own signed reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import lock_row
from portal.local_time import hospital_zone, shown
from portal.models import Account, ApiToken, utcnow
from portal.services import audit
from portal.services.validation import InvalidInput

PREFIX = "cp_"
SCOPES = {
    "patients:read": "read patients and their clinical inputs",
    "patients:write": "register and update patients, record clinical inputs",
    "recordings:write": "upload recordings (and follow their analysis jobs)",
    "reports:read": "read reports, their versions, risk scores and PDFs",
    "fhir:read": "read FHIR resources",
    "fhir:write": "create and update FHIR Patients",
    "fhir:export": "start FHIR bulk exports ($export) and download their files",
}
# What a token acting as a patient may do, in their words (their security page): a patient
# had read "an API token that reads and writes with your account's rights" and the codes
# "fhir:read, patients:read, reports:read" of a read-only token (a patient-experience audit,
# 2026-12-07).
SCOPES_FOR_A_PATIENT = {
    "patients:read": "read your details and measurements",
    "patients:write": "change your details and add measurements",
    "recordings:write": "add heart tracings (ECG)",
    "reports:read": "read your ECG reports and their PDFs",
    "fhir:read": "read your record through the data exchange",
    "fhir:write": "change your details through the data exchange",
    "fhir:export": "copy your record to another system (bulk export)",
}
WRITE_SCOPES = frozenset({"patients:write", "recordings:write", "fhir:write"})
MAX_DAYS = 366
# How long an administrator's token for a client and account refuses their next of the same.
AGAIN_WINDOW = dt.timedelta(seconds=10)


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    secret: str  # shown once, never stored


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue(
    session: Session,
    account: Account,
    *,
    client_name: str,
    scopes: list[str],
    days: int,
    actor: Account,
) -> Issued:
    """A new token for `client_name` acting as `account` (caller commits)."""
    errors = {}
    if not client_name.strip():
        errors["client_name"] = "Name the client system (e.g. 'EHR production')."
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        errors["scopes"] = f"Choose scopes from {', '.join(SCOPES)}."
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = f"A token lives 1 to {MAX_DAYS} days."
    if not account.is_active:
        errors["account"] = "The account is deactivated."
    if errors:
        raise InvalidInput(errors)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account.id,
        client_name=client_name.strip()[:120],
        token_sha256=_sha256(secret),
        scopes=sorted(set(scopes)),
        expires_at=utcnow() + dt.timedelta(days=days),
        created_by_id=actor.id,
    )
    session.add(token)
    session.flush()
    # On the patient's own record when the token acts as a patient: an administrator's token
    # for a patient's login read their results, and their access list said "you" (a review).
    audit.record(
        session, "api_token.issue", actor=actor, object_type="api_token", object_id=token.id,
        patient_id=account.patient.id if account.patient is not None else None,
        details={"client": token.client_name, "account": account.username, "scopes": token.scopes},
    )  # fmt: skip
    return Issued(token, secret)


def issue_unless_just_issued(
    session: Session,
    account: Account,
    *,
    client_name: str,
    scopes: list[str],
    days: int,
    actor: Account,
) -> Issued:
    """`issue`, from the administrators' form: a token of the same client, account and
    scopes issued by the same administrator within `AGAIN_WINDOW`, as committed, refuses
    this one (the account's row locked first, so the second waits for the first). Posted
    twice at once (a double click, two tabs), two live tokens had been issued and the
    browser showed one secret (an access audit)."""
    lock_row(session, "account", account.id, "failed_logins")
    if _issued_a_moment_ago(session, account, client_name.strip()[:120], scopes, actor):
        raise InvalidInput(
            {
                "client_name": f"A token for {client_name.strip()} acting as "
                f"{account.username} was issued a moment ago (if you clicked twice): copy "
                "its secret from the other window; if no window shows it, revoke it below "
                "and issue a new one."
            }
        )
    return issue(session, account, client_name=client_name, scopes=scopes, days=days, actor=actor)


def _issued_a_moment_ago(
    session: Session, account: Account, client_name: str, scopes: list[str], actor: Account
) -> bool:
    """Read on a connection of its own: what the first request committed. Other scopes are
    another token, meant (e.g. a client's read-only one beside its full one)."""
    twins = select(ApiToken.scopes).where(
        ApiToken.account_id == account.id,
        ApiToken.client_name == client_name,
        ApiToken.created_by_id == actor.id,
        ApiToken.revoked_at.is_(None),
        ApiToken.created_at >= utcnow() - AGAIN_WINDOW,
    )
    with session.get_bind().engine.connect() as connection:
        return sorted(set(scopes)) in connection.scalars(twins).all()


def revoke(session: Session, token: ApiToken, *, actor: Account) -> None:
    """Revoke the token (audited). On the patient's own record when it acted as a patient, as
    its issue is: their access list had not said that an app of theirs was cut off (an
    access audit, 2026-12-07)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        patient = token.account.patient
        audit.record(
            session, "api_token.revoke", actor=actor, object_type="api_token", object_id=token.id,
            patient_id=patient.id if patient is not None else None,
        )  # fmt: skip


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret (not expired, not revoked, its account active)."""
    token = _with_secret(session, secret)
    now = utcnow()
    if (
        token is None
        or token.revoked_at is not None
        or token.expires_at <= now
        or not token.account.is_active
    ):
        return None
    token.last_used_at = now
    return token


def refusal(session: Session, secret: str) -> str:
    """Why `authenticate` refused this secret, in an operator's words (RFC 6750's
    error_description): an integration engine had been told the same thing for an expired or
    revoked token as for a mistyped one (an integrator's audit). Said only to whoever holds
    the secret. An expiry is the hospital's time with its zone, as /admin/tokens lists it
    (tzdata's abbreviations are ASCII, as a header's error_description must be)."""
    token = _with_secret(session, secret)
    if token is None:
        return "The API token is not known to this portal (mistyped, or from another portal)."
    if token.revoked_at is not None:
        return "The API token was revoked: ask an administrator for a new one."
    if token.expires_at <= utcnow():
        when = shown(token.expires_at, hospital_zone())
        return f"The API token expired on {when}: ask an administrator for a new one."
    return "The API token's account is deactivated."


def _with_secret(session: Session, secret: str) -> ApiToken | None:
    """The stored token whose hash is this secret's, live or not (None for no such token)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    return session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _sha256(secret)))


def tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def acting_for(session: Session, account: Account) -> list[tuple[ApiToken, str]]:
    """The live tokens that act as `account`, each with who issued it: shown on the account's
    own security page, where its owner may revoke them. An admin could issue a token for a
    doctor's account, which read clinical data as that doctor, past their second factor, and
    nothing of the doctor's own said so (a security audit)."""
    now = utcnow()
    live = session.scalars(
        select(ApiToken)
        .where(
            ApiToken.account_id == account.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
        .order_by(ApiToken.id)
    )
    out = []
    for token in live:
        issuer = session.get(Account, token.created_by_id) if token.created_by_id else None
        out.append((token, issuer.display_name if issuer else "unknown"))
    return out


def in_a_patients_words(scopes: list[str]) -> str:
    """What a token with `scopes` may do, as its patient's security page says it ("read your
    ECG reports and their PDFs; read your details and measurements")."""
    return "; ".join(SCOPES_FOR_A_PATIENT.get(scope, scope) for scope in sorted(scopes))


def any_writes(tokens: list[tuple[ApiToken, str]]) -> bool:
    """Whether any of these tokens (`acting_for`) may change the record, not only read it."""
    return any(WRITE_SCOPES & set(token.scopes) for token, _ in tokens)
