"""FHIR R4 at /fhir/r4 (issue 16): CapabilityStatement, Patient, Observation,
DiagnosticReport, Binary (the PDFs). Machines authenticate with an API token
(`Authorization: Bearer ...`, portal/access.py) and act for its account with that account's
role; every read is audited like a page view.

Modules: http (blueprint, negotiation, errors, audit), bundle (search paging, dates), codes
(LOINC, SNOMED CT, UCUM, MDC and the project's code systems), patient, observation,
diagnostic_report, everything ($everything), bulk ($export), capability."""

from __future__ import annotations

from flask import Flask

from portal.fhir import (  # noqa: F401
    bulk,
    capability,
    diagnostic_report,
    everything,
    observation,
    patient,
)
from portal.fhir.http import bp


def init_app(app: Flask) -> None:
    """Register /fhir/r4: no CSRF (no cookies are read: a Bearer token is the only
    credential), requests counted per API token (API_RATE_LIMIT). After the limiter."""
    from portal import csrf, rate_limits

    app.register_blueprint(bp)
    csrf.exempt(bp)
    rate_limits.limit_per_token(app, bp, app.config["SETTINGS"].api_rate_limit)
