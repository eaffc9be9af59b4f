"""/admin/accounts (create, deactivate, reactivate, reset passwords) and /admin/audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.access import roles
from portal.admin.forms import ApiTokenForm, ConfirmForm, NewAccountForm, ResetPasswordForm
from portal.converters import date_arg
from portal.db import db_session
from portal.forms import save
from portal.local_time import hospital_zone
from portal.models import Account, ApiToken, Role, utcnow
from portal.services import accounts, api_tokens, audit, mfa
from portal.services.paging import COUNT_CAP, shown_count
from portal.services.validation import InvalidInput

bp = Blueprint("admin", __name__, url_prefix="/admin")
T = TypeVar("T")


def _account_or_404(account_id: int) -> Account:
    account = db_session().get(Account, account_id)
    if account is None:
        abort(404)
    return account


def _acting_admin() -> Account:
    """The administrator acting, still active as committed (`accounts.require_still_active`):
    an action by one deactivated while it was in flight saves nothing."""
    admin = current_user._get_current_object()
    accounts.require_still_active(db_session(), admin)
    return admin


def _checked_after(change: Callable[[], T]) -> Callable[[], T]:
    """`change` (it hashes a password), its administrator checked after it: the lock is not
    held through the hashing's quarter of a second (`_acting_admin`)."""

    def changed() -> T:
        result = change()
        _acting_admin()
        return result

    return changed


