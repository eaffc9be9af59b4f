"""Request size limits: forms are small (1 MB); views marked `@accepts_upload` take files up
to MAX_UPLOAD_MB, in at most UPLOAD_FORM_PARTS parts. Werkzeug refuses a larger body from its
Content-Length, before reading it. What the files may cost once read (samples, hours, unpacked
bytes) is bounded by `ml.io.limits`, before any signal is decoded.

The limit is set per request in a hook that runs before CSRF checking (the first reader of
the body), so it applies to every parse of the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

View = TypeVar("View", bound=Callable[..., Any])
FORM_LIMIT_BYTES = 1024 * 1024
FORM_FIELDS_ALLOWANCE_BYTES = 64 * 1024  # the upload form's other fields and multipart framing
# Files and fields one upload may send: storage.MAX_FILES files (more get a clear 422 there)
# and the form's few fields; werkzeug refuses more parts (413) before spooling them to disk.
UPLOAD_FORM_PARTS = 128


def accepts_upload(view: View) -> View:
    view.accepts_upload = True  # type: ignore[attr-defined]
    return view


def is_upload_view() -> bool:
    """Whether this request's view takes files (`accepts_upload`), so its limit is the upload's."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "accepts_upload", False))


def _set_limit() -> None:
    if is_upload_view():
        settings = current_app.config["SETTINGS"]
        request.max_content_length = settings.max_upload_bytes + FORM_FIELDS_ALLOWANCE_BYTES
        request.max_form_parts = UPLOAD_FORM_PARTS
    else:
        request.max_content_length = FORM_LIMIT_BYTES


def init_app(app: Flask) -> None:
    """Call before CSRFProtect.init_app."""
    app.before_request(_set_limit)
