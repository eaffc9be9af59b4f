"""Error pages: every user-facing error is a page (or JSON for /api/) a clinician can read."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood. Go back and try again.",
    403: "Your account does not have access to this page.",
    404: "This page does not exist, or you do not have access to it.",
    405: "This action is not available here.",
    413: "The file or form is larger than the portal accepts.",
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

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        app.logger.exception("Unhandled error on %s", request.path)
        return _render(500, MESSAGES[500])
