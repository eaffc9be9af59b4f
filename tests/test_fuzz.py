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

SQLite only: the MariaDB backend runs the same code paths, and the fuzz would take several
times longer there. Set CARDIO_FUZZ_EXAMPLES to fuzz harder (default 30 per route and method),
and CARDIO_FUZZ_RANDOM=1 for a new random run (by default the run is derandomized: the same
examples every time, so a failure in CI is reproducible).
"""

from __future__ import annotations

import dataclasses
import html
import io
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
from portal.models import AnalysisJob, EcgReport, Role
from portal.patients.forms import ClinicalInputEntryForm, PatientForm
from portal.recordings.forms import LibraryForm, UploadForm
from portal.review.forms import AmendForm, SignForm
from portal.services import reports
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
    "admin.audit_log": ["user", "action", "mrn", "from", "to", "page"],
    "patients.index": ["q", "page", "inactive"],
    "review.ecg_json": ["overview", "start_s", "end_s"],
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
    ids: dict[str, list[int]]
    clients: dict[Role | str, FlaskClient]
    tokens: dict[Role | str, str]
    row_version: Callable[[], str]
    csv: bytes  # a valid 30-s CSV recording


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
    return next(r for r in app.url_map.iter_rules() if r.rule == rule_text)


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
    scratch = st.fixed_dictionaries({}, optional=strategies)  # type: ignore[arg-type]
    strays = st.dictionaries(st.sampled_from(["x", "action", "next", "id"]), anything, max_size=2)
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

    def build(values: dict[str, str]) -> str:
        return re.sub(
            r"<(?:[^:>]+:)?([^>]+)>", lambda m: quote(values[m.group(1)], safe=""), rule.rule
        )

    return st.fixed_dictionaries(parts).map(build)


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
    data: dict[str, Any] = {}
    multipart = False
    for name, value in form.items():
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            data[name] = [(io.BytesIO(content), filename) for content, filename in value]
            multipart = True
        else:
            data[name] = value
    data["csrf_token"] = token
    return client.open(
        path,
        method=method,
        data=data,
        content_type="multipart/form-data" if multipart else None,
    )


# --- the world ---------------------------------------------------------------------------


def _world(
    app: Flask, people: People, sql: Session, tmp_path: Path, endpoint: str, rule: Rule
) -> World:
    ids: dict[str, list[int]] = {
        "patient_id": [people.patient.id, people.other_patient.id],
        "account_id": [
            a.id for a in (people.staff, people.doctor, people.other_doctor, people.patient_account)
        ],
        "doctor_profile_id": [people.doctor.doctor_profile.id],
    }
    needs_report = bool({"report_id", "job_id"} & set(rule.arguments)) or endpoint in {
        "review.worklist",
        "myhealth.reports",
    }
    report_id = None
    if needs_report:
        report = _analysed_report(app, people, sql, tmp_path)
        report_id = report.id
        ids["report_id"] = [report.id]
        ids["job_id"] = list(sql.scalars(select(AnalysisJob.id)))
        if endpoint.startswith("myhealth.") or endpoint == "review.amend":
            read = reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Normal ECG.")
            reports.sign(sql, report, actor=people.doctor, password=PASSWORD,
                         expected_row_version=report.row_version, read=read)  # fmt: skip
            sql.commit()

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
@pytest.mark.parametrize(("endpoint", "method", "rule_text"), _routes())
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
