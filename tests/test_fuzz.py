"""Fuzz every route of the portal with Hypothesis: whatever a user or a script sends, the answer
is never a 5xx (issue 15).

The routes come from `app.url_map`, so a new page is fuzzed without being listed here. For each
rule and method, logged in as a role that may use it (anonymous for public pages):
- path ids: the ids of rows that exist, any whole number (up to past 2**64), and junk;
- query strings (GET): the parameters the portal reads (status, finding, from, to, page, q,
  ...), with text, numbers (NaN, inf, 1e308, 2**63), dates (years 0-99999, month 13, Feb 30)
  and strings that broke other sites (CR/LF, NUL, quotes, markup, very long);
- forms (POST): every field of the page's form with values biased to its type (numbers for
  number fields, dates for date fields, its own choices or anything for selects, the right
  password and row version now and then so signing goes deep), always with a valid CSRF token;
  half the forms start from a valid one with a few fields changed, so the services run.
Before the random examples, every query parameter and form field gets each of PROBES once
(the valid request with that one value changed): rare values are then tried on every run.
Run with -s to see the answers per route (how many 200, 302, 400, 404, ...).

Machine routes (/api/, /fhir/) get a Bearer token with every scope, of each role that may
use the route (staff, a doctor, a patient: the role picked per example), no session cookie:
- query strings: the API's from its schemas (flask-smorest keeps them on the views), FHIR's
  search and $export parameters from the modules that read them (_count, _offset, _since,
  _type, identifier as system|MRN, date with prefixes, patient references, ...), repeated
  now and then, with junk values; `Prefer: respond-async`, now and then an odd Accept;
- bodies of POST, PUT and PATCH: JSON objects of the schema's fields (typed values, text,
  huge numbers, NaN, nested junk), Patient resources with junk in each element, any JSON,
  raw bytes and JSON past the parser's limits (5000 digits, nesting 100,000 deep), under
  the right content type mostly; uploads as multipart;
- path ids: the report's Observation and Binary ids, versions, finished and queued exports.
The exports the fuzz started are then run: none may fail (a kick-off accepted that the
worker cannot carry out), and their status answers below 500. The Bulk Data IG's one 5xx (a
failed export's status is a 500 with an OperationOutcome) is not reachable from here: no
input makes an export fail, so no answer is excused.

Page routes run on SQLite only (MariaDB runs the same view code, and the pages' fuzz would
take over a minute more there); machine routes on both databases (their queries take ids,
dates and identifiers straight from the request). Set CARDIO_FUZZ_EXAMPLES to fuzz harder
(default 30 per route and method), and CARDIO_FUZZ_RANDOM=1 for a new random run (by
default the run is derandomized: the same examples every time, so a failure in CI is
reproducible).
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from portal import create_app
from portal.access import PUBLIC, endpoint_access
from portal.admin.forms import NewAccountForm, ResetPasswordForm
from portal.auth.forms import ChangePasswordForm, LoginForm
from portal.fhir import bulk, codes, diagnostic_report, observation
from portal.fhir import patient as fhir_patient
from portal.fhir.http import PREFIX as FHIR
from portal.models import AnalysisJob, BulkExportJob, EcgReport, JobState, Role
from portal.patients.forms import ClinicalInputEntryForm, PatientForm
from portal.recordings.forms import LibraryForm, UploadForm
from portal.review.forms import AmendForm, SignForm
from portal.services import api_tokens, bulk_export, patients, reports
from tests.conftest import PASSWORD, People, client_for, csrf_token, make_settings
from tests.test_upload_and_review import _analysed_report, _csv_bytes

EXAMPLES = int(os.environ.get("CARDIO_FUZZ_EXAMPLES", "30"))
DERANDOMIZE = os.environ.get("CARDIO_FUZZ_RANDOM", "") != "1"

# The forms each endpoint reads (field names and types from the classes; a prefix if any).
# An endpoint not listed is fuzzed with the fields of the forms on its own GET page.
FORMS: dict[str, list[tuple[type[FlaskForm], str]]] = {
    "admin.new_account": [(NewAccountForm, "")],
    "admin.reset_password": [(ResetPasswordForm, "")],
    "auth.login": [(LoginForm, "")],
    "auth.change_password": [(ChangePasswordForm, "")],
    "patients.new": [(PatientForm, "")],
    "patients.edit": [(PatientForm, "")],
    "patients.new_input": [(ClinicalInputEntryForm, "")],
    "recordings.upload": [(UploadForm, "")],
    "recordings.from_library": [(LibraryForm, "library")],
    "review.sign": [(SignForm, "")],
    "review.amend": [(AmendForm, "")],
}
# Query parameters the views read (every GET route gets these and a few strays).
QUERY_ARGS = {
    "review.worklist": ["status", "finding", "from", "to", "page"],
    "admin.audit_log": ["user", "action", "mrn", "from", "to", "page", "upto_id"],
    "patients.index": ["q", "page", "inactive"],
    "review.ecg_json": ["overview", "start_s", "end_s"],
    "review.ecg_time_json": ["into", "clock"],
    "review.model_info": ["format"],
    "auth.login": ["next"],
    "scores.show": [
        "what_if", "age_years", "total_cholesterol", "hdl", "cholesterol_unit",
        "systolic_bp_mmhg", "bmi_kg_m2", "heart_rate_bpm", "creatinine", "creatinine_unit",
        "killip_class", "smoker", "diabetic", "bp_treated", "cardiac_arrest_at_admission",
        "st_deviation", "st_depression", "elevated_cardiac_enzymes", "history_of_mi",
        "history_of_heart_failure", "in_hospital_pci",
    ],
}  # fmt: skip
STRAY_ARGS = ["page", "from", "to", "q", "next", "id"]
# A valid form per endpoint: half the examples change a few of its fields, so the fuzz gets
# past "this field is required" into the services (the other half is random from scratch).
# A callable is called at each example (the report's current row version).
VALID_FORMS: dict[str, dict[str, Any]] = {
    "admin.new_account": {"role": "staff", "username": "fuzzed", "full_name": "Fuzz Ed",
                          "password": "Tachycardia at dawn, 42 beats"},
    "admin.reset_password": {"password": "Tachycardia at dawn, 42 beats",
                             "confirm_password": "Tachycardia at dawn, 42 beats"},
    "auth.login": {"username": "nobody", "password": PASSWORD},
    "auth.security": {"action": "enrol", "code": "123456"},
    "auth.verify": {"code": "123456"},
    "auth.change_password": {"current_password": PASSWORD,
                             "password": "Tachycardia at dawn, 42 beats",
                             "confirm_password": "Tachycardia at dawn, 42 beats"},
    "patients.new": {"full_name": "Fuzz Patient", "date_of_birth": "1970-01-01", "sex": "female"},
    "patients.edit": {"full_name": "Fuzz Patient", "date_of_birth": "1970-01-01", "sex": "male"},
    "patients.new_input": {"recorded_at": "2024-05-31T08:30", "systolic_bp_mmhg": "120",
                           "total_cholesterol": "200", "hdl": "50"},
    "review.sign": {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                    "conclusion": "Normal ECG.", "password": PASSWORD},
    "review.amend": {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                     "conclusion": "Normal ECG.", "password": PASSWORD, "reason": "Re-read."},
}  # fmt: skip
ROLE_PREFERENCE = (Role.STAFF, Role.DOCTOR, Role.ADMIN, Role.PATIENT)
MACHINE_PREFIXES = ("/api/", "/fhir/")  # Bearer tokens, JSON bodies (fuzzed on both databases)
# Routes that only say what is not served (a FHIR instance history): every answer is a 4xx.
ONLY_REFUSING = {
    "fhir.report_history", "fhir.observation_history", "fhir.patient_history",
    "fhir.search_by_post",  # searches are GET here: a 405 saying so
    # A stale risk score's own version: the fuzz's world has none (test_fhir reads one back).
    "fhir.observation_vread_stale",
}  # fmt: skip

# Inputs that broke other sites, or this one (issue 15's six causes of 500 among them).
NASTY = [
    "", " ", "0", "-0", "1", "2", "-1", "1.5", "1,5", "NaN", "nan", "inf", "-inf", "Infinity",
    "1e308", "-1e308", "1e309", "5e-324", "9" * 30, str(2**31), str(2**31 - 1), str(2**63),
    str(2**64), "0x10", "1_000", "١٢٣", "²", "0001-01-01", "1899-12-31", "1900-01-01",
    "9999-12-31", "10000-01-01", "2024-02-30", "2024-13-01", "0000-00-00", "2024-05-31T08:30",
    "0001-01-01T00:00", "9999-12-31T23:59", "\x00", "\r\n", "a\r\nLocation: //evil.example",
    "//evil.example", "/\\evil.example", "https://evil.example/", "%", "_", "%00", "'", '"',
    "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "A" * 5000, "é" * 300,
    "😀" * 50, "١٢٣٤٥٦", "۱۲۳۴۵۶", "preliminary", "final", "amended", "SINUS", "AF", "json",
    "yes", "no", "mg/dL", "mmol/L", "umol/L", "uV", "mV",
]  # fmt: skip

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=8),  # "١٢٣", "²"
)
dates = st.builds(
    lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
    st.integers(0, 99999),
    st.integers(0, 13),
    st.integers(0, 32),
)
datetimes = st.builds(
    lambda day, h, mi: f"{day}T{h:02d}:{mi:02d}", dates, st.integers(0, 25), st.integers(0, 61)
)
anything = st.one_of(
    st.sampled_from(NASTY), st.text(max_size=60), numbers, dates, datetimes
)  # fmt: skip
files = st.lists(
    st.tuples(
        st.one_of(st.binary(max_size=2048), st.text(max_size=400).map(str.encode)),
        st.sampled_from(
            [
                "ecg.csv",
                "rec.hea",
                "rec.dat",
                "ecg.edf",
                "ecg.mat",
                "ecg.zip",
                "ecg.txt",
                "",
                "../../x.csv",
                "a\r\nb.csv",
                "ecg.CSV",
            ]
        ),  # fmt: skip
    ),
    max_size=3,
)


def _damaged(content: bytes) -> st.SearchStrategy[bytes]:
    """A valid file cut short, or with a slice replaced by junk."""
    cut = st.integers(0, len(content)).map(lambda n: content[:n])
    spliced = st.builds(
        lambda at, junk: content[:at] + junk + content[at + len(junk) :],
        st.integers(0, len(content)),
        st.one_of(st.binary(max_size=64), st.sampled_from(NASTY).map(str.encode)),
    )
    return st.one_of(cut, spliced)


NUMBER_FIELDS = {"FloatField", "IntegerField", "DecimalField", "MeasurementField"}
DATE_FIELDS = {"DateField", "CalendarDateField"}
DATETIME_FIELDS = {"DateTimeField", "DateTimeLocalField", "MeasuredOnField"}


@dataclass
class FieldSpec:
    name: str
    kind: str  # the WTForms field class name, or an HTML input type when scraped
    choices: list[str] = field(default_factory=list)


@dataclass
class World:
    """One app with rows to aim at, and a logged-in client per role."""

    app: Flask
    ids: dict[str, list[int | str]]
    clients: dict[Role | str, FlaskClient]
    tokens: dict[Role | str, str]  # CSRF tokens of the clients (pages)
    row_version: Callable[[], str]
    csv: bytes  # a valid 30-s CSV recording
    bearer: dict[Role, str] = field(default_factory=dict)  # API tokens (machine routes)
    mrns: list[str] = field(default_factory=list)


# --- the routes --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _routes() -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route, from an app built only to read its map."""
    out = []
    with tempfile.TemporaryDirectory(prefix="cardio-fuzz-routes-") as name:
        folder = Path(name)
        app = create_app(make_settings(f"sqlite:///{folder / 'routes.db'}", folder), TESTING=True)
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue  # files from disk (a path converter), no view code to break
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                out.append((rule.endpoint, method, rule.rule))
        app.extensions["db_engine"].dispose()
    return sorted(out)


