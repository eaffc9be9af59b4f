"""/api/v1: the REST API for machine clients (the EHR, the order system, research exports).

Built with flask-smorest: maintained, it generates the OpenAPI document (3.1) from the
marshmallow schemas the views validate and serialise with, so the document cannot drift
from the code. One module per resource; each view declares its roles (`@roles`, the web's
rules) and the token scopes it needs (`@scopes`), and calls the same service as the web
page that does the same thing.

Clients authenticate with `Authorization: Bearer <token>` only (portal/access.py); the
blueprints are exempt from CSRF (no cookie is a credential here) and limited per token
(API_RATE_LIMIT). Errors are JSON: `{"error": {"code", "message", "field"}}`.

/api/v1/openapi.json, /api/v1/docs          the document and Swagger UI (docs.py)
/api/v1/patients[/<id>]                     patients.py
/api/v1/patients/<id>/clinical-inputs       clinical_inputs.py
/api/v1/patients/<id>/recordings            recordings.py (multipart upload)
/api/v1/jobs/<id>                           jobs.py
/api/v1/reports[/<id>[/report.pdf|/summary.pdf]]  reports.py
/api/v1/model                               model.py
"""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from portal.api import clinical_inputs, jobs, model, patients, recordings, reports
from portal.api.core import (
    PREFIX,
    Blueprint,
    PortalApi,
    http_error,
    invalid_input,
    no_undeclared_query,
)
from portal.converters import MAX_ID, IdConverter
from portal.services.validation import InvalidInput

CONFIG_PREFIX = "API_V1_"
RESOURCES = (patients.bp, clinical_inputs.bp, recordings.bp, jobs.bp, reports.bp, model.bp)

# One blueprint holds the resources: /api/v1, its error handlers and its rate limit.
v1 = Blueprint(
    "api_v1", __name__, url_prefix=PREFIX, tag="CardioPortal API",
    description="CardioPortal REST API, version 1",
)  # fmt: skip
v1.register_error_handler(HTTPException, http_error)
v1.register_error_handler(InvalidInput, invalid_input)
v1.before_request(no_undeclared_query)
for _resource in RESOURCES:
    v1.register_blueprint(_resource)

# What a request body's schema requires as a whole, which marshmallow fields cannot say in
# the document (each schema enforces it itself): a PATCH of nothing is a 422 (it had been a
# 200 with nothing changed; an interoperability audit, 2026-12-07), and so is a clinical
# input holding nothing (`clinical_inputs.something_entered`) or a lab value outside its
# plausible range in the unit the entry names (`clinical_inputs.lab_ranges`).
SCHEMA_RULES: dict[str, dict[str, object]] = {
    "PatientUpdate": {"minProperties": 1},
    "ClinicalInputCreate": {
        "anyOf": clinical_inputs.something_entered(),
        "allOf": clinical_inputs.lab_ranges(),
    },
}

DESCRIPTION = """The CardioPortal REST API for machine clients.

Authenticate with `Authorization: Bearer <token>`: an administrator issues tokens on the
admin page *API tokens* (`/admin/tokens`), each acting for one account (its role rules apply
unchanged: a doctor's token sees that doctor's patients, a patient's token their own signed
reports) and limited to scopes:

| scope | what it allows |
|---|---|
{scopes}

Errors are JSON: `{{"error": {{"code": ..., "message": ..., "field": ...}}}}`; a record that
does not exist or is not the token's to see is a 404; a request past the token's rate limit
is a 429.
"""


def _description() -> str:
    from portal.services.api_tokens import SCOPES

    rows = "\n".join(f"| `{name}` | {what} |" for name, what in SCOPES.items())
    return DESCRIPTION.format(scopes=rows)


def _id_parameter(_converter: IdConverter) -> dict[str, object]:
    """`<id:...>` path parts: row ids, 1..2**31-1 (`portal.converters`)."""
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def init_app(app: Flask) -> PortalApi:
    """Register /api/v1 on `app`. Call after `rate_limits.init_app`: the API is limited
    per token by the limiter it made."""
    from portal import csrf, rate_limits

    app.config.update(
        {
            f"{CONFIG_PREFIX}API_TITLE": "CardioPortal API",
            f"{CONFIG_PREFIX}API_VERSION": "v1",
            f"{CONFIG_PREFIX}OPENAPI_VERSION": "3.1.0",
            f"{CONFIG_PREFIX}OPENAPI_URL_PREFIX": PREFIX,
            f"{CONFIG_PREFIX}OPENAPI_JSON_PATH": "openapi.json",
            f"{CONFIG_PREFIX}OPENAPI_SWAGGER_UI_PATH": "docs",
            f"{CONFIG_PREFIX}OPENAPI_SWAGGER_UI_URL": f"{PREFIX}/swagger-ui/",
        }
    )
    api = PortalApi(
        app,
        config_prefix=CONFIG_PREFIX,
        spec_kwargs={
            "info": {"description": _description()},
            "security": [{"bearerAuth": []}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "an API token"}
    )
    api.register_converter(IdConverter, _id_parameter)
    api.register_blueprint(v1)
    for resource in RESOURCES:
        api.spec.tag({"name": resource.tag, "description": resource.description})
    for schema_name, rules in SCHEMA_RULES.items():
        api.spec.components.schemas[schema_name].update(rules)
    for blueprint in (v1, *RESOURCES):
        csrf.exempt(blueprint)  # bearer tokens only: no cookie is a credential here
    rate_limits.limit_per_token(app, v1, app.config["SETTINGS"].api_rate_limit)
    return api
