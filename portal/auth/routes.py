"""/login (password), /login/verify (second factor), /logout, /account/password,
/account/security (MFA enrolment, recovery codes)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from portal.access import AUTHENTICATED_AT, public, roles
from portal.auth.forms import (
    ChangePasswordForm,
    EnrolForm,
    LoginForm,
    PasswordConfirmForm,
    SecondFactorForm,
)
from portal.db import db_session
from portal.forms import count_wrong_password, save, show_errors
from portal.models import Account, ApiToken, Role, utcnow
from portal.patients.forms import ConfirmForm
from portal.services import accounts, api_tokens, audit, mfa
from portal.services.validation import WrongOwnPassword

bp = Blueprint("auth", __name__)
ALL_ROLES = tuple(Role)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an attacker's link must not bounce a user to another site."""
    if not target or any(ord(c) < 32 or c in "\\\x7f" for c in target):
        return None  # CR/LF would split the Location header; a backslash is read as "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response:
    """Step 1: username and password. Enrolled accounts go on to /login/verify."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        sql = db_session()
        try:
            account = accounts.authenticate(sql, form.username.data or "", form.password.data or "")
        except accounts.LoginRefused as refused:
            sql.commit()  # the failure, its count and any lock are kept
            form.form_errors.append(str(refused))
            return render_template("auth/login.html", form=form)
        target = _safe_next(form.next.data)
        if mfa.is_enrolled(account):
            sql.commit()
            session.clear()
            session[PENDING] = {"id": account.get_id(), "at": time.time(), "next": target}
            return redirect(url_for("auth.verify"))
        accounts.logged_in(sql, account, second_factor=None)
        sql.commit()
        _start_session(account)
        return redirect(target or url_for("main.index"))
    return render_template("auth/login.html", form=form)


PENDING = "mfa_pending"  # the account that passed its password, waiting for its code
PENDING_MAX_S = 300


@bp.route("/login/verify", methods=["GET", "POST"])
@public
def verify() -> str | Response:
    """Step 2 for enrolled accounts: a code from the authenticator app or a recovery code."""
    pending: dict[str, Any] = session.get(PENDING) or {}
    sql = db_session()
    account = accounts.load_session_account(sql, str(pending.get("id", "")))
    if account is None or time.time() - float(pending.get("at", 0)) > PENDING_MAX_S:
        session.pop(PENDING, None)
        flash("Please log in again.", "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        now = utcnow()
        if account.locked_until is not None and account.locked_until > now:
            form.form_errors.append(accounts.locked_message(account, now))
        elif (kind := mfa.verify(account, form.code.data or "")) is not None:
            accounts.logged_in(sql, account, second_factor=kind)
            sql.commit()
            target = pending.get("next")
            _start_session(account)
            if kind == "recovery":
                flash(
                    f"You used a recovery code; {len(account.mfa_recovery_hashes or [])} left. "
                    "Make new ones on your security page if you are running out.",
                    "info",
                )
            return redirect(target or url_for("main.index"))
        else:
            accounts.record_failure(account, now)
            audit.record(
                sql, "login.failure", actor=None, actor_username=account.username,
                details={"reason": "bad second factor"},
            )  # fmt: skip
            form.form_errors.append("That code is not right, or was already used.")
        sql.commit()
    return render_template("auth/verify.html", form=form)


def _wrong_factor(
    account: Account, confirm: PasswordConfirmForm, action: str
) -> WrongOwnPassword | None:
    """Why the password and code typed to confirm `action` do not prove both factors."""
    purpose = f"two-step login: {action}"
    try:
        accounts.check_own_password(
            account, confirm.password.data or "", field="password",
            message="That is not your password.", purpose=purpose, second_factor_follows=True,
        )  # fmt: skip
    except WrongOwnPassword as wrong:
        return wrong
    if mfa.verify(account, confirm.code.data or "") is None:
        return WrongOwnPassword(
            "code", "That code is not right, or was already used.",
            account_id=account.id, purpose=purpose,
        )  # fmt: skip
    account.failed_in_session = 0  # both factors right (the action commits it)
    return None


def _start_session(account: Account) -> None:
    """A new session (nothing kept from before the login: no fixation), with the time of the
    login for the absolute lifetime (portal/access.py)."""
    session.clear()
    login_user(account)
    session.permanent = True
    session[AUTHENTICATED_AT] = time.time()


@bp.route("/logout", methods=["POST"])
@roles(*ALL_ROLES)
def logout() -> Response:
    sql = db_session()
    account = current_user._get_current_object()
    account.session_epoch += 1  # the cookie is dead even if someone kept a copy
    audit.record(sql, "logout", actor=account)
    sql.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/keep-alive", methods=["POST"])
@roles(*ALL_ROLES)
def keep_alive() -> tuple[str, int]:
    """ "Stay logged in" on the time-out warning (`static/js/session_timeout.js`): a request of
    the user's own, so the idle timeout starts again (WCAG 2.2.1: typing is no request, and a
    doctor slow over a read had lost it at the time-out, unwarned; an accessibility audit)."""
    return "", 204


@bp.route("/account/password", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        account = current_user._get_current_object()
        saved, _ = save(
            form,
            lambda: accounts.change_own_password(
                db_session(),
                account,
                current=form.current_password.data or "",
                new=form.password.data or "",
                confirmation=form.confirm_password.data or "",
            ),
        )
        if saved:
            _start_session(account)  # the epoch changed: a new session; others are void
            flash("Your password is changed.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)


ENROL_SECRET = "mfa_enrol_secret"  # the secret shown while enrolling, until confirmed


@bp.route("/account/security", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def security() -> str | Response:
    """Two-step login: enrol (QR code, then a code to confirm), see how many recovery codes
    are left, make new ones, or turn it off where the role does not require it."""
    account: Account = current_user._get_current_object()
    sql = db_session()
    form, confirm = EnrolForm(), PasswordConfirmForm(prefix="confirm")
    codes: list[str] = []
    action = request.form.get("action")
    if not mfa.is_enrolled(account):
        secret = session.get(ENROL_SECRET) or mfa.new_secret()
        session[ENROL_SECRET] = secret
        if action == "enrol" and form.validate_on_submit():
            saved, shown = save(form, lambda: mfa.enrol(sql, account, secret, form.code.data or ""))
            if saved and shown:
                session.pop(ENROL_SECRET, None)
                _start_session(account)  # the epoch changed: this session stays, others end
                codes = shown
    elif action in ("recovery", "remove") and confirm.validate_on_submit():
        if wrong := _wrong_factor(account, confirm, action):
            count_wrong_password(wrong)  # counted toward the lock, audited; may log out
            show_errors(confirm, wrong)
        elif action == "recovery":
            codes = mfa.regenerate_recovery_codes(sql, account)
            sql.commit()
        elif account.role in mfa.REQUIRED_ROLES:
            confirm.password.errors = ["Your role requires two-step login; it stays on."]
        else:
            mfa.remove(sql, account, actor=account)
            sql.commit()
            _start_session(account)
            flash("Two-step login is off.", "info")
            return redirect(url_for("auth.security"))
    secret = session.get(ENROL_SECRET)
    uri = (
        mfa.provisioning_uri(secret, account, current_app.config["SETTINGS"].institution_name)
        if secret
        else ""
    )
    tokens = api_tokens.acting_for(sql, account)
    return render_template(
        "auth/security.html",
        account=account,
        tokens=tokens,
        # A patient reads of their tokens in their words, as on their other pages.
        for_a_patient=account.role is Role.PATIENT,
        tokens_write=api_tokens.any_writes(tokens),
        scopes_in_words=api_tokens.in_a_patients_words,
        clinic_contact=current_app.config["SETTINGS"].clinic_contact,
        revoke_form=ConfirmForm(formdata=None),
        form=form,
        confirm=confirm,
        codes=codes,
        enrolled=mfa.is_enrolled(account),
        required=account.role in mfa.REQUIRED_ROLES,
        secret=mfa.grouped(secret) if secret else "",
        qr_svg=mfa.qr_svg(uri) if uri else "",
        recovery_left=len(account.mfa_recovery_hashes or []),
    )


@bp.route("/account/tokens/<id:token_id>/revoke", methods=["POST"])
@roles(*ALL_ROLES)
def revoke_own_token(token_id: int) -> Response:
    """The owner of an account revokes a machine client's token that acts as them."""
    sql = db_session()
    account: Account = current_user._get_current_object()
    token = sql.get(ApiToken, token_id)
    if token is None or token.account_id != account.id or not ConfirmForm().validate_on_submit():
        abort(404)
    api_tokens.revoke(sql, token, actor=account)
    sql.commit()
    flash(f"The token of {token.client_name} is revoked: it no longer acts as you.", "success")
    return redirect(url_for("auth.security"))
