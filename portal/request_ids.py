"""Every request's id, for IT to find its log lines by: the proxy's `X-Request-Id` when it is a
short safe token, else a new random one. It is sent back in the `X-Request-Id` header of every
response, carried by every log record written while handling the request (the record's
`request_id`, in the log line as "[request ...]"), quoted on a 500 ("Reference: ...") and
passed to the Celery task the request sends. An operations audit: a 500 said only "Something
went wrong on our side", and under gunicorn's several workers one request's log lines could
not be told from another's.

The id is random or the proxy's, never patient data; a header that is not a safe token (one
holding "\\r\\n" would forge log lines) is replaced, not cleaned.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler
from werkzeug.wrappers import Response

HEADER = "X-Request-Id"
SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a proxy's id, as nginx's $request_id or a UUID
OUTSIDE_REQUESTS = "-"  # the id of a record written by no request (a worker thread, a command)
TASK_HEADER = "portal_request_id"  # the Celery message header that carries it to a task
LOG_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s [request %(request_id)s]: %(message)s"


def current() -> str:
    """This request's id (chosen on first use), or "-" outside a request."""
    if not has_request_context():
        return OUTSIDE_REQUESTS
    if "request_id" not in g:
        g.request_id = safe_or_none(request.headers.get(HEADER)) or uuid.uuid4().hex
    return str(g.request_id)


def safe_or_none(given: str | None) -> str | None:
    """`given` if it is a safe token (letters, digits, '-', '_', '.', at most 64), else None."""
    return given if given is not None and SAFE_ID.fullmatch(given) else None


def _with_request_ids(make_record: Callable[..., logging.LogRecord]) -> Callable[..., Any]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = current()
        return record

    make.adds_request_id = True  # type: ignore[attr-defined]
    return make


def init_app(app: Flask) -> None:
    # Every record, of any logger (the portal's modules, SQLAlchemy's, Werkzeug's), made in
    # this process: a filter on one logger would miss its children's records.
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "adds_request_id", False):
        logging.setLogRecordFactory(_with_request_ids(factory))
    # The handler Flask gives the portal's loggers (to the server's error log under gunicorn).
    default_handler.setFormatter(
        logging.Formatter(LOG_FORMAT, defaults={"request_id": OUTSIDE_REQUESTS})
    )

    @app.after_request
    def _send_back(response: Response) -> Response:
        response.headers[HEADER] = current()
        return response
