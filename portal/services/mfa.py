"""TOTP multi-factor authentication (RFC 6238, pyotp): enrolment with a QR code, one-time
codes (a code is accepted once: its time step must be newer than the last one used),
recovery codes (10, shown once, stored as SHA-256 hashes, each usable once).

Required for admins and doctors (`MFA_REQUIRED_ROLES`); staff and patients may turn it on."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp
import segno
from sqlalchemy.orm import Session

from portal.access import MFA_REQUIRED_ROLES
from portal.models import Account, utcnow
from portal.services import audit
from portal.services.validation import InvalidInput

ISSUER = "CardioPortal"
RECOVERY_CODES = 10
STEP_S = 30
REQUIRED_ROLES = MFA_REQUIRED_ROLES


def is_enrolled(account: Account) -> bool:
    return account.totp_secret is not None


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: Account, institution: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=institution)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (no image request, no inline script)."""
    # Sized by the page (`.qr svg` in portal.css), not fixed: 285 px had stuck out of a
    # 320-px phone's card, cutting a finder square and the quiet zone a scanner needs.
    return str(segno.make(uri, error="m").svg_inline(scale=5, dark="#111", omitsize=True))


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _step_of(secret: str, code: str, now_s: float) -> int | None:
    """The time step (previous, current or next: clocks drift) whose code this is."""
    totp = pyotp.TOTP(secret)
    current = int(now_s // STEP_S)
    for step in (current - 1, current, current + 1):
        if secrets.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def _digits(code: str) -> str:
    """The code as typed without spaces and dashes; "" unless plain ASCII (Arabic-Indic
    digits pass str.isdigit but are no TOTP code, and compare_digest wants ASCII)."""
    typed = "".join(c for c in code if not c.isspace() and c != "-")
    return typed if typed.isascii() else ""


def _hash(code: str) -> str:
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def enrol(session: Session, account: Account, secret: str, code: str) -> list[str]:
    """Turn MFA on once the user proves their app shows the right code; returns the
    recovery codes to show once (caller commits)."""
    typed = _digits(code)
    step = _step_of(secret, typed, time.time()) if typed.isdigit() and len(typed) == 6 else None
    if step is None:
        raise InvalidInput(
            {"code": "That code does not match. Check the app's clock, then try again."}
        )
    account.totp_secret = secret
    account.totp_last_step = step
    account.mfa_enabled_at = utcnow()
    codes = _new_recovery_codes(account)
    account.session_epoch += 1  # other sessions of this account must log in with MFA
    audit.record(
        session, "account.mfa_enrol", actor=account, patient_id=audit.patient_of(account),
        object_type="account", object_id=account.id,
    )  # fmt: skip
    return codes


def _new_recovery_codes(account: Account) -> list[str]:
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    account.mfa_recovery_hashes = [_hash(c) for c in codes]
    return codes


def regenerate_recovery_codes(session: Session, account: Account) -> list[str]:
    codes = _new_recovery_codes(account)
    audit.record(
        session,
        "account.mfa_recovery_codes",
        actor=account,
        patient_id=audit.patient_of(account),
        object_type="account",
        object_id=account.id,
    )
    return codes


def verify(account: Account, code: str, now_s: float | None = None) -> str | None:
    """ "totp" or "recovery" when `code` proves the second factor (the code is then used up),
    else None. The caller records the outcome and commits."""
    assert account.totp_secret is not None
    typed = _digits(code)
    if typed.isdigit() and len(typed) == 6:
        step = _step_of(account.totp_secret, typed, time.time() if now_s is None else now_s)
        if step is not None and step > (account.totp_last_step or -1):
            account.totp_last_step = step
            return "totp"
        return None
    hashes = list(account.mfa_recovery_hashes or [])
    if typed and _hash(typed) in hashes:
        hashes.remove(_hash(typed))
        account.mfa_recovery_hashes = hashes
        return "recovery"
    return None


def remove(
    session: Session, account: Account, *, actor: Account | None, actor_username: str | None = None
) -> None:
    """Turn MFA off (an admin for a lost phone, the user for an optional role, or the server:
    `accounts.reset_login_on_the_server`, named by `actor_username`); the user must enrol again
    at the next login when their role requires it."""
    account.totp_secret = None
    account.totp_last_step = None
    account.mfa_recovery_hashes = None
    account.mfa_enabled_at = None
    account.session_epoch += 1
    audit.record(
        session, "account.mfa_remove", actor=actor, actor_username=actor_username,
        patient_id=audit.patient_of(account), object_type="account", object_id=account.id,
    )  # fmt: skip