def _rule(app: Flask, endpoint: str, rule_text: str) -> Rule:
    return next(
        r for r in app.url_map.iter_rules() if r.rule == rule_text and r.endpoint == endpoint
    )


def _page_routes() -> list[tuple[str, str, str]]:
    """Routes for browsers (the machine routes are fuzzed with tokens, below)."""
    return [route for route in _routes() if not route[2].startswith(MACHINE_PREFIXES)]


def _machine_routes() -> list[tuple[str, str, str]]:
    return [route for route in _routes() if route[2].startswith(MACHINE_PREFIXES)]


def _role_for(app: Flask, endpoint: str) -> Role | str:
    allowed = endpoint_access(app, endpoint)
    if allowed == PUBLIC:
        return PUBLIC
    assert allowed, f"{endpoint} declares no roles"
    if endpoint.startswith("review.") and Role.DOCTOR in allowed:
        return Role.DOCTOR  # the doctor's own patients' reports, sign and amend
    return next(role for role in ROLE_PREFERENCE if role in allowed)


# --- the forms ---------------------------------------------------------------------------


def _class_fields(app: Flask, form_class: type[FlaskForm], prefix: str) -> list[FieldSpec]:
    with app.test_request_context():
        form = form_class(meta={"csrf": False}, prefix=prefix)
        specs = []
        for f in form:
            choices = [str(c[0]) for c in getattr(f, "iter_choices", lambda: [])()]
            specs.append(FieldSpec(f.name, type(f).__name__, choices))
        return specs


