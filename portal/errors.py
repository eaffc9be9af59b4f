"""Error pages: every user-facing error is a page (or JSON for /api/) a clinician can read."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_login import AnonymousUserMixin, current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    DisconnectionError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from werkzeug.exceptions import HTTPException, SecurityError

from ml.analysis import MachineReadError
from portal import request_ids
from portal.db import (
    COMMIT_SENT,
    LOGIN_REFUSED,
    commit_answer_lost,
    database_busy,
    db_session,
    login_refused,
)
from portal.services import audit
from portal.services.errors import DomainError, NotAllowed
from portal.storage import MAX_FILES
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
SCHEMA_BEHIND_MESSAGE = (
    "The portal's database is not up to date with this version of the portal; nothing was "
    "saved. An administrator must run `cardio init-db`."
)
# The driver's words for a table or column the code needs and the database lacks: MariaDB
# 1146 "Table ... doesn't exist" and 1054 "Unknown column", SQLite "no such table/column".
SCHEMA_BEHIND_WORDS = ("doesn't exist", "Unknown column", "no such table", "no such column")


def schema_behind(cause: BaseException) -> bool:
    return any(words in str(cause) for words in SCHEMA_BEHIND_WORDS)


DATABASE_DOWN_MESSAGE = (
    "The database is not reachable just now; nothing was saved. Try again in a minute."
)
# MariaDB chose this request's transaction as a deadlock's victim (DATABASE_BUSY_CODES: 1213)
# or it waited too long for a lock (1205), or SQLite's write lock was held past the busy
# timeout ("database is locked"): the server is up and busy, and sending again works. A
# deadlock had been told "not reachable", and staff reported an outage (a working-day audit);
# so had SQLite's lock, with Retry-After 60, 0.8 % of reads under load (a load audit).
DATABASE_BUSY_MESSAGE = (
    "The database was busy with another change at the same moment; nothing was saved. "
    "Send it again."
)
BUSY_RETRY_AFTER_S = 2  # a lock is held for a request's length, not a minute
DOWN_RETRY_AFTER_S = 60
# The connection was lost after the COMMIT went out (`portal.db.commit_answer_lost`).
COMMIT_UNKNOWN_MESSAGE = (
    "The database stopped answering while this was being saved, so it may or may not have been "
    "saved. In a minute, look before you try again: an upload saved shows in the patient's "
    "recordings (the same file again only opens it), a report signed shows as final."
)


# Machine-readable codes of the JSON errors (/api/), by HTTP status; the OpenAPI document
# lists them. 410 (a withdrawn report's PDF) had answered the fallback "error" (an
# interoperability audit, 2026-12-07).
ERROR_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "rate_limited", 500: "internal_error",
    503: "unavailable",
}  # fmt: skip
FALLBACK_ERROR_CODE = "error"  # a status no code above names
ERROR_CODE_VALUES = [*ERROR_CODES.values(), FALLBACK_ERROR_CODE]
FHIR_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
                    405: "not-supported", 406: "not-supported", 409: "conflict",
                    410: "deleted", 413: "too-long", 415: "not-supported", 422: "processing",
                    429: "throttled", 503: "transient"}  # fmt: skip


MACHINE_MESSAGES = {
    400: "The request could not be understood.",
    403: "This token's account may not use this resource.",
    404: "No such resource, or not visible to this token's account.",
    405: "This method is not allowed on this resource.",
    413: "The request body is larger than the portal accepts.",
    429: "Too many requests for this token (or address) in a short time; wait and retry.",
    500: "Something went wrong on the server; nothing was saved. Retry later.",
}


def error_response(status: int, message: str, field: str | None = None) -> Any:
    """The error as the caller reads it: a page, the API's JSON shape
    {"error": {"code", "message", "field"}}, or a FHIR OperationOutcome. A machine is told
    what its request lacks, not the page wording ("This page does not exist..."). A 500
    quotes the request's id, which its log lines carry (`request_ids`): it had given IT
    nothing to find it by (an operations audit)."""
    if request.path.startswith(("/api/", "/fhir/")) and message == MESSAGES.get(status):
        message = MACHINE_MESSAGES.get(status, message)
    reference = request_ids.current() if status == 500 else None
    if request.path.startswith("/fhir/"):
        if reference:
            message = f"{message} {reference_words(reference)}"
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{
                "severity": "error",
                "code": FHIR_ISSUE_CODES.get(status, "exception"),
                "diagnostics": message,
            }],
        }  # fmt: skip
        response = jsonify(outcome)
        response.mimetype = "application/fhir+json"
        return response, status
    if request.path.startswith("/api/"):
        code = ERROR_CODES.get(status, FALLBACK_ERROR_CODE)
        body = {"code": code, "message": message, "field": field}
        if reference:
            body["request_id"] = reference
        return jsonify(error=body), status
    page = render_template(
        "errors/error.html", status=status, message=message,
        reference=reference_words(reference) if reference else None,
    )  # fmt: skip
    return page, status


def reference_words(request_id: str) -> str:
    """What a 500 says of its request's id, for the user to quote and IT to grep the log for."""
    return f"Reference: {request_id} (quote it to IT support)."


def too_large_message(content_length: int | None) -> str:
    """A 413 in words a user can act on: the limit, the size sent, and what to do. A Holter
    audit: a 126-MB 24-h EDF read only "The file or form is larger than the portal accepts."
    """
    limit_mb = current_app.config["SETTINGS"].max_upload_mb
    if content_length is not None and content_length <= limit_mb * 1024 * 1024:
        # within the size: too many parts (files) for one recording (a review: "this one is
        # 0 MB" for 200 small files)
        return (
            f"Too many files in one upload: at most {MAX_FILES}, one recording's files. Zip "
            "them and upload the .zip."
        )
    sent = f"; this one is {content_length / 1e6:.0f} MB" if content_length else ""
    return (
        f"The file is larger than the portal accepts: at most {limit_mb} MB per upload{sent}. "
        "Zip the recording's files and upload the .zip (a long recording often shrinks to "
        "half), or ask an administrator about MAX_UPLOAD_MB."
    )


