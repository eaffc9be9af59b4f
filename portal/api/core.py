"""What every /api/v1 module shares: the flask-smorest Api and Blueprint as the portal uses
them, the JSON error shape, the fields that keep bad input a 422 (never a 500), and the
audit of each access.

Errors: the portal's own handlers (`portal.errors`) answer every error under /api/ with
`{"error": {"code", "message", "field"}}`; flask-smorest's handler (a different shape, for the
whole app) is not installed. Request validation (webargs) and a service's `InvalidInput` are
turned into 422 with the offending field here.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import current_app, g, request
from flask_login import current_user
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from portal.converters import EARLIEST_DATE, LATEST_DATE, MAX_ID
from portal.db import db_session
from portal.errors import (
    ERROR_CODE_VALUES,
    FALLBACK_ERROR_CODE,
    MESSAGES,
    error_response,
    headers_for,
    too_large_message,
)
from portal.models import Account, ApiToken
from portal.services import audit
from portal.services.validation import InvalidInput
from portal.uploads import is_upload_view

PREFIX = "/api/v1"
MAX_PAGE = 100_000  # offset arithmetic stays far from any integer limit
MAX_PER_PAGE = 100


def location_header(what: str) -> dict[str, Any]:
    """The `Location` header of a 201, as the document states it: RFC 9110 (15.3.2) has a 201
    name what it created there, and it had been missing (an interoperability audit)."""
    return {
        "Location": {
            "description": f"the root-relative URL of {what}",
            "schema": {"type": "string", "format": "uri-reference"},
        }
    }


# --- the error shape -----------------------------------------------------------------------


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(ERROR_CODE_VALUES),
        metadata={"description": "stable machine code, e.g. not_found, invalid; "
                  f"{FALLBACK_ERROR_CODE} for a status no other code names"},
    )  # fmt: skip
    message = ma.fields.String(required=True, metadata={"description": "a sentence to show"})
    field = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the request field at fault (422), else null"},
    )
    request_id = ma.fields.String(
        metadata={"description": "on a 500 only: the request's id, also its X-Request-Id "
                  "header, to quote to IT support"},
    )  # fmt: skip


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def _first_problem(messages: Any, path: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """(field, message) of the first problem in webargs' nested messages."""
    if isinstance(messages, str):
        return (".".join(path) or None), messages
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            return _first_problem(value, path if name == "_schema" else (*path, name))
    if isinstance(messages, list | tuple) and messages:
        return _first_problem(messages[0], path)
    return (".".join(path) or None), "The request is not valid."