FORM_PATTERN = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
INPUT_PATTERN = re.compile(r"<(input|textarea|select|button)\b([^>]*)>", re.I)
ATTR_PATTERN = re.compile(r'(\w[\w-]*)="([^"]*)"')


def _scraped_fields(client: FlaskClient, url: str) -> list[FieldSpec]:
    """The fields of the POST forms on a page (for forms this module does not know)."""
    page = client.get(url).get_data(as_text=True)
    specs: dict[str, FieldSpec] = {}
    for form in FORM_PATTERN.findall(page):
        if 'method="post"' not in form.lower():
            continue
        for tag, attrs_text in INPUT_PATTERN.findall(form):
            attrs = dict(ATTR_PATTERN.findall(attrs_text))
            name = attrs.get("name")
            if not name or name == "csrf_token":
                continue
            spec = specs.setdefault(name, FieldSpec(name, attrs.get("type", tag.lower())))
            if "value" in attrs:
                spec.choices.append(html.unescape(attrs["value"]))
        for name, options in re.findall(
            r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S | re.I
        ):
            specs[name].choices += [
                html.unescape(v) for v in re.findall(r'value="([^"]*)"', options)
            ]
    return list(specs.values())


def _field_strategy(spec: FieldSpec, world: World) -> st.SearchStrategy[Any]:
    own = [st.sampled_from(spec.choices)] if spec.choices else []
    if spec.kind in NUMBER_FIELDS or spec.kind == "number":
        return st.one_of(*own, numbers, anything)
    if spec.kind in DATE_FIELDS or spec.kind == "date":
        return st.one_of(*own, dates, anything)
    if spec.kind in DATETIME_FIELDS or spec.kind == "datetime-local":
        return st.one_of(*own, datetimes, anything)
    if spec.kind in {"MultipleFileField", "FileField", "file"}:
        csv = world.csv
        damaged = st.tuples(_damaged(csv), st.just("ecg.csv")).map(lambda f: [f])
        return st.one_of(st.just([(csv, "ecg.csv")]), damaged, files)
    if spec.kind == "SelectMultipleField":
        return st.lists(st.one_of(*own, anything), max_size=4)
    if spec.name == "row_version":
        return st.one_of(st.builds(world.row_version), anything)
    if spec.kind in {"PasswordField", "password"}:
        return st.one_of(st.just(PASSWORD), anything)
    if spec.name == "assigned_doctor_id":
        doctors = [str(i) for i in world.ids.get("doctor_profile_id", [])]
        return st.one_of(st.sampled_from(doctors), anything)
    return st.one_of(*own, anything)


