"""Who may reach which endpoint.

Every view declares its audience with `@public` or `@roles(...)`; one `before_request` guard
enforces it. A view that declares nothing is refused (fail closed), and a test walks
`app.url_map` to prove every endpoint is declared and enforced.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user

from portal.models import Role

MFA_REQUIRED_ROLES = frozenset({Role.ADMIN, Role.DOCTOR})

View = TypeVar("View", bound=Callable[..., Any])
PUBLIC = "public"
# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "static"})
# ... and one whose role requires two-step login but who has not enrolled yet.
MFA_ENROL_ENDPOINTS = frozenset({"auth.security", "auth.logout", "static"})
AUTHENTICATED_AT = "authenticated_at"  # session key: when the user logged in (epoch s)


def public(view: View) -> View:
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def roles(*allowed: Role) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        view.access = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return decorate


def endpoint_access(app: Flask, endpoint: str) -> str | frozenset[Role] | None:
    """PUBLIC, the set of allowed roles, or None when the view declared nothing."""
    if endpoint == "static":
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, "access", None)


API_PREFIXES = ("/api/", "/fhir/")


def scopes(*needed: str) -> Callable[[View], View]:
    """The API token scopes a machine endpoint needs (see services/api_tokens.SCOPES), on
    top of its `@roles`: a token acts for an account and never beyond its role."""

    def decorate(view: View) -> View:
        view.api_scopes = frozenset(needed)  # type: ignore[attr-defined]
        return view

    return decorate


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIXES)


def _wants_json() -> bool:
    return is_api_request() or request.accept_mimetypes.best == "application/json"


def _api_error(status: int, message: str) -> Any:
    from portal.errors import error_response  # the API's JSON shape, or FHIR's OperationOutcome

    return error_response(status, message)


def _guard_api(access: frozenset[Role] | None) -> Any:
    """Machines authenticate with `Authorization: Bearer <token>` only (never the browser's
    session cookie, so a page cannot be made to call the API for its user)."""
    from portal.db import db_session
    from portal.services import api_tokens, audit

    header = request.headers.get("Authorization", "")
    kind, _, secret = header.partition(" ")
    # The scheme is case-insensitive (RFC 9110 11.1): integration engines send "bearer".
    bearer = kind.lower() == "bearer"
    token = api_tokens.authenticate(db_session(), secret.strip()) if bearer else None
    if token is None:
        if not bearer or not secret.strip():  # no credentials: RFC 6750 3.1, no error code
            response, status = _api_error(401, "A valid API token is required (Bearer).")
            response.headers["WWW-Authenticate"] = 'Bearer realm="CardioPortal"'
            return response, status
        why = api_tokens.refusal(db_session(), secret.strip())
        response, status = _api_error(401, why)
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="CardioPortal", error="invalid_token", error_description="{why}"'
        )
        return response, status
    g._login_user = token.account  # Flask-Login's current user for this request only
    g.api_token = token
    view = current_app.view_functions[request.endpoint or ""]
    needed: frozenset[str] = getattr(view, "api_scopes", frozenset())
    if access is None or token.account.role not in access or not needed <= set(token.scopes):
        audit.refused_access(db_session(), token.account, 403)
        missing = ", ".join(sorted(needed - set(token.scopes)))
        why = f"This token lacks the scope {missing}." if missing else "Not for this role."
        return _api_error(403, why)
    return None


def _guard() -> Any:
    if request.endpoint is None:  # no such URL: let Flask answer 404 / 405
        return None
    access = endpoint_access(current_app, request.endpoint)
    if access == PUBLIC:
        return None
    if is_api_request():
        return _guard_api(access if isinstance(access, frozenset) else None)
    if not current_user.is_authenticated:
        if _wants_json():
            return jsonify(error="Please log in."), 401
        if request.endpoint == "auth.logout":  # logged out already: nothing was lost
            return redirect(url_for("auth.login"))
        if request.method not in ("GET", "HEAD"):
            flash(SENT_AFTER_SESSION_ENDED, "error")
            return redirect(url_for("auth.login", next=_page_sent_from()))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if _beyond_absolute_lifetime():
        sent = request.method not in ("GET", "HEAD") and request.endpoint != "auth.logout"
        back_to = _page_sent_from() if sent else None
        logout_user()
        session.clear()
        flash("Your session reached its time limit; please log in again.", "info")
        if sent:
            flash(SENT_AFTER_SESSION_ENDED, "error")
        return redirect(url_for("auth.login", next=back_to))
    if current_user.must_change_password:
        # The password first, then two-step enrolment: a new doctor or admin (or one whose
        # password an admin reset before enrolment) had been sent from each page to the other.
        if request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
            return redirect(url_for("auth.change_password"))
    elif (
        current_user.role in MFA_REQUIRED_ROLES
        and current_user.totp_secret is None
        and request.endpoint not in MFA_ENROL_ENDPOINTS
    ):
        flash("Your role requires two-step login: set it up to continue.", "info")
        return redirect(url_for("auth.security"))
    if access is None or current_user.role not in access:
        from portal.db import db_session
        from portal.services import audit

        audit.refused_access(db_session(), current_user._get_current_object(), 403)
        abort(403)
    return None


# A form sent after the session ended (idle too long, or logged out in another tab) had sent
# the user to the login page without a word, and after login to the form's address, which
# answers only a submission ("405 This action is not available here" after signing; an
# audit): the typed work was lost unexplained.
SENT_AFTER_SESSION_ENDED = (
    "Your session had ended (idle too long, or logged out in another window), so what you "
    "sent was not saved. Log in, then enter it again."
)


def _page_sent_from() -> str | None:
    """The portal page a form was sent from (its Referer, when on this host), to return to
    after login; None otherwise (the login then lands on the user's start page)."""
    sent_from = urlsplit(request.referrer or "")
    if sent_from.netloc != request.host or not sent_from.path.startswith("/"):
        return None
    return sent_from.path + (f"?{sent_from.query}" if sent_from.query else "")


def _beyond_absolute_lifetime() -> bool:
    """A session lives at most SESSION_ABSOLUTE_HOURS from its login, however active (the
    idle timeout, SESSION_LIFETIME_MINUTES, is Flask's permanent-session lifetime)."""
    started = session.get(AUTHENTICATED_AT)
    limit_s = current_app.config["SETTINGS"].session_absolute_hours * 3600
    return not isinstance(started, (int, float)) or time.time() - started > limit_s


def init_app(app: Flask) -> None:
    app.before_request(_guard)


def api_client() -> dict[str, Any]:
    """The API client of this request as audit rows name it (`client`, `token_id`; nothing on
    the web): a PDF taken through the REST API or FHIR had been audited as the doctor's own
    download, two clients of one doctor told apart by nothing (a security audit)."""
    token = g.get("api_token")
    if token is None:
        return {}
    return {"client": token.client_name, "token_id": token.id}