@bp.route("/accounts", endpoint="accounts")
@roles(Role.ADMIN)
def accounts_list() -> str:
    rows = db_session().scalars(select(Account).order_by(Account.role, Account.username))
    return render_template(
        "admin/accounts.html", accounts=list(rows), confirm=ConfirmForm(), now_utc=utcnow()
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new_account() -> str | Response:
    form = NewAccountForm()
    if form.validate_on_submit():
        saved, account = save(
            form,
            _checked_after(
                lambda: accounts.create_account(
                    db_session(),
                    role=Role(form.role.data),
                    username=form.username.data or "",
                    password=form.password.data or "",
                    full_name=form.full_name.data or "",
                    actor=current_user._get_current_object(),
                    email=form.email.data or None,
                    phone=form.phone.data or None,
                    job_title=form.job_title.data or None,
                    specialty=form.specialty.data or None,
                    registration_number=form.registration_number.data or None,
                )
            ),
        )
        if saved and account is not None:
            flash(
                f"Account {account.username} created. They must change the password at "
                "first login.",
                "success",
            )
            return redirect(url_for("admin.accounts"))
    return render_template("admin/new_account.html", form=form)


@bp.route("/accounts/<id:account_id>/deactivate", methods=["POST"])
@roles(Role.ADMIN)
def deactivate(account_id: int) -> Response:
    return _set_active(account_id, False)


@bp.route("/accounts/<id:account_id>/activate", methods=["POST"])
@roles(Role.ADMIN)
def activate(account_id: int) -> Response:
    return _set_active(account_id, True)


@bp.route("/tokens", methods=["GET", "POST"])
@roles(Role.ADMIN)
def tokens() -> str:
    """API tokens of machine clients: issue (shown once), list, revoke."""
    sql = db_session()
    form = ApiTokenForm()
    issued = None
    if form.validate_on_submit():
        username = accounts.normalise_username(form.username.data or "")
        account = sql.scalar(select(Account).where(Account.username == username))
        if account is None:
            form.username.errors = [f"No account {username!r}."]
        else:
            saved, issued = save(
                form,
                lambda: api_tokens.issue_unless_just_issued(
                    sql, account, client_name=form.client_name.data or "",
                    scopes=list(form.scopes.data or []), days=form.days.data or 0,
                    actor=_acting_admin(),
                ),
            )  # fmt: skip
    return render_template(
        "admin/tokens.html", form=form, issued=issued, tokens=api_tokens.tokens(sql),
        confirm=ConfirmForm(), now_utc=utcnow(),
    )  # fmt: skip


@bp.route("/tokens/<id:token_id>/revoke", methods=["POST"])
@roles(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sql = db_session()
    token = sql.get(ApiToken, token_id)
    if token is None:
        abort(404)
    api_tokens.revoke(sql, token, actor=_acting_admin())
    sql.commit()
    flash(f"The token of {token.client_name} is revoked.", "success")
    return redirect(url_for("admin.tokens"))


@bp.route("/accounts/<id:account_id>/unlock", methods=["POST"])
@roles(Role.ADMIN)
def unlock(account_id: int) -> Response:
    """End a lockout after failed logins now (the user called the help desk)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sql = db_session()
    account = _account_or_404(account_id)
    accounts.unlock(sql, account, actor=_acting_admin())
    sql.commit()
    flash(f"{account.username} is unlocked.", "success")
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts/<id:account_id>/reset-mfa", methods=["POST"])
@roles(Role.ADMIN)
def reset_mfa(account_id: int) -> Response:
    """A lost phone: remove the two-step login; the user enrols again at the next login."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sql = db_session()
    account = _account_or_404(account_id)
    if account.role is Role.PATIENT:
        return _patients_own_desk(account)
    accounts.lock_for_reset(sql, account)  # a password reset posted at once waits, or this does
    admin = _acting_admin()  # locked after the account, as a password reset does
    # As the accounts page offers it: not one's own (their own security page does it, with
    # their password and a code), nor one with nothing enrolled (a review: the posts did).
    if account.id == admin.id or account.totp_secret is None:
        flash(
            f"{account.username} has no two-step login to reset."
            if account.totp_secret is None
            else "Your own two-step login is changed on your security page.",
            "error",
        )
        return redirect(url_for("admin.accounts"))
    try:
        accounts.refuse_both_resets_pending(
            sql, account, actor=admin, resetting="two-step login", latest=True
        )
    except InvalidInput as refused:
        flash(refused.errors["account"], "error")
        return redirect(url_for("admin.accounts"))
    mfa.remove(sql, account, actor=admin)
    sql.commit()
    flash(f"Two-step login of {account.username} removed; {_enrol_again_where(account)}.",
          "success")  # fmt: skip
    return redirect(url_for("admin.accounts"))


def _enrol_again_where(account: Account) -> str:
    """Where the owner sets two-step login up again: a role that must have it is asked at
    login; staff are not, and had been told they would be (an access audit)."""
    if account.role in mfa.REQUIRED_ROLES:
        return "they enrol again at login"
    return "they may set it again from their account page (“Two-step login” in the menu)"


def _patients_own_desk(account: Account) -> Response:
    """A patient's login gets its password or two-step login reset by staff, in person, on
    the patient's page (`patients.new_portal_password`, audited with the patient): an
    administrator who set a patient's password could log in as them and read their results,
    and the patient's own access list showed the reads as theirs (a security audit)."""
    flash(
        f"{account.username} is a patient's login: staff give the patient a new temporary "
        "password in person on the patient's page (it removes their two-step login too). An "
        "administrator does not set patients' passwords.",
        "error",
    )
    return redirect(url_for("admin.accounts"))


def _set_active(account_id: int, active: bool) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sql = db_session()
    account = _account_or_404(account_id)
    try:
        accounts.set_active(sql, account, active, actor=current_user._get_current_object())
    except InvalidInput as problem:
        sql.rollback()
        flash(" ".join(problem.errors.values()), "error")
    else:
        sql.commit()
        flash(f"{account.username} is {'active' if active else 'deactivated'}.", "success")
        if not active and (left := accounts.patients_assigned_to(sql, account)):
            flash(
                f"{left} patient{'s' if left > 1 else ''} still assigned to "
                f"{account.username}: their new ECGs reach no doctor's worklist until someone "
                "assigns another doctor (Patients, Edit).",
                "error",
            )
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts/<id:account_id>/reset-password", methods=["GET", "POST"])
@roles(Role.ADMIN)
def reset_password(account_id: int) -> str | Response:
    account = _account_or_404(account_id)
    if account.role is Role.PATIENT:
        return _patients_own_desk(account)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        saved, _ = save(
            form,
            _checked_after(
                lambda: accounts.reset_password(
                    db_session(),
                    account,
                    new=form.password.data or "",
                    confirmation=form.confirm_password.data or "",
                    actor=current_user._get_current_object(),
                )
            ),
        )
        if saved:
            flash(
                f"Temporary password set for {account.username}; they must change it at "
                "next login.",
                "success",
            )
            return redirect(url_for("admin.accounts"))
    elif request.method == "GET":
        # Said before the two passwords are typed (a browser audit: only after).
        try:
            accounts.refuse_both_resets_pending(
                db_session(), account, actor=current_user._get_current_object(),
                resetting="password",
            )  # fmt: skip
        except InvalidInput as refused:
            form.form_errors.append(refused.errors["account"])
    return render_template("admin/reset_password.html", form=form, account=account)


def _date_arg(name: str) -> dt.date | None:
    return date_arg(name)  # a date past 1900..2100 is said on the page (it overflowed)


def _row_id_arg(name: str) -> int | None:
    """An audit row id from the pager's links; anything else reads as none."""
    value = request.args.get(name, type=int)
    return value if value is not None and -(2**63) <= value < 2**63 else None


@bp.route("/audit")
@roles(Role.ADMIN)
def audit_log() -> str:
    """Who saw or changed what: read only (no path updates or deletes audit rows)."""
    page = audit.search(
        db_session(),
        username=request.args.get("user", ""),
        action=request.args.get("action", ""),
        patient_mrn=request.args.get("mrn", ""),
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
        page=request.args.get("page", 1, type=int),
        zone=hospital_zone(),
        upto_id=_row_id_arg("upto_id"),
    )
    # The trail shows patients' details as changed (addresses, phones) and amendment reasons:
    # its own reads are audited, with the filters and the patients shown (a security audit
    # found an admin's search by MRN left no row).
    shown = sorted({e.patient_id for e in page.events if e.patient_id is not None})
    audit.record(
        db_session(), "audit.view", actor=current_user._get_current_object(),
        patient_id=shown[0] if len(shown) == 1 else None,
        details={"filters": {k: v[:64] for k, v in request.args.items()},
                 "patient_ids": shown[:200]},
    )  # fmt: skip
    db_session().commit()
    return render_template(
        "admin/audit.html", page=page, args=request.args, shown_count=shown_count,
        count_cap=COUNT_CAP,
    )  # fmt: skip