def _form_strategy(
    specs: list[FieldSpec], world: World, valid: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    strategies = {spec.name: _field_strategy(spec, world) for spec in specs}
    strays = st.dictionaries(st.sampled_from(["x", "action", "next", "id"]), anything, max_size=2)
    return _mapping_strategy(strategies, valid, strays)


def _mapping_strategy(
    strategies: dict[str, st.SearchStrategy[Any]],
    valid: dict[str, Any],
    strays: st.SearchStrategy[dict[str, Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    """A form or JSON object: any of its fields at random (with stray ones), or the valid one
    with a few fields changed (a callable in `valid` is called at each example)."""
    scratch = st.fixed_dictionaries({}, optional=strategies)  # type: ignore[arg-type]
    forms = [st.builds(lambda a, b: {**b, **a}, scratch, strays)]
    if valid and strategies:
        base = st.fixed_dictionaries(
            {
                name: st.builds(value) if callable(value) else st.just(value)
                for name, value in valid.items()
            }
        )
        changes = st.lists(st.sampled_from(sorted(strategies)), min_size=1, max_size=3).flatmap(
            lambda names: st.fixed_dictionaries({n: strategies[n] for n in set(names)})
        )
        forms.append(st.builds(lambda b, c: {**b, **c}, base, changes))
    return st.one_of(*forms)


# --- the requests ------------------------------------------------------------------------


def _path_strategy(rule: Rule, world: World) -> st.SearchStrategy[str]:
    return _path_values(rule, world).map(lambda values: _build_path(rule, values))


def _build_path(rule: Rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: quote(values[m.group(1)], safe=""), rule.rule)


def _path_values(rule: Rule, world: World) -> st.SearchStrategy[dict[str, str]]:
    parts: dict[str, st.SearchStrategy[str]] = {}
    for name in rule.arguments:
        existing = [str(i) for i in world.ids.get(name, [])] or ["1"]
        others = st.one_of(
            st.integers(min_value=0, max_value=2**66).map(str),
            st.sampled_from(["-1", "01", "+1", "1.0", "0x1", "1e3", "abc", "%00", "١", " 1"]),
            st.text(min_size=1, max_size=20),
        )
        ours = st.sampled_from(existing)  # 4 in 5: rows that exist, so the view's code runs
        parts[name] = st.integers(0, 4).flatmap(lambda k, o=ours, x=others: o if k else x)
    return st.fixed_dictionaries(parts)


def _query_strategy(endpoint: str) -> st.SearchStrategy[dict[str, Any]]:
    names = list(dict.fromkeys([*QUERY_ARGS.get(endpoint, []), *STRAY_ARGS]))
    return st.fixed_dictionaries({}, optional={n: anything for n in names})  # type: ignore[arg-type]


def _send(
    client: FlaskClient,
    method: str,
    path: str,
    query: dict[str, Any],
    form: dict[str, Any],
    token: str,
) -> Any:
    if method == "GET":
        return client.get(path, query_string=query)
    data, multipart = _form_data(form)
    data["csrf_token"] = token
    return client.open(
        path,
        method=method,
        data=data,
        content_type="multipart/form-data" if multipart else None,
    )


def _form_data(form: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The form as the test client sends it (files as streams), and whether it has files."""
    data: dict[str, Any] = {}
    multipart = False
    for name, value in form.items():
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            data[name] = [(io.BytesIO(content), filename) for content, filename in value]
            multipart = True
        else:
            data[name] = value
    return data, multipart


# --- the world ---------------------------------------------------------------------------


def _world(
    app: Flask, people: People, sql: Session, tmp_path: Path, endpoint: str, rule: Rule
) -> World:
    ids = _row_ids(people)
    needs_report = bool({"report_id", "job_id"} & set(rule.arguments)) or endpoint in {
        "review.worklist",
        "myhealth.reports",
    }
    report_id = None
    if needs_report:
        signed = endpoint.startswith("myhealth.") or endpoint == "review.amend"
        report_id = _report(app, people, sql, tmp_path, ids, signed=signed)

    def row_version() -> str:
        if report_id is None:
            return "1"
        sql.expire_all()
        return str(sql.get(EcgReport, report_id).row_version)

    clients: dict[Role | str, FlaskClient] = {PUBLIC: app.test_client()}
    tokens: dict[Role | str, str] = {PUBLIC: csrf_token(clients[PUBLIC], "/login")}
    role = _role_for(app, endpoint)
    if role != PUBLIC:
        assert isinstance(role, Role)
        clients[role] = client_for(app, people.by_role(role))
        tokens[role] = csrf_token(clients[role], "/account/password")
    if endpoint == "myhealth.clinician_pdf":  # off by default: the page would be a bare 404
        app.config["SETTINGS"] = dataclasses.replace(
            app.config["SETTINGS"], patients_get_clinician_pdf=True
        )
    if endpoint == "auth.verify":  # the password step done: the code step is what is fuzzed
        step_one = {"username": people.doctor.username, "password": PASSWORD}
        step_one["csrf_token"] = tokens[PUBLIC]
        assert clients[PUBLIC].post("/login", data=step_one).location.endswith("/login/verify")
        tokens[PUBLIC] = csrf_token(clients[PUBLIC], "/login/verify")
    return World(app, ids, clients, tokens, row_version, _csv_bytes(tmp_path))


def _row_ids(people: People) -> dict[str, list[int | str]]:
    return {
        "patient_id": [people.patient.id, people.other_patient.id],
        "account_id": [
            a.id for a in (people.staff, people.doctor, people.other_doctor, people.patient_account)
        ],
        "doctor_profile_id": [people.doctor.doctor_profile.id],
        "resource_type": ["Patient", "DiagnosticReport", "Observation"],  # FHIR `_search`
    }


def _report(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    ids: dict[str, list[int | str]],
    *,
    signed: bool,
) -> int:
    """An analysed report of `people.patient` (signed by their doctor if `signed`: then the
    patient sees it, and it has a version 2); its id and its job's go into `ids`."""
    report = _analysed_report(app, people, sql, tmp_path)
    ids["report_id"] = [report.id]
    ids["job_id"] = list(sql.scalars(select(AnalysisJob.id)))
    if signed:
        read = reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Normal ECG.")
        reports.sign(sql, report, actor=people.doctor, password=PASSWORD,
                     expected_row_version=report.row_version, read=read)  # fmt: skip
        sql.commit()
    return report.id


def _fields(world: World, endpoint: str, rule: Rule, role: Role | str) -> list[FieldSpec]:
    if endpoint in FORMS:
        return [s for cls, prefix in FORMS[endpoint] for s in _class_fields(world.app, cls, prefix)]
    if "GET" in (rule.methods or set()):
        values = {name: str((world.ids.get(name) or [1])[0]) for name in rule.arguments}
        return _scraped_fields(world.clients[role], rule.build(values, append_unknown=False)[1])
    return []  # a one-button POST: its CSRF token is its only field


# Sent to every field and query parameter one at a time, every run (the random examples may
# miss a rare value; these are the ones that broke things).
PROBES = ["١٢٣٤٥٦", "²", "\x00", "\r\n", "9" * 30, "-1", "NaN", "inf", "1e308", "0001-01-01",
          "9999-12-31", "A" * 5000, "'\""]  # fmt: skip


def _probes(
    rule: Rule, method: str, endpoint: str, specs: list[FieldSpec], world: World
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The valid request with one parameter at a time set to each of PROBES."""
    values = {name: str((world.ids.get(name) or [1])[0]) for name in rule.arguments}
    path = rule.build(values, append_unknown=False)[1] if rule.arguments else rule.rule
    if method == "GET":
        for name in dict.fromkeys([*QUERY_ARGS.get(endpoint, []), *STRAY_ARGS]):
            for value in PROBES:
                yield path, {name: value}, {}
        return
    valid = {k: v() if callable(v) else v for k, v in _valid_form(endpoint, world).items()}
    for spec in specs:
        if spec.kind in {"MultipleFileField", "FileField", "file"}:
            continue
        for value in PROBES:
            yield path, {}, {**valid, spec.name: value}


def _valid_form(endpoint: str, world: World) -> dict[str, Any]:
    valid = dict(VALID_FORMS.get(endpoint, {}))
    if endpoint in {"review.sign", "review.amend"}:
        valid["row_version"] = world.row_version
    if endpoint in {"patients.new", "patients.edit"}:
        valid["assigned_doctor_id"] = str(world.ids["doctor_profile_id"][0])
    return valid


@pytest.fixture
def fuzz_settings() -> Iterator[settings]:
    yield settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("endpoint", "method", "rule_text"), _page_routes())
def test_no_input_makes_a_route_answer_5xx(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    fuzz_settings: settings,
    endpoint: str,
    method: str,
    rule_text: str,
) -> None:
    rule = _rule(app, endpoint, rule_text)
    world = _world(app, people, sql, tmp_path, endpoint, rule)
    role = _role_for(app, endpoint)
    client, token = world.clients[role], world.tokens[role]
    specs = _fields(world, endpoint, rule, role) if method == "POST" else []
    requests = st.tuples(
        _path_strategy(rule, world),
        _query_strategy(endpoint) if method == "GET" else st.just({}),
        _form_strategy(specs, world, _valid_form(endpoint, world))
        if method == "POST"
        else st.just({}),
    )

    answers: Counter[int] = Counter()

    def one_request(request: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
        path, query, form = request
        response = _send(client, method, path, query, form, token)
        answers[response.status_code] += 1
        assert response.status_code < 500, (
            f"{method} {path} query={query!r} form={form!r} as {role}: {response.status_code}"
        )

    for probe in _probes(rule, method, endpoint, specs, world):
        one_request(probe)
    fuzz_settings(given(requests)(one_request))()
    print(f"{method} {rule_text} as {role}: {dict(sorted(answers.items()))}")


# --- machine routes (/api/, /fhir/) ------------------------------------------------------
#
# Machines authenticate with a Bearer token, so these routes are fuzzed with one (every
# scope) of each role that may use the route: staff, a doctor, a patient. The fuzz then gets
# past the 401 to the query strings, path ids and JSON bodies.

MACHINE_ROLES = (Role.STAFF, Role.DOCTOR, Role.PATIENT)
FHIR_GENERAL_ARGS = ["_count", "_offset", "_format", "_pretty"]
# The parameters each FHIR endpoint reads, from the modules that read them.
FHIR_QUERY_ARGS: dict[str, list[str]] = {
    "fhir.patient_search": sorted(fhir_patient.SEARCH_PARAMETERS),
    "fhir.report_search": sorted(diagnostic_report.SEARCH_PARAMETERS),
    "fhir.observation_search": sorted(observation.SEARCH_PARAMETERS),
    "fhir.export_system": sorted(bulk.KICK_OFF_PARAMETERS),
    "fhir.export_patients": sorted(bulk.KICK_OFF_PARAMETERS),
    "fhir.patient_upsert": ["identifier"],
}
FHIR_STRAY_ARGS = ["_since", "_type", "identifier", "date", "_summary", "patient"]
API_STRAY_ARGS = ["page", "x", "id"]
# Values FHIR clients send, and near misses: resource types, codes, references, formats.
FHIR_WORDS = [
    "Patient", "DiagnosticReport", "Observation", "Patient,Observation", "Observation,Junk",
    ",", "female", "male", "other", "unknown", "true", "false", "final", "preliminary",
    "amended", "laboratory", "vital-signs", "survey", "http://loinc.org|8867-4", "8867-4",
    "http://snomed.info/sct|", "|426783006", "|", "||", "Patient/1", "Patient/", "Patient/abc",
    f"Patient/{2**64}", "Group/1", "json", "xml", "application/fhir+json",
    "application/fhir+ndjson", "ndjson", "text/csv", "1-hr", "1-v1-clinician",
]  # fmt: skip
DATE_PREFIXES = ["", "eq", "ne", "lt", "le", "gt", "ge", "sa", "eb", "ap", "xx"]
ACCEPTS = ["*/*", "application/fhir+json", "application/json", "*/*;q=nan", "application/*;q=2",
           "", "application/fhir+json, application/pdf;q=0.5"]  # fmt: skip
REFUSED_ACCEPTS = ["application/fhir+xml", "text/html", "application/pdf",
                   "application/fhir+ndjson", "application/json;q=0"]  # fmt: skip
# Sent as the whole body of every POST, PUT and PATCH, once a run (JSON that is no JSON,
# numbers past every limit, nesting past the recursion limit).
RAW_BODIES = [
    b"", b"null", b"{", b"[1,", b'{"a": 1}{', b"\xff\xfe\x00", b"1e999", b"-", b"NaN",
    b'{"resourceType": "Patient"',
    b"9" * 5000,
    b'{"resourceType": "Patient", "x": ' + b"9" * 5000 + b"}",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"resourceType": "Patient", "extension": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"resourceType": "Patient", "name": ' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"}",
]  # fmt: skip
VALID_JSON: dict[str, dict[str, Any]] = {
    "api_v1.patients.create": {"full_name": "Fuzz Patient", "date_of_birth": "1970-01-01",
                               "sex": "female"},
    "api_v1.patients.update": {"full_name": "Fuzz Patient", "phone": "+44 20 7946 0000"},
    "api_v1.clinical_inputs.create": {"recorded_at": "2024-05-31T08:30:00Z",
                                      "systolic_bp_mmhg": 120, "total_cholesterol": 200,
                                      "hdl": 50, "smoker": False},
}  # fmt: skip
# Every field of a valid JSON object gets each of these once a run.
JSON_PROBES: list[Any] = ["²", "\x00", "A" * 5000, 10**400, float("nan"), None, [], {}]
# ... and every query parameter of a machine route (fewer than PROBES: every request carries
# a token to check and an audit row to write).
QUERY_PROBES = ["١٢٣٤٥٦", "²", "\x00", "9" * 30, "-1", "A" * 5000, "0001-01-01", "9999-12-31"]

json_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**400, -(10**400), 2**31, 2**63, 2**64, 1e308, -1e308, 5e-324]),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), json_numbers, st.text(max_size=30), st.sampled_from(NASTY)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(
                st.text(max_size=10),
                st.sampled_from(["resourceType", "id", "value", "system", "text", "code"]),
            ),
            inner,
            max_size=4,
        ),
    ),  # fmt: skip
    max_leaves=12,
)
instants = st.builds(
    lambda day, hour, zone: f"{day}T{hour:02d}:00:00{zone}",
    dates,
    st.integers(0, 25),
    st.sampled_from(["Z", "+00:00", "+14:00", "-12:00", "+99:99", ""]),
)
fhir_dates = st.builds(
    lambda prefix, when: prefix + when,
    st.sampled_from(DATE_PREFIXES),
    st.one_of(dates, datetimes, instants,
              st.sampled_from(["2024", "2024-05", "2024-5", "20240531", "0000", "9999", "10000"])),
)  # fmt: skip
type_lists = st.lists(
    st.sampled_from([*bulk_export.RESOURCE_TYPES, "Junk", "", " Patient", "patient"]), max_size=4
).map(",".join)


@dataclass(frozen=True)
class Body:
    """A request body: raw bytes with their content type, or a form (multipart if files)."""

    data: bytes | dict[str, Any]
    content_type: str | None


@dataclass(frozen=True)
class MachineRequest:
    path: str
    query: dict[str, Any]
    body: Body | None
    headers: dict[str, str]
    role: Role | None  # whose token (None: no token, for the public API docs)

    def describe(self, method: str) -> str:
        body = None if self.body is None else repr(self.body.data)[:400]
        return (f"{method} {self.path} query={self.query!r} headers={self.headers!r} "
                f"body={body} as {self.role}")  # fmt: skip


def _machine_roles(app: Flask, endpoint: str) -> list[Role]:
    """Each role of MACHINE_ROLES that may use the endpoint (none for public ones)."""
    allowed = endpoint_access(app, endpoint)
    if allowed == PUBLIC:
        return []
    assert allowed, f"{endpoint} declares no roles"
    return [role for role in MACHINE_ROLES if role in allowed] or [
        next(role for role in ROLE_PREFERENCE if role in allowed)
    ]


def _api_fields(app: Flask, endpoint: str, location: str) -> dict[str, ma.fields.Field]:
    """The fields of the schema an /api/v1 view reads from `location` (flask-smorest keeps
    the schemas of `@bp.arguments` on the view, for its OpenAPI document)."""
    view = app.view_functions[endpoint]
    for argument in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if argument["in"] == location:
            schema = argument["schema"]
            return dict((schema() if isinstance(schema, type) else schema).fields)
    return {}


def _api_specs(app: Flask, endpoint: str, location: str) -> list[FieldSpec]:
    return [_spec_of(name, f) for name, f in _api_fields(app, endpoint, location).items()]


def _spec_of(name: str, schema_field: ma.fields.Field) -> FieldSpec:
    choices = [
        str(choice)
        for validator in schema_field.validators
        if isinstance(validator, ma.validate.OneOf)
        for choice in validator.choices
    ]
    if isinstance(schema_field, ma.fields.Boolean):
        return FieldSpec(name, "checkbox", ["true", "false", "1", "0", "yes", "off", "null"])
    if isinstance(schema_field, ma.fields.Number):
        return FieldSpec(name, "number", choices)
    if isinstance(schema_field, ma.fields.Date):  # before DateTime: a Date is one
        return FieldSpec(name, "date", choices)
    if isinstance(schema_field, ma.fields.DateTime):
        return FieldSpec(name, "datetime-local", choices)
    if isinstance(schema_field, ma.fields.List):
        return FieldSpec(name, "file")  # the API's only list input: upload parts
    return FieldSpec(name, "text", choices)


def _json_field_strategy(spec: FieldSpec, world: World) -> st.SearchStrategy[Any]:
    """JSON values for a schema field: of its type, text as a form would send it, or junk."""
    typed = {"number": json_numbers, "checkbox": st.booleans()}.get(spec.kind, st.none())
    return st.one_of(typed, _field_strategy(spec, world), json_junk)


def _fhir_value(world: World) -> st.SearchStrategy[str]:
    """A FHIR search or operation parameter's value: dates with prefixes, system|value
    identifiers (the patients' MRNs among them), references, types, or anything."""
    systems = st.sampled_from(
        [codes.MRN_SYSTEM, codes.DOCTOR_SYSTEM, "", "urn:oid:1.2", "http://loinc.org"]
    )
    identifiers = st.builds(
        lambda system, value: f"{system}|{value}",
        systems,
        st.one_of(st.sampled_from(world.mrns), anything),
    )
    references = st.sampled_from([f"Patient/{i}" for i in world.ids["patient_id"]])
    return st.one_of(
        anything, fhir_dates, identifiers, references, st.sampled_from(FHIR_WORDS), type_lists
    )


def _query_names(app: Flask, endpoint: str) -> list[str]:
    if endpoint.startswith("fhir."):
        return [*FHIR_QUERY_ARGS.get(endpoint, []), *FHIR_GENERAL_ARGS]
    return list(_api_fields(app, endpoint, "query"))


def _machine_query(app: Flask, endpoint: str, world: World) -> st.SearchStrategy[dict[str, Any]]:
    names = _query_names(app, endpoint)
    if endpoint.startswith("fhir."):
        value = _fhir_value(world)
        values = st.one_of(value, st.lists(value, min_size=2, max_size=3))  # repeated
        strays = st.dictionaries(st.sampled_from(FHIR_STRAY_ARGS), value, max_size=1)
        optional = {n: values for n in names} | _format_args(value)
        known = st.fixed_dictionaries({}, optional=optional)  # type: ignore[arg-type]
    else:
        specs = {s.name: s for s in _api_specs(app, endpoint, "query")}
        strays = st.dictionaries(st.sampled_from(API_STRAY_ARGS), anything, max_size=1)
        optional = {n: _field_strategy(specs[n], world) for n in names}
        known = st.fixed_dictionaries({}, optional=optional)  # type: ignore[arg-type]
    rarely_strays = st.one_of(st.just({}), st.just({}), st.just({}), strays)
    return st.builds(lambda a, b: {**b, **a}, known, rarely_strays)


def _format_args(value: st.SearchStrategy[str]) -> dict[str, st.SearchStrategy[str]]:
    """`_format` and `_pretty` mostly as served (any other `_format` is a 406, and the
    fuzz would seldom get past it), now and then anything."""
    return {
        "_format": st.one_of(
            *[st.sampled_from(["json", "application/fhir+json", "fhir+json"])] * 4, value
        ),
        "_pretty": st.one_of(st.sampled_from(["true", "false"]), value),
    }


def _headers(endpoint: str, world: World) -> st.SearchStrategy[dict[str, str]]:
    """FHIR: `Prefer: respond-async` (what $export needs) mostly, an Accept now and then,
    and `If-None-Exist` on create; header values are Latin-1 without line breaks, as HTTP
    carries them."""
    if not endpoint.startswith("fhir."):
        return st.just({})
    header_text = st.one_of(
        *[st.sampled_from(ACCEPTS)] * 4, st.sampled_from(REFUSED_ACCEPTS), anything
    ).map(lambda v: re.sub(r"[\r\n\x00]", "", v).encode("latin-1", "replace").decode("latin-1"))
    prefer = st.sampled_from(["respond-async"] * 4 + ["", "respond-async, handling=strict"])
    optional = {"Accept": header_text}
    if endpoint == "fhir.patient_create":
        optional["If-None-Exist"] = st.one_of(
            st.builds(lambda v: f"identifier={v}", _fhir_value(world)), header_text
        )
    return st.fixed_dictionaries({"Prefer": prefer}, optional=optional)  # type: ignore[arg-type]


def _default_headers(endpoint: str) -> dict[str, str]:
    return {"Prefer": "respond-async"} if endpoint.startswith("fhir.") else {}


def _fhir_patient_fields(world: World) -> dict[str, st.SearchStrategy[Any]]:
    """Each element of a Patient resource: the right shape with junk inside, or junk."""
    text = st.one_of(anything, json_junk)

    def objects(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
        one = st.fixed_dictionaries({}, optional=fields)  # type: ignore[arg-type]
        return st.one_of(st.lists(one, max_size=3), one, json_junk)

    telecom = {"system": st.one_of(st.sampled_from(["phone", "email", "fax"]), text),
               "value": text}  # fmt: skip
    names = {"use": st.one_of(st.just("official"), text), "text": text,
             "given": st.one_of(st.lists(text, max_size=3), text), "family": text}  # fmt: skip
    doctor = str(world.ids["doctor_profile_id"][0])
    practitioner = st.fixed_dictionaries(
        {}, optional={"system": st.one_of(st.just(codes.DOCTOR_SYSTEM), text),
                      "value": st.one_of(st.just(doctor), text)},
    )  # fmt: skip
    emergency = [{"coding": [codes.EMERGENCY_CONTACT.as_fhir()]}]
    return {
        "resourceType": st.one_of(st.sampled_from(["Patient", "Observation", "patient", ""]), text),
        "id": st.one_of(st.sampled_from([str(i) for i in world.ids["patient_id"]]), text),
        "identifier": objects({"system": st.one_of(st.just(codes.MRN_SYSTEM), text),
                               "value": st.one_of(st.sampled_from(world.mrns), text),
                               "use": text}),
        "name": objects(names),
        "gender": st.one_of(st.sampled_from(["female", "male", "other", "unknown"]), text),
        "birthDate": st.one_of(dates, st.sampled_from(["1946", "1946-12", "1946-12-09"]), text),
        "telecom": objects(telecom),
        "address": objects({"text": text, "line": st.one_of(st.lists(text, max_size=2), text),
                            "city": text, "postalCode": text, "country": text}),
        "contact": objects({"relationship": st.one_of(st.just(emergency), json_junk),
                            "name": st.one_of(st.fixed_dictionaries({}, optional=names), text),
                            "telecom": objects(telecom)}),
        "generalPractitioner": objects({"identifier": st.one_of(practitioner, json_junk),
                                        "reference": text, "display": text}),
        "active": st.one_of(st.booleans(), text),
        "meta": json_junk, "text": json_junk, "extension": json_junk,
        "multipleBirthInteger": json_junk, "deceasedBoolean": json_junk,
    }  # type: ignore[arg-type]  # fmt: skip


def _valid_document(
    endpoint: str, world: World, path_values: dict[str, str]
) -> dict[str, Any] | None:
    """A valid JSON body for the endpoint (None: it reads no JSON body)."""
    if endpoint in {"fhir.patient_create", "fhir.patient_update", "fhir.patient_upsert"}:
        patient = {"resourceType": "Patient", "name": [{"use": "official", "text": "Fuzz Ed"}],
                   "gender": "female", "birthDate": "1946-12-09"}  # fmt: skip
        if "patient_id" in path_values:
            patient["id"] = path_values["patient_id"]
        return patient
    if _api_fields(world.app, endpoint, "json"):
        return dict(VALID_JSON.get(endpoint, {}))
    return None


def _body_fields(endpoint: str, world: World) -> dict[str, st.SearchStrategy[Any]]:
    if endpoint.startswith("fhir."):
        return _fhir_patient_fields(world)
    specs = _api_specs(world.app, endpoint, "json")
    return {spec.name: _json_field_strategy(spec, world) for spec in specs}


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8")  # NaN, Infinity: a client may


def _json_type(endpoint: str) -> str:
    return "application/fhir+json" if endpoint.startswith("fhir.") else "application/json"


def _body_strategy(
    endpoint: str, method: str, world: World, path_values: dict[str, str]
) -> st.SearchStrategy[Body | None]:
    if method in {"GET", "DELETE"}:
        return st.none()
    upload = _api_specs(world.app, endpoint, "form_and_files")
    if upload:
        valid_upload = {"files": [(world.csv, "ecg.csv")]}
        return _form_strategy(upload, world, valid_upload).map(lambda form: Body(form, None))
    valid = _valid_document(endpoint, world, path_values)
    if valid is None:  # a POST that reads no body: junk bodies all the same
        documents: st.SearchStrategy[Any] = json_junk
    else:
        strays = st.dictionaries(st.text(max_size=12), json_junk, max_size=2)
        objects = _mapping_strategy(_body_fields(endpoint, world), valid, strays)
        documents = st.one_of(objects, objects, objects, json_junk)
    content_types = st.sampled_from(
        [_json_type(endpoint)] * 6
        + ["application/json", "application/json; charset=latin-1", "text/plain", None]
    )
    encoded = st.builds(Body, documents.map(_json_bytes), content_types)
    raw = st.builds(Body, st.one_of(st.binary(max_size=300), st.sampled_from(RAW_BODIES)),
                    content_types)  # fmt: skip
    return st.one_of(encoded, encoded, encoded, raw)


def _machine_requests(
    app: Flask, endpoint: str, method: str, rule: Rule, world: World
) -> st.SearchStrategy[MachineRequest]:
    roles = _machine_roles(app, endpoint)
    query = _machine_query(app, endpoint, world) if method in {"GET", "PUT"} else st.just({})
    return _path_values(rule, world).flatmap(
        lambda values: st.builds(
            MachineRequest,
            st.just(_build_path(rule, values)),
            query,
            _body_strategy(endpoint, method, world, values),
            _headers(endpoint, world),
            st.sampled_from(roles) if roles else st.none(),
        )
    )


def _machine_probes(
    app: Flask, endpoint: str, method: str, rule: Rule, world: World
) -> Iterator[MachineRequest]:
    """The valid request with one query parameter, or one field of its JSON body, set to
    each probe in turn (an upload also once as it is); and each raw body once."""
    values = {name: str((world.ids.get(name) or [1])[0]) for name in rule.arguments}
    path = _build_path(rule, values)
    roles = _machine_roles(app, endpoint)
    role = roles[0] if roles else None
    headers = _default_headers(endpoint)
    base_query = _default_query(endpoint, world)
    if method in {"GET", "PUT"}:
        for name in _query_names(app, endpoint):
            for text in QUERY_PROBES:
                yield MachineRequest(path, {**base_query, name: text}, None, headers, role)
    upload = _api_specs(app, endpoint, "form_and_files")
    if upload:  # the valid upload itself: the fuzz must reach past the checks at least once
        yield MachineRequest(
            path, {}, Body({"files": [(world.csv, "ecg.csv")]}, None), headers, role
        )
    for spec in upload:
        for text in [] if spec.kind == "file" else QUERY_PROBES:
            form = {"files": [(world.csv, "ecg.csv")], spec.name: text}
            yield MachineRequest(path, {}, Body(form, None), headers, role)
    valid = _valid_document(endpoint, world, values)
    if valid is None or method in {"GET", "DELETE"}:
        return
    kind = _json_type(endpoint)
    for name in [*_body_fields(endpoint, world), "resourceType"]:
        for value in JSON_PROBES:
            body = Body(_json_bytes({**valid, name: value}), kind)
            yield MachineRequest(path, base_query, body, headers, role)
    for raw in RAW_BODIES:
        yield MachineRequest(path, base_query, Body(raw, kind), headers, role)


def _default_query(endpoint: str, world: World) -> dict[str, str]:
    if endpoint == "fhir.patient_upsert":  # its one criterion: an existing patient's MRN
        return {"identifier": f"{codes.MRN_SYSTEM}|{world.mrns[0]}"}
    return {}


def _send_machine(client: FlaskClient, method: str, request: MachineRequest, world: World) -> Any:
    headers = dict(request.headers)
    if request.role is not None:
        headers["Authorization"] = f"Bearer {world.bearer[request.role]}"
    body = request.body
    if body is None:
        return client.open(request.path, method=method, query_string=request.query,
                           headers=headers)  # fmt: skip
    if isinstance(body.data, dict):
        data, multipart = _form_data(body.data)
        return client.open(request.path, method=method, query_string=request.query,
                           headers=headers, data=data,
                           content_type="multipart/form-data" if multipart else None)  # fmt: skip
    return client.open(request.path, method=method, query_string=request.query,
                       headers=headers, data=body.data, content_type=body.content_type)  # fmt: skip


# --- the machine world -------------------------------------------------------------------


def _machine_world(
    app: Flask, people: People, sql: Session, tmp_path: Path, endpoint: str, rule: Rule
) -> World:
    ids = _row_ids(people)
    world = World(app, ids, {}, {}, lambda: "1", _csv_bytes(tmp_path))
    world.mrns = [people.patient.mrn, people.other_patient.mrn, _new_mrn("1234567")]
    for role in _machine_roles(app, endpoint):
        issued = api_tokens.issue(sql, people.by_role(role), client_name=f"fuzz {role.value}",
                                  scopes=sorted(api_tokens.SCOPES), days=30,
                                  actor=people.admin)  # fmt: skip
        world.bearer[role] = issued.secret
    sql.commit()
    reads_reports = {"report_id", "job_id", "observation_id", "binary_id", "version_no"}
    if reads_reports & set(rule.arguments) or endpoint in {
        "fhir.report_search", "fhir.observation_search", "fhir.patient_everything",
        "api_v1.reports.list_reports",
    }:  # fmt: skip
        report_id = _report(app, people, sql, tmp_path, ids, signed=True)
        ids["version_no"] = [2, 1]  # the signed version first: the one every role may read
        ids["binary_id"] = [f"{report_id}-v{v}-{who}" for v in (2, 1)
                            for who in ("clinician", "patient")]  # fmt: skip
        ids["observation_id"] = _observation_ids(app, world)
    if "export_id" in rule.arguments:
        ids["export_id"] = _exports(app, world)
        ids["resource_type"] = [*bulk_export.RESOURCE_TYPES, "Junk"]
    return world


def _new_mrn(digits: str) -> str:
    return f"CP{digits}{patients.luhn_check_digit(digits)}"


def _observation_ids(app: Flask, world: World) -> list[int | str]:
    """The ids of the report's Observations (measurements, scores, waveform windows), as
    the FHIR search gives them."""
    headers = {"Authorization": f"Bearer {world.bearer[Role.STAFF]}"}
    patient = world.ids["patient_id"][0]
    search = f"{FHIR}/Observation?patient=Patient/{patient}&_count=100"
    found = app.test_client().get(search, headers=headers)
    assert found.status_code == 200, found.get_data(as_text=True)[:300]
    return [entry["resource"]["id"] for entry in found.get_json()["entry"]]


def _exports(app: Flask, world: World) -> list[int | str]:
    """One finished export per role (so status, files and cancel have one to answer for),
    and one still queued."""
    client = app.test_client()

    def kick_off(role: Role) -> int:
        headers = {"Authorization": f"Bearer {world.bearer[role]}", "Prefer": "respond-async"}
        answer = client.get(f"{FHIR}/$export", headers=headers)
        assert answer.status_code == 202, answer.get_data(as_text=True)[:300]
        return int(answer.headers["Content-Location"].rsplit("/", 1)[1])

    finished = [kick_off(role) for role in world.bearer]
    assert bulk_export.run_pending(app, "fuzz-world") == len(finished)
    return [*finished, kick_off(next(iter(world.bearer)))]


def _run_fuzzed_exports(app: Flask, people: People, sql: Session, world: World) -> Counter[str]:
    """Run the exports the fuzz started: a kick-off that was accepted must be one the worker
    can carry out (else the client learns of its mistake only as a failed export), and each
    export's status then answers below 500."""
    bulk_export.run_pending(app, "fuzz-exports")
    sql.expire_all()
    jobs = list(sql.scalars(select(BulkExportJob)))
    failed = [(job.id, job.request_url, job.error_message) for job in jobs
              if job.state is JobState.FAILED]  # fmt: skip
    assert not failed, f"accepted kick-offs whose export failed: {failed}"
    owners = {people.by_role(role).id: token for role, token in world.bearer.items()}
    client = app.test_client()
    for job in jobs:
        headers = {"Authorization": f"Bearer {owners[job.requested_by_id]}"}
        status = client.get(f"{FHIR}/$export-status/{job.id}", headers=headers)
        assert status.status_code < 500, (job.id, job.request_url, status.status_code)
    return Counter(job.state.value for job in jobs)


@pytest.mark.parametrize("database_url", ["sqlite", "mariadb"], indirect=True)
@pytest.mark.parametrize(("endpoint", "method", "rule_text"), _machine_routes())
def test_no_input_makes_a_machine_route_answer_5xx(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    fuzz_settings: settings,
    endpoint: str,
    method: str,
    rule_text: str,
) -> None:
    rule = _rule(app, endpoint, rule_text)
    world = _machine_world(app, people, sql, tmp_path, endpoint, rule)
    client = app.test_client()  # no session cookie: the token is the only credential
    answers: Counter[tuple[str, int]] = Counter()

    def one_request(request: MachineRequest) -> None:
        response = _send_machine(client, method, request, world)
        answers[(str(request.role), response.status_code)] += 1
        assert response.status_code < 500, (
            f"{request.describe(method)}: {response.status_code} "
            f"{response.get_data(as_text=True)[:300]}"
        )

    for probe in _machine_probes(app, endpoint, method, rule, world):
        one_request(probe)
    fuzz_settings(given(_machine_requests(app, endpoint, method, rule, world))(one_request))()
    statuses = {status for _, status in answers}
    assert 401 not in statuses, "a token was refused: the fuzz did not reach the view"
    if endpoint in ONLY_REFUSING:
        assert {400, 405} & statuses, f"it never said what is not served: {dict(answers)}"
    else:
        assert min(statuses) < 400, f"no request got past the checks: {dict(answers)}"
    exports = ""
    if endpoint in {"fhir.export_system", "fhir.export_patients"}:
        exports = f"; exports run: {dict(_run_fuzzed_exports(app, people, sql, world))}"
    print(f"{method} {rule_text}: {dict(sorted(answers.items()))}{exports}")
