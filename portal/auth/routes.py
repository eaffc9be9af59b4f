"""/login, /logout, /account/password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from portal.access import public, roles
from portal.auth.forms import ChangePasswordForm, LoginForm
from portal.db import db_session
from portal.forms import save
from portal.models import Role
from portal.services import accounts, audit

bp = Blueprint("auth", __name__)
ALL_ROLES = tuple(Role)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an attacker's link must not bounce a user to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        sql = db_session()
        account = accounts.authenticate(sql, form.username.data or "", form.password.data or "")
        sql.commit()
        if account is None:
            form.form_errors.append("Unknown username or wrong password.")
        else:
            session.clear()  # a new session at login: no fixation of a pre-login session
            login_user(account)
            session.permanent = True
            return redirect(_safe_next(form.next.data) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@roles(*ALL_ROLES)
def logout() -> Response:
    sql = db_session()
    audit.record(sql, "logout", actor=current_user._get_current_object())
    sql.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


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
            login_user(account)  # the epoch changed: re-issue this session, others are void
            flash("Your password is changed.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)
