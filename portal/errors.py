"""Error pages: every user-facing error is a page (or JSON for /api/) a clinician can read."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ml.analysis import MachineReadError
from portal.db import db_session
from portal.services import audit
from portal.services.errors import DomainError, NotAllowed
from reports.render import RenderError

MESSAGES = {
    400: "The request could not be understood. Go back and try again.",
    403: "Your account does not have access to this page.",
    404: "This page does not exist, or you do not have access to it.",
    405: "This action is not available here.",
    413: "The file or form is larger than the portal accepts.",
    429: "Too many attempts from this network in a short time. Wait a minute and try again.",
    500: "Something went wrong on our side. Nothing was saved; please try again.",
}


def _render(status: int, message: str) -> Any:
    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        return _render(400, "The form expired or was sent twice. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        status = error.code or 500
        return _render(status, MESSAGES.get(status, error.description or "Error."))

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Any:
        db_session().rollback()  # nothing half-done is saved by a later commit
        if isinstance(error, NotAllowed) and current_user.is_authenticated:
            audit.refused_access(db_session(), current_user._get_current_object(), error.status)
        return _render(error.status, error.message)

    @app.errorhandler(RenderError)
    def _render_failed(error: RenderError) -> Any:
        db_session().rollback()
        return _render(503, "The PDF could not be made just now. Try again in a minute.")

    @app.errorhandler(MachineReadError)
    def _unreadable_read(error: MachineReadError) -> Any:
        app.logger.error("Unreadable machine read on %s: %s", request.path, error)
        return _render(
            500,
            "The machine read stored for this report cannot be shown by this version of the "
            "portal. The recording is safe; ask an administrator to re-run the analysis.",
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        app.logger.exception("Unhandled error on %s", request.path)
        return _render(500, MESSAGES[500])