def http_error(error: HTTPException) -> Any:
    """webargs' validation errors (422, or 400 for unreadable JSON) with the field named;
    any other HTTP error as the portal says it."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages:
        locations = messages if isinstance(messages, Mapping) else {"": messages}
        location, first = next(iter(locations.items()))
        field, message = _first_problem(first)
        if location == "query" and message == "Unknown field.":
            message = f"Unknown query parameter {field!r}: see the OpenAPI document."
        return error_response(status, message, field)
    message = MESSAGES.get(status, error.description or "Error.")
    if status == 413 and is_upload_view():
        # The limit and the size sent, as the web form says them: a 210-MB upload had been
        # told only "The request body is larger than the portal accepts." (an upload audit).
        message = too_large_message(request.content_length)
    body, status = error_response(status, message)
    return body, status, headers_for(error)


def no_undeclared_query() -> Any:
    """Before each view: a query parameter on a view that declares none is a 422 naming it,
    as on the views that declare theirs (`ApiParser`). `/reports/1/report.pdf?version=2` had
    sent version 3 with a 200 (an integrator's audit)."""
    view = current_app.view_functions.get(request.endpoint or "")
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    if request.args and not any(p.get("in") == "query" for p in parameters):
        name = next(iter(request.args))
        return error_response(422, f"Unknown query parameter {name!r}: see the OpenAPI document.",
                              name)  # fmt: skip
    return None


def invalid_input(problem: InvalidInput) -> Any:
    """A service refused the input: nothing is saved, the first message is said (the same
    sentence the web form shows beside its field)."""
    db_session().rollback()
    field, message = next(iter(problem.errors.items()))
    return error_response(422, message, field)


# --- Api, Blueprint, parser ----------------------------------------------------------------


class ApiParser(FlaskParser):
    """webargs with one more location: a multipart form's fields and files together."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "form_and_files": ma.EXCLUDE,
        # A query parameter the endpoint does not know is refused, as FHIR refuses one: a
        # misspelt filter (`?patient=2` for `?patient_id=2`) had returned every report.
        "query": ma.RAISE,
    }

    def load_querystring(self, req: Any, schema: ma.Schema) -> Any:
        """As webargs', but a parameter that takes one value given twice is a 422 naming it:
        `?status=final&status=amended` had silently listed the final reports only, as FHIR
        once took one of two `_count`s (an integrator's audit)."""
        for name in req.args:
            given = len(req.args.getlist(name))
            field = schema.fields.get(name)
            if given > 1 and field is not None and not isinstance(field, ma.fields.List):
                raise ma.ValidationError({name: [f"{name} is given {given} times: give it once."]})
        return super().load_querystring(req, schema)

    def load_form_and_files(self, req: Any, schema: ma.Schema) -> Any:
        """A multipart form's parts; a body of another type is a 415 saying to send the form,
        as `load_json` says to send JSON: a JSON upload had been told "Choose a recording file
        to upload." (422)."""
        if req.content_length and req.mimetype != "multipart/form-data":
            raise UnsupportedMediaType(
                "Send this body as a multipart form (Content-Type: multipart/form-data); "
                + (f"it was sent as {req.mimetype}." if req.mimetype else "it named no type.")
            )
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def load_json(self, req: Any, schema: ma.Schema) -> Any:
        """As webargs', and JSON that Python's parser refuses past its syntax errors (a
        number of more than 4300 digits, nesting past the recursion limit) is a 400
        "Invalid JSON body." like any other unreadable JSON, not a 500. A body of another
        type is a 415 saying to send JSON: a form-encoded patient had been told "Missing data
        for required field." of a field the body held."""
        if req.content_length and not req.is_json:
            raise UnsupportedMediaType(
                "Send this body as JSON (Content-Type: application/json); "
                + (f"it was sent as {req.mimetype}." if req.mimetype else "it named no type.")
            )
        try:
            return super().load_json(req, schema)
        except (ValueError, RecursionError) as problem:
            return self._handle_invalid_json_error(problem, req)  # type: ignore[arg-type]


ApiParser.__location_map__ = {
    **FlaskParser.__location_map__,
    "form_and_files": "load_form_and_files",
}


class Blueprint(SmorestBlueprint):
    """One resource of the API: its operations carry the resource's tag, and the OpenAPI
    document says which roles and token scopes each one needs (read from `@roles` and
    `@scopes`, the declarations the access guard enforces)."""

    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "form_and_files": "multipart/form-data",
    }

    def __init__(
        self, name: str, import_name: str, *, tag: str, description: str, **options: Any
    ) -> None:
        super().__init__(name, import_name, description=description, **options)
        self.tag = tag

    def route(self, rule: str, *, parameters: Any = None, tags: Any = None, **options: Any) -> Any:
        return super().route(rule, parameters=parameters, tags=tags or [self.tag], **options)

    def _store_endpoint_docs(  # type: ignore[no-untyped-def]
        self, endpoint, obj, parameters, tags, **options
    ) -> None:
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        allowed = getattr(obj, "access", None)
        needed = sorted(getattr(obj, "api_scopes", ()))
        role_names = sorted(r.value for r in allowed) if isinstance(allowed, frozenset) else []
        for method, doc in self._docs[endpoint].items():
            if method == "parameters" or not isinstance(doc, dict):
                continue
            info = doc.setdefault("docstring", {})
            who = f"Roles: {', '.join(role_names) or 'none'}. Token scopes: "
            who += ", ".join(needed) if needed else "none needed (any valid token)"
            info["description"] = "\n\n".join(p for p in (info.get("description"), who) if p)
            manual = doc.setdefault("manual_doc", {})
            manual["x-roles"] = role_names
            manual["x-scopes"] = needed


class PortalApi(Api):
    """flask-smorest's Api without its app-wide error handler (the portal's answers errors,
    as JSON under /api/), with the portal's error shape in the document, and with the docs
    (`portal.api.docs`) served by public views that work under the portal's CSP."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Not installed: it would replace the portal's error pages for the whole app."""

    def _register_doc_blueprint(self) -> None:
        from portal.api import docs

        docs.register(self)

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """As flask-smorest's, without a tag for the container blueprint (each resource
        blueprint has its own tag)."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=name, parameters=parameters)


# --- fields --------------------------------------------------------------------------------


class UtcDateTime(ma.fields.DateTime):
    """Times are stored as naive UTC. Sent out with their zone (`+00:00`); read from ISO
    8601 with or without a zone (without one: UTC), a time the calendar cannot hold in UTC
    is a 422, not an overflow."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        when = super()._deserialize(value, attr, data, **kwargs)
        if when.tzinfo is not None:
            try:
                when = when.astimezone(dt.UTC).replace(tzinfo=None)
            except OverflowError:
                raise ma.ValidationError("The time is outside the calendar.") from None
        return when


class Text(ma.fields.String):
    """Text a person typed: no NUL characters or lone surrogates (no database column keeps
    them faithfully)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("The text contains a NUL character.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("The text is not valid Unicode.") from None
        return text


# What `Text` refuses, in a query parameter's document (`?name=a%00b` was valid by it and a
# 422; an interoperability audit); a query string holds no lone surrogate.
NO_NUL_PATTERN = r"^[^\u0000]*$"


class JsonBoolean(ma.fields.Boolean):
    """A JSON body's boolean: true or false only. marshmallow's Boolean also takes 0, 1,
    "yes", "off" ...: `{"in_hospital_pci": 0}` had been stored as false (an interoperability
    audit, 2026-12-07), as integer fields had taken 3.9 (`row_id`'s strict=True). A query
    string's or a form's "true" is text, so those keep ma.fields.Boolean."""

    default_error_messages = {"invalid": "Not a valid boolean: send true or false."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def one_of(values: type[enum.Enum], **kwargs: Any) -> ma.fields.String:
    """An enum's value as a string (the document lists the values). Services keep some as
    plain strings, which an Enum field could not dump."""
    return ma.fields.String(validate=ma.validate.OneOf([v.value for v in values]), **kwargs)


REFERENCE_RECORD = (
    "true for a reference record (teaching/QA, e.g. an MIT-BIH record attached to the patient): "
    "not this patient's ECG, and never shown to the patient"
)
REFERENCE_RECORD_NAME = 'the library record it is, e.g. "MIT-BIH record 100"; null otherwise'


def reference_record_flag(**kwargs: Any) -> ma.fields.Boolean:
    """Whether a report's recording is a reference record (`EcgRecording.is_reference`)."""
    return ma.fields.Boolean(required=True, metadata={"description": REFERENCE_RECORD}, **kwargs)


def row_id(**kwargs: Any) -> ma.fields.Integer:
    """A row id as ids go in this database (1..2**31-1). In a JSON body pass strict=True: a
    decimal such as 1.9 is then refused, not cut to 1 (an input audit found doctor 1.9
    assigned doctor 1); a query string's digits are text, so query arguments cannot be strict."""
    return ma.fields.Integer(validate=ma.validate.Range(1, MAX_ID), **kwargs)


# A date's years 1900-2100 as the document states them: a JSON Schema `minimum` is for numbers,
# so apispec writes the range of a date as the non-standard `x-minimum`/`x-maximum`, which
# schemathesis and validators ignore (`to=2294-08-27`, valid by the document, was refused with
# a 422; an interoperability audit). A `pattern` on the year is standard.
CALENDAR_DATE_PATTERN = r"^(19[0-9]{2}|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"


def calendar_date(**kwargs: Any) -> ma.fields.Date:
    """A filter date within 1900-2100, as the web filters take (past it, day arithmetic
    overflows)."""
    metadata = kwargs.pop("metadata", {})
    metadata = metadata | {
        "description": f"{metadata.get('description', 'a date')}; "
        f"{EARLIEST_DATE:%Y-%m-%d} to {LATEST_DATE:%Y-%m-%d}",
        "pattern": CALENDAR_DATE_PATTERN,
    }
    return ma.fields.Date(
        validate=ma.validate.Range(EARLIEST_DATE, LATEST_DATE), metadata=metadata, **kwargs
    )


class PageArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, MAX_PAGE))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, MAX_PER_PAGE))


class PageMetaSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)


# --- who is asking, and the audit ----------------------------------------------------------


def actor() -> Account:
    """The token's account (the access guard made it Flask-Login's current user)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def token() -> ApiToken:
    return g.api_token  # type: ignore[no-any-return]


def save_token_use() -> None:
    """Commit what the request wrote so far (the guard's `last_used_at` of the token) before
    a long step (reading an upload, rendering a PDF): on SQLite an open write transaction
    would hold the whole database's write lock meanwhile."""
    db_session().commit()


def audited(
    action: str,
    *,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit an API read like the page that shows the same data (the caller commits), with
    the token that asked."""
    used = token()
    audit.record(
        db_session(), action, actor=actor(), patient_id=patient_id, object_type=object_type,
        object_id=object_id,
        details={**(details or {}), "api_token_id": used.id, "client": used.client_name},
    )  # fmt: skip
