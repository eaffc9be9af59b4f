"""The session cookie: Flask's signed cookie, except that a page's background polls leave it alone.

Why: sessions are permanent (the idle timeout slides), so Flask re-sends the cookie on every
response. A poll in flight while the user submits a form can answer after the form's redirect
has stored a message in the session ("Amendment signed."), and the poll's older cookie then
replaces the newer one: the message is lost. A poll is not the user's activity either, so it
must not keep an unattended screen logged in. A static file (stylesheet, favicon) is neither
activity nor a change, and one answering after a logout would bring the session back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

View = TypeVar("View", bound=Callable[..., Any])

_POLL_ATTRIBUTE = "background_poll"


def background_poll(view: View) -> View:
    """Mark a view that pages call on a timer: its responses do not refresh the session.
    Apply it directly under `@bp.route`, so the registered function carries the mark."""
    setattr(view, _POLL_ATTRIBUTE, True)
    return view


class PollQuietSessionInterface(SecureCookieSessionInterface):
    """Sets the cookie when the session changed, or to slide the idle timeout, except on a poll."""

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if session.modified:
            return True  # a real change (a message, a logout) is always sent
        quiet = _is_background_poll(app) or _is_static_file()
        return not quiet and super().should_set_cookie(app, session)


def _is_background_poll(app: Flask) -> bool:
    if not has_request_context() or request.endpoint is None:
        return False
    return getattr(app.view_functions.get(request.endpoint), _POLL_ATTRIBUTE, False)


def _is_static_file() -> bool:
    endpoint = request.endpoint if has_request_context() else None
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def init_app(app: Flask) -> None:
    app.session_interface = PollQuietSessionInterface()
