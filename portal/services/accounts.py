"""Accounts: creation, authentication, password changes, activation. Every change is audited."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Account, DoctorProfile, Role, StaffProfile, utcnow
from portal.passwords import hash_password, password_problems, verify_password
from portal.services import audit
from portal.services.validation import InvalidInput

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# Verifying against this when the username is unknown makes both answers take the same time.
_TIMING_DECOY_HASH = "$2b$12$4K0DtqgQklFKLHQ6fC.7x.vAHZ6g3ORMFpaEK3dg.coBEE86g4c8q"


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_new_password(password: str, confirmation: str, username: str) -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise InvalidInput({"password": " ".join(problems)})
    if password != confirmation:
        raise InvalidInput({"confirm_password": "The two passwords are not the same."})


def create_account(
    session: Session,
    *,
    role: Role,
    username: str,
    password: str,
    full_name: str,
    actor: Account | None,
    must_change_password: bool = True,
    email: str | None = None,
    phone: str | None = None,
    job_title: str | None = None,
    specialty: str | None = None,
    registration_number: str | None = None,
) -> Account:
    """A new login with its staff or doctor profile (caller commits)."""
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput({"username": "Use 3-64 lower-case letters, digits, '.', '_' or '-'."})
    if session.scalar(select(Account.id).where(Account.username == username)):
        raise InvalidInput({"username": f"The username {username!r} is already taken."})
    problems = password_problems(password, username=username)
    if problems:
        raise InvalidInput({"password": " ".join(problems)})
    account = Account(
        username=username,
        password_hash=hash_password(password),
        role=role,
        must_change_password=must_change_password,
        created_by_id=actor.id if actor else None,
    )
    session.add(account)
    if role in (Role.STAFF, Role.ADMIN):
        account.staff_profile = StaffProfile(
            full_name=full_name, job_title=job_title, email=email, phone=phone
        )
    elif role == Role.DOCTOR:
        account.doctor_profile = DoctorProfile(
            full_name=full_name,
            specialty=specialty,
            registration_number=registration_number,
            email=email,
            phone=phone,
        )
    session.flush()
    audit.record(
        session,
        "account.create",
        actor=actor,
        object_type="account",
        object_id=account.id,
        details={"role": role.value, "username": username},
    )
    return account


def authenticate(session: Session, username: str, password: str) -> Account | None:
    """The active account with these credentials, or None; the attempt is audited either way."""
    username = normalise_username(username)
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        verify_password(password, _TIMING_DECOY_HASH)
        ok = False
    else:
        ok = verify_password(password, account.password_hash) and account.is_active
    if not ok:
        audit.record(
            session,
            "login.failure",
            actor=None,
            actor_username=username[:64],
            details={
                "reason": "inactive"
                if account and account.is_active is False
                else "bad credentials"
            },
        )
        return None
    assert account is not None
    account.last_login_at = utcnow()
    audit.record(
        session, "login.success", actor=account, object_type="account", object_id=account.id
    )
    return account


def change_own_password(
    session: Session, account: Account, *, current: str, new: str, confirmation: str
) -> None:
    if not verify_password(current, account.password_hash):
        raise InvalidInput({"current_password": "The current password is not correct."})
    check_new_password(new, confirmation, account.username)
    if verify_password(new, account.password_hash):
        raise InvalidInput({"password": "Choose a password different from the current one."})
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.session_epoch += 1
    audit.record(
        session,
        "account.password_change",
        actor=account,
        object_type="account",
        object_id=account.id,
    )


def reset_password(
    session: Session, account: Account, *, new: str, confirmation: str, actor: Account
) -> None:
    """An administrator sets a temporary password; the user must change it at next login."""
    check_new_password(new, confirmation, account.username)
    account.password_hash = hash_password(new)
    account.must_change_password = True
    account.session_epoch += 1  # logs the user out everywhere
    audit.record(
        session, "account.password_reset", actor=actor, object_type="account", object_id=account.id
    )


def set_active(session: Session, account: Account, active: bool, *, actor: Account) -> None:
    if account.id == actor.id and not active:
        raise InvalidInput({"account": "You cannot deactivate your own account."})
    account.is_active = active
    if not active:
        account.session_epoch += 1
    audit.record(
        session,
        "account.activate" if active else "account.deactivate",
        actor=actor,
        object_type="account",
        object_id=account.id,
    )


def load_session_account(session: Session, session_id: str) -> Account | None:
    """The account behind a Flask-Login id "<account id>.<epoch>", if still valid."""
    account_id, _, epoch = session_id.partition(".")
    if not (account_id.isdigit() and epoch.isdigit()):
        return None
    account = session.get(Account, int(account_id))
    if account is None or not account.is_active or account.session_epoch != int(epoch):
        return None
    return account


def active_doctors(session: Session) -> list[DoctorProfile]:
    return list(
        session.scalars(
            select(DoctorProfile)
            .join(Account, DoctorProfile.account_id == Account.id)
            .where(Account.is_active.is_(True))
            .order_by(DoctorProfile.full_name)
        )
    )