def headers_for(error: HTTPException) -> dict[str, str]:
    """What a client needs to act on the error: the methods a URL takes (a 405's Allow, which
    RFC 9110 requires) and, when throttled, when to try again (the limit's window: a 429 had
    said neither; an integration audit)."""
    headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
    if error.code == 429:
        limit = getattr(error, "limit", None)  # Flask-Limiter's RateLimitExceeded
        window_s = limit.limit.get_expiry() if limit is not None else 60
        headers["Retry-After"] = str(int(window_s))
    return headers


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        return error_response(
            400, "The form expired or was sent twice. Reload the page and try again."
        )

    @app.errorhandler(SecurityError)
    def _untrusted_host(error: SecurityError) -> Any:
        # A Host header outside TRUSTED_HOSTS: no page (its links would name that host).
        return (
            "This server does not answer to that host name.\n",
            400,
            {"Content-Type": "text/plain; charset=utf-8"},
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        status = error.code or 500
        message = MESSAGES.get(status, error.description or "Error.")
        if status == 413 and request.mimetype == "multipart/form-data":  # a file upload
            message = too_large_message(request.content_length)
        page, status = error_response(status, message)
        return page, status, headers_for(error)

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Any:
        db_session().rollback()  # nothing half-done is saved by a later commit
        if isinstance(error, NotAllowed) and current_user.is_authenticated:
            audit.refused_access(db_session(), current_user._get_current_object(), error.status)
        return error_response(error.status, error.message)

    @app.errorhandler(RenderError)
    def _render_failed(error: RenderError) -> Any:
        db_session().rollback()
        return error_response(503, "The PDF could not be made just now. Try again in a minute.")

    @app.errorhandler(MachineReadError)
    def _unreadable_read(error: MachineReadError) -> Any:
        app.logger.error("Unreadable machine read on %s: %s", request.path, error)
        return error_response(
            500,
            "The machine read stored for this report cannot be shown by this version of the "
            "portal. The recording is safe; ask an administrator to re-run the analysis.",
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _database_unreachable(error: SQLAlchemyError) -> Any:
        """The database server is down, restarting or unreachable (pymysql's errors arrive
        wrapped as these): the transaction is rolled back, so nothing of the request is
        saved, and the user is told to try again; unless the connection was lost after the
        COMMIT went out, when the server may have saved it: the user is told to look first.
        The pool replaces dead connections (pool_pre_ping), so the first request after the
        server is back succeeds."""
        cause = getattr(error, "orig", None) or error  # the driver's words, not the SQL
        session = db_session()
        unknown = commit_answer_lost(session)
        # A column the database lacks (MariaDB 1054 arrives as an OperationalError) is a
        # database not upgraded, not an outage, which it had been logged as (an operations
        # audit).
        behind = schema_behind(cause)
        busy = not unknown and not behind and database_busy(cause)
        what = "schema behind this version of the portal" if behind else "not reachable"
        what = "busy (locked by another transaction)" if busy else what
        what = LOGIN_REFUSED if login_refused(cause) else what
        app.logger.error(
            "Database %s on %s %s%s: %s: %s",
            what, request.method, request.path, " (commit sent, no answer)" if unknown else "",
            type(cause).__name__, cause,
        )  # fmt: skip
        try:
            session.rollback()
        except SQLAlchemyError:  # the connection is gone; closing the session discards it
            app.logger.warning("Rollback failed on a lost database connection")
        session.info.pop(COMMIT_SENT, None)
        # The page is drawn without the account: loading it would need the database.
        g._login_user = AnonymousUserMixin()
        message = COMMIT_UNKNOWN_MESSAGE if unknown else DATABASE_DOWN_MESSAGE
        if busy:
            message = DATABASE_BUSY_MESSAGE
        if behind:
            message = SCHEMA_BEHIND_MESSAGE
        page, status = error_response(503, message)
        retry_after_s = BUSY_RETRY_AFTER_S if busy else DOWN_RETRY_AFTER_S
        return page, status, {"Retry-After": str(retry_after_s)}

    @app.errorhandler(ProgrammingError)
    def _schema_behind(error: ProgrammingError) -> Any:
        """A table or column the code needs is missing (MariaDB 1146, 1054): the portal was
        started on a database restored from an older version without `cardio init-db`, and
        every login had answered "Something went wrong on our side" (an ops audit)."""
        if not schema_behind(getattr(error, "orig", None) or error):
            return _unexpected(error)
        app.logger.error("Database schema behind the code on %s: %s", request.path, error.orig)
        db_session().rollback()
        g._login_user = AnonymousUserMixin()
        page, status = error_response(503, SCHEMA_BEHIND_MESSAGE)
        return page, status, {"Retry-After": "60"}

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        """Rolled back first: the page loads the account through the session, which a failed
        flush leaves unusable (an IntegrityError had ended in Werkzeug's bare "Internal
        Server Error" page, raised again inside this handler; a concurrency audit)."""
        app.logger.exception("Unhandled error on %s", request.path)
        try:
            db_session().rollback()
        except SQLAlchemyError:
            app.logger.warning("Rollback failed after an unhandled error")
        return error_response(500, MESSAGES[500])
