"""Accounts: creation, authentication, password changes, activation. Every change is audited."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.db import lock_row
from portal.models import (
    Account,
    ApiToken,
    AuditEvent,
    DoctorProfile,
    Patient,
    Role,
    StaffProfile,
    utcnow,
)  # fmt: skip
from portal.passwords import (
    generate_temporary_password,
    hash_password,
    password_problems,
    verify_password,
)  # fmt: skip
from portal.services import api_tokens, audit, mfa
from portal.services.errors import AccountDeactivated
from portal.services.validation import InvalidInput, WrongOwnPassword, text_problem

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# A patient's portal login: their MRN in lower case (`patients.create_portal_account`).
PATIENT_USERNAME = re.compile(r"cp\d{8}")
# Verifying against this when the username is unknown makes both answers take the same time.
_TIMING_DECOY_HASH = "$2b$12$4K0DtqgQklFKLHQ6fC.7x.vAHZ6g3ORMFpaEK3dg.coBEE86g4c8q"


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_new_password(
    password: str, confirmation: str, username: str, personal: tuple[str, ...] = ()
) -> None:
    problems = password_problems(password, username=username, personal=personal)
    if problems:
        raise InvalidInput({"password": " ".join(problems)})
    if password != confirmation:
        raise InvalidInput({"confirm_password": "The two passwords are not the same."})


FULL_NAME_CHARS = 120  # `StaffProfile.full_name`, `DoctorProfile.full_name`


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
    if role is not Role.PATIENT and PATIENT_USERNAME.fullmatch(username):
        # A patient's login is their MRN: a staff account named "cp27565837" left that
        # patient unable to get a login, and its audit rows read as theirs (a security audit).
        raise InvalidInput(
            {
                "username": f"{username!r} has the form of a patient's login (their MRN): choose "
                "another."
            }  # fmt: skip
        )
    if session.scalar(select(Account.id).where(Account.username == username)):
        raise InvalidInput({"username": f"The username {username!r} is already taken."})
    if problem := text_problem(full_name, name=True):
        raise InvalidInput({"full_name": problem})
    if len(full_name.strip()) > FULL_NAME_CHARS:  # `cardio create-user` had a 1406 traceback
        raise InvalidInput({"full_name": f"A name holds at most {FULL_NAME_CHARS} characters."})
    problems = password_problems(
        password, username=username, personal=(full_name, email or "", phone or "")
    )
    if problems:
        raise InvalidInput({"password": " ".join(problems)})
    if role == Role.DOCTOR and (holder := _registration_holder(session, registration_number)):
        raise InvalidInput(
            {
                "registration_number": f"The registration number {holder.registration_number} is "
                f"already {holder.full_name}'s (login {holder.account.username}): one doctor, "
                "one account. Check the number, or deactivate the other account first."
            }
        )
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
    try:
        session.flush()
    except IntegrityError:  # the same username, committed meanwhile (a double click)
        if not _username_taken_meanwhile(session, username):
            raise
        raise InvalidInput(
            {
                "username": f"The username {username!r} is already taken (created a moment "
                "ago, if you clicked twice)."
            }
        ) from None
    audit.record(
        session,
        "account.create",
        actor=actor,
        object_type="account",
        object_id=account.id,
        details={"role": role.value, "username": username},
    )
    return account


def _registration_holder(session: Session, number: str | None) -> DoctorProfile | None:
    """The active doctor already registered under `number` (any case): an admin could create
    a second "Dr. Dana Doctor" with GMC123, whom staff then assigned patients to by mistake."""
    if not number or not number.strip():
        return None
    return session.scalars(
        select(DoctorProfile)
        .join(Account, DoctorProfile.account_id == Account.id)
        .where(
            Account.is_active.is_(True),
            func.lower(func.trim(DoctorProfile.registration_number)) == number.strip().lower(),
        )
        .limit(1)
    ).first()


def _number_holder_besides(session: Session, profile: DoctorProfile | None) -> DoctorProfile | None:
    """Another active doctor holding `profile`'s registration number: reactivating a doctor
    whose number a newer account took would make two active doctors of it again."""
    if profile is None:
        return None
    holder = _registration_holder(session, profile.registration_number)
    return holder if holder is not None and holder.id != profile.id else None


def _username_taken_meanwhile(session: Session, username: str) -> bool:
    """Whether a committed account has `username`, read on a connection of its own (this
    session's flush failed). "Create account" posted twice at once had answered the second
    with a 500, the username's unique key refusing its insert (a bad-input audit)."""
    with session.get_bind().engine.connect() as connection:
        found = connection.scalar(select(Account.id).where(Account.username == username))
    return found is not None


class LoginRefused(Exception):
    """Why a login attempt was refused, in the words the login page shows."""


def authenticate(session: Session, username: str, password: str) -> Account:
    """The active, unlocked account with these credentials (the password step only: MFA
    follows for enrolled accounts). Raises LoginRefused; every attempt is audited (caller
    commits). After MAX_FAILED_LOGINS wrong passwords in a row the account is locked for
    LOCKOUT_MINUTES; an administrator can unlock it sooner."""
    username = normalise_username(username)
    account = session.scalar(select(Account).where(Account.username == username))
    now = utcnow()
    if account is not None and account.locked_until is not None and account.locked_until > now:
        verify_password(password, _TIMING_DECOY_HASH)  # as slow as any other answer
        _refuse(session, username, "locked")
        raise LoginRefused(locked_message(account, now))
    if account is None:
        verify_password(password, _TIMING_DECOY_HASH)
    ok = account is not None and verify_password(password, account.password_hash)
    if account is None or not ok or not account.is_active:
        if account is not None and not ok:
            record_failure(account, now)
        if account is None:
            _refuse_unknown(session)
        else:
            _refuse(session, username, "inactive" if ok else "bad credentials")
        if account is not None and account.locked_until is not None and account.locked_until > now:
            raise LoginRefused(locked_message(account, now))
        raise LoginRefused(BAD_CREDENTIALS)
    # The count of failures starts again only once the whole login succeeds (`logged_in`):
    # reset here, a right password between every four wrong codes had allowed unlimited
    # guesses at the second step (a security audit).
    return account


BAD_CREDENTIALS = "Unknown username or wrong password."
MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15


def record_failure(account: Account, now: dt.datetime) -> None:
    """One more failed password or code; the MAX_FAILED_LOGINS-th locks the account."""
    account.failed_logins = (account.failed_logins or 0) + 1
    if account.failed_logins >= MAX_FAILED_LOGINS:
        account.locked_until = now + dt.timedelta(minutes=LOCKOUT_MINUTES)
        account.failed_logins = 0


def locked_message(account: Account, now: dt.datetime) -> str:
    assert account.locked_until is not None
    minutes = max(1, -(-int((account.locked_until - now).total_seconds()) // 60))
    # A patient reaches no administrator: the clinic gives them a new temporary password, as
    # the login page says below it ("ask an administrator" had contradicted it; an audit).
    helper = (
        "call the clinic" if account.role is Role.PATIENT else "ask an administrator to unlock it"
    )
    # "1 more minute", "15 more minutes": "minute(s)" read as unfinished (an audit).
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"This account is locked for {minutes} more {unit} after {MAX_FAILED_LOGINS} "
        f"failed attempts. Try again later, or {helper}."
    )


def _refuse(session: Session, username: str, reason: str) -> None:
    audit.record(
        session, "login.failure", actor=None, actor_username=username[:64],
        details={"reason": reason},
    )  # fmt: skip


def _refuse_unknown(session: Session) -> None:
    """A username that is no account's is not written down: it is often the password typed
    into the wrong box, and the audit trail keeps what it holds for good (an access audit)."""
    audit.record(
        session, "login.failure", actor=None, actor_username=None,
        details={"reason": "unknown username"},
    )  # fmt: skip


def logged_in(session: Session, account: Account, *, second_factor: str | None) -> None:
    """Both factors (or the only one) passed: record it, and the failures count from 0
    again (caller commits)."""
    account.last_login_at = utcnow()
    account.failed_logins = 0
    account.failed_in_session = 0
    account.locked_until = None
    details = {"second_factor": second_factor} if second_factor else None
    audit.record(
        session, "login.success", actor=account, object_type="account", object_id=account.id,
        details=details,
    )  # fmt: skip


def unlock(session: Session, account: Account, *, actor: Account) -> None:
    account.locked_until = None
    account.failed_logins = 0
    audit.record(
        session, "account.unlock", actor=actor, patient_id=audit.patient_of(account),
        object_type="account", object_id=account.id,
    )  # fmt: skip


def check_own_password(
    account: Account,
    password: str,
    *,
    field: str,
    message: str,
    purpose: str,
    second_factor_follows: bool = False,
) -> None:
    """WrongOwnPassword (`message` beside `field`) unless `password` is the account's; the
    right one starts the in-session count again (the caller's action commits it), unless a
    code must follow (`second_factor_follows`: the caller resets it once both are right, or
    the right password between wrong codes would let the codes be guessed without end)."""
    if not verify_password(password or "", account.password_hash):
        raise WrongOwnPassword(field, message, account_id=account.id, purpose=purpose)
    if not second_factor_follows:
        account.failed_in_session = 0


def count_wrong_own_password(session: Session, problem: WrongOwnPassword) -> int:
    """Count and audit a wrong password typed in a session (caller commits). Returns how many
    more wrong ones this session may type before the account locks; 0: it just locked, and
    the session must end. Counted apart from the login page's failures: an outsider's four
    wrong logins and one signing typo had logged an on-call doctor out and locked them out
    (an audit), and a lock others keep up no longer ends a live session at its next typo."""
    account = session.get(Account, problem.account_id)
    if account is None:
        return MAX_FAILED_LOGINS
    now = utcnow()
    account.failed_in_session = (account.failed_in_session or 0) + 1
    audit.record(
        session, "password.failure", actor=account, object_type="account",
        object_id=account.id,
        details={"purpose": problem.purpose, "in_a_row": account.failed_in_session},
    )  # fmt: skip
    if account.failed_in_session < MAX_FAILED_LOGINS:
        return MAX_FAILED_LOGINS - account.failed_in_session
    account.failed_in_session = 0
    account.locked_until = now + dt.timedelta(minutes=LOCKOUT_MINUTES)
    return 0


def change_own_password(
    session: Session, account: Account, *, current: str, new: str, confirmation: str
) -> None:
    check_own_password(
        account, current, field="current_password",
        message="The current password is not correct.", purpose="change password",
    )  # fmt: skip
    check_new_password(new, confirmation, account.username, _personal(account))
    if verify_password(new, account.password_hash):
        raise InvalidInput({"password": "Choose a password different from the current one."})
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.session_epoch += 1
    audit.record(
        session,
        "account.password_change",
        actor=account,
        patient_id=audit.patient_of(account),
        object_type="account",
        object_id=account.id,
    )


def reset_password(
    session: Session, account: Account, *, new: str, confirmation: str, actor: Account
) -> None:
    """An administrator sets a temporary password; the user must change it at next login.
    Hashed first, then checked again on the locked row (`lock_for_reset`): the ~250 ms of
    bcrypt between the check and the commit let a two-step reset posted meanwhile be made
    too (an access audit)."""
    refuse_both_resets_pending(session, account, actor=actor, resetting="password")
    check_new_password(new, confirmation, account.username, _personal(account))
    password_hash = hash_password(new)
    lock_for_reset(session, account)
    refuse_both_resets_pending(session, account, actor=actor, resetting="password", latest=True)
    account.password_hash = password_hash
    account.must_change_password = True
    account.session_epoch += 1  # logs the user out everywhere
    audit.record(
        session, "account.password_reset", actor=actor, patient_id=audit.patient_of(account),
        object_type="account", object_id=account.id,
    )  # fmt: skip


def lock_for_reset(session: Session, account: Account) -> None:
    """Hold the account's row until this transaction ends and read it again as committed: a
    password reset and a two-step reset posted at once each read the other as not pending,
    and both were made (an access audit). The second now waits for the first and is refused."""
    lock_row(session, "account", account.id, "session_epoch")
    session.refresh(account, with_for_update=True)


def refuse_both_resets_pending(
    session: Session, account: Account, *, actor: Account, resetting: str, latest: bool = False
) -> None:
    """An administrator may not reset the password of an account whose two-step login an
    administrator has reset and its owner not set up again, nor the reverse: whoever set the
    temporary password of an account without a second factor could log in as its owner,
    enrol their own phone, and read and sign as them. A security audit found one administrator
    doing both; a browser audit, that a second one setting the password could still do it.
    Someone who lost both is reset from the server (`cardio reset-login`), in person.
    `resetting`: "password" or "two-step login". `latest`: after `lock_for_reset`, a locking
    read of the audit trail, which sees what was committed since this transaction's first read
    (MariaDB's repeatable read would not)."""
    if resetting == "password":
        other_pending = account.totp_secret is None  # not enrolled again since
        other_actions: tuple[str, ...] = ("account.mfa_remove",)
        other = "two-step login"
    else:
        other_pending = account.must_change_password  # not changed by its owner since
        other_actions = ("account.password_reset",)
        other = "password"
    if not other_pending:
        return
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.action.in_(other_actions),
            AuditEvent.object_type == "account",
            AuditEvent.object_id == account.id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    last = session.scalar(query.with_for_update(read=True) if latest else query)
    if last is None or last.actor_id == account.id:  # never reset, or by its owner
        return
    if resetting == "password" and _logged_in_without_it_since(session, account, last):
        return
    by = "you" if last.actor_id == actor.id else (last.actor_username or "the server")
    first = f"They set their {other} first"
    if resetting == "password" and account.role not in mfa.REQUIRED_ROLES:
        first = "They log in once first, or set their two-step login"
    raise InvalidInput(
        {"account": f"The {other} of {account.username} was reset by {by} on "
                    f"{last.occurred_at:%Y-%m-%d %H:%M} UTC and they have not set it again yet: "
                    f"its {resetting} is not reset meanwhile, so that no administrator can log "
                    f"in as them. {first}; if they have lost both, the IT "
                    f"team resets both on the server, in person (`cardio reset-login "
                    f"{account.username}`)."}
    )  # fmt: skip


def _logged_in_without_it_since(session: Session, account: Account, reset: AuditEvent) -> bool:
    """Whether the owner of an account whose role may do without two-step login logged in
    since `reset` removed it: they took their login back with their own password, and nothing
    asks them to enrol again, so its password may be reset again. It had stayed refused for
    good (an access audit: staff5's). A role that must enrol stays pending until it does."""
    if account.role in mfa.REQUIRED_ROLES:
        return False
    login = select(AuditEvent.id).where(
        AuditEvent.action == "login.success",
        AuditEvent.actor_id == account.id,
        AuditEvent.id > reset.id,
    )
    return session.scalar(login.limit(1)) is not None


def reset_login_on_the_server(session: Session, account: Account) -> str:
    """Both the password and the two-step login of a person who lost both (`cardio
    reset-login`, run by the IT team, who can read the database anyway): a temporary password
    to hand over in person, returned; the owner changes it and enrols again at the next login.
    Audited as the server's."""
    if account.role is Role.PATIENT:
        raise InvalidInput(
            {"account": f"{account.username} is a patient's login: staff give the patient a new "
                        "temporary password in person on the patient's page."}
        )  # fmt: skip
    server = "server (cardio reset-login)"
    temporary = generate_temporary_password()
    account.password_hash = hash_password(temporary)
    account.must_change_password = True
    account.failed_logins = 0
    account.locked_until = None
    audit.record(
        session, "account.password_reset", actor=None, actor_username=server,
        object_type="account", object_id=account.id,
    )  # fmt: skip
    mfa.remove(session, account, actor=None, actor_username=server)  # and ends their sessions
    return temporary


PERSONAL_FIELDS = ("full_name", "email", "phone", "address", "mrn", "emergency_contact_name",
                   "emergency_contact_phone")  # fmt: skip


def _personal(account: Account) -> tuple[str, ...]:
    """What a password must not be built from: the person's name, contact details, and for a
    patient their address, record number and date of birth as people write it (a patient's
    "10 Demo Street Springfield" and "14 March 1958 Springfield" were accepted; an audit)."""
    profile = account.staff_profile or account.doctor_profile or account.patient
    if profile is None:
        return ()
    said = [str(getattr(profile, name, None) or "") for name in PERSONAL_FIELDS]
    born = getattr(profile, "date_of_birth", None)
    if born is not None:
        said += [f"{born:%Y-%m-%d}", f"{born:%d/%m/%Y}", f"{born:%m/%d/%Y}", f"{born:%d%m%Y}",
                 f"{born:%-d %B %Y}", f"{born:%B %-d %Y}"]  # fmt: skip
    return tuple(text for text in said if text)


LAST_ADMIN = "the portal would have none. Create or reactivate another administrator first."


def set_active(session: Session, account: Account, active: bool, *, actor: Account) -> None:
    """Deactivating ends the account's sessions and revokes its API tokens: reactivating a
    person who left had brought their old tokens back to life (a records audit). A patient's
    login waits for the patient's record to be reactivated (by staff, on the patient's page)."""
    if not active:
        _lock_both(session, actor, account)
        require_still_active(session, actor)
        last = _last_active_admin(session, account)
        if account.id == actor.id:
            raise InvalidInput({"account": "You cannot deactivate your own account." + (
                " You are also the portal's last active administrator: " + LAST_ADMIN
                if last else "")})  # fmt: skip
        if last:
            raise InvalidInput({"account": f"{account.username} is the portal's last active "
                                f"administrator: {LAST_ADMIN}"})  # fmt: skip
    if active and account.patient is not None and not account.patient.is_active:
        raise InvalidInput(
            {"account": f"{account.username} is the portal login of a deactivated patient: "
                        "staff must reactivate the patient first."}
        )  # fmt: skip
    holder = _number_holder_besides(session, account.doctor_profile) if active else None
    if holder is not None:
        raise InvalidInput({"account": f"{account.username}'s registration number "
                            f"{holder.registration_number} is now {holder.full_name}'s (login "
                            f"{holder.account.username}): one doctor, one account. Deactivate "
                            "that account first, or correct the number."})  # fmt: skip
    if active:
        account.is_active = True
    else:
        end_access(session, account, actor=actor)
    # On the patient's own access list when it is their login, as a token issued for it is (the
    # row had named no patient, an access audit).
    audit.record(
        session,
        "account.activate" if active else "account.deactivate",
        actor=actor,
        patient_id=audit.patient_of(account),
        object_type="account",
        object_id=account.id,
    )


def require_still_active(session: Session, actor: Account) -> None:
    """The acting account, locked and read as committed: an administrator deactivated by a
    peer while their own request was in flight had still deactivated that peer, leaving no
    active administrator (an access audit). As signing does (`reports._still_active`)."""
    lock_row(session, "account", actor.id, "failed_logins")
    active = session.scalar(
        select(Account.is_active).where(Account.id == actor.id).with_for_update()
    )
    if not active:
        raise AccountDeactivated()


def _lock_both(session: Session, actor: Account, account: Account) -> None:
    """Both rows, lowest id first: two administrators deactivating each other at once then
    wait for one another instead of deadlocking."""
    for row_id in sorted({actor.id, account.id}):
        lock_row(session, "account", row_id, "failed_logins")


def _last_active_admin(session: Session, account: Account) -> bool:
    """Whether `account` is the only active administrator left (read as committed)."""
    if account.role is not Role.ADMIN or not account.is_active:
        return False
    others = select(Account.id).where(
        Account.role == Role.ADMIN, Account.is_active.is_(True), Account.id != account.id
    )
    return not session.scalars(others.with_for_update()).first()


def end_access(session: Session, account: Account, *, actor: Account) -> None:
    """Deactivate: end every session and revoke every live API token of the account."""
    account.is_active = False
    account.session_epoch += 1
    revoke_api_tokens(session, account, actor=actor)


def revoke_api_tokens(session: Session, account: Account, *, actor: Account) -> list[str]:
    """Revoke every API token acting as `account` not revoked yet (each audited); the client
    names of those still working (not expired), to tell the user which apps are cut off."""
    now = utcnow()
    unrevoked = select(ApiToken).where(
        ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None)
    )
    working = []
    for token in session.scalars(unrevoked.order_by(ApiToken.id)):
        if token.expires_at > now:
            working.append(token.client_name)
        api_tokens.revoke(session, token, actor=actor)
    return working


def load_session_account(session: Session, session_id: str) -> Account | None:
    """The account behind a Flask-Login id "<account id>.<epoch>", if still valid."""
    account_id, _, epoch = session_id.partition(".")
    if not (account_id.isdigit() and epoch.isdigit()):
        return None
    account = session.get(Account, int(account_id))
    if account is None or not account.is_active or account.session_epoch != int(epoch):
        return None
    return account


def patients_assigned_to(session: Session, account: Account) -> int:
    """How many active patients name this (doctor's) account as their doctor."""
    if account.doctor_profile is None:
        return 0
    return (
        session.scalar(
            select(func.count())
            .select_from(Patient)
            .where(Patient.assigned_doctor_id == account.doctor_profile.id, Patient.is_active)
        )
        or 0
    )


def doctor_choice_labels(doctors: list[DoctorProfile]) -> dict[int, str]:
    """Each doctor as a picker names them: a name two doctors share gets their registration
    number, or their login when the number does not tell them apart either ("Dr. Dana Doctor
    (GMC123)"); the list had shown "Dr. Dana Doctor" twice and staff assigned the wrong one."""
    names = Counter(_same_name(d.full_name) for d in doctors)
    numbers = Counter((d.registration_number or "").strip().lower() for d in doctors)
    labels: dict[int, str] = {}
    for doctor in doctors:
        number = (doctor.registration_number or "").strip()
        if names[_same_name(doctor.full_name)] == 1:
            labels[doctor.id] = doctor.full_name
        elif number and numbers[number.lower()] == 1:
            labels[doctor.id] = f"{doctor.full_name} ({number})"
        else:
            labels[doctor.id] = f"{doctor.full_name} (login {doctor.account.username})"
    return labels


def _same_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def active_doctors(session: Session) -> list[DoctorProfile]:
    return list(
        session.scalars(
            select(DoctorProfile)
            .join(Account, DoctorProfile.account_id == Account.id)
            .where(Account.is_active.is_(True))
            .order_by(DoctorProfile.full_name)
        )
    )
