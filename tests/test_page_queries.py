"""The busy pages at scale: a fixed number of queries per page, the beats read only by the
chart, and MariaDB's plans using the indexes of migration 0009 (`cardio seed-load` data)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal import migrate
from portal.db import make_engine
from portal.models import EcgReport, Patient, ReportBeats, ReportVersion, Sex
from portal.seed_load import SHAPES, seed_load
from portal.services import audit, patients, reports
from portal.services.machine_read import machine_read, machine_summary
from tests.conftest import People, client_for

SHORT_SHAPES = SHAPES[:2]  # 10-s and 60-s recordings: quick to write


def _seed(app: Flask, n_reports: int, people: People | None = None) -> None:
    engine = app.extensions["db_engine"]
    seed_load(engine, app.config["SETTINGS"].storage_dir, reports=n_reports, doctors=2,
              staff=2, shapes=SHORT_SHAPES, progress=False, password="x" * 16)  # fmt: skip
    if people is not None:  # the fixtures' doctor (known two-step secret) gets every patient
        with engine.begin() as connection:
            profile = people.doctor.doctor_profile
            assert profile is not None
            doctor_id = profile.id
            connection.execute(update(Patient).values(assigned_doctor_id=doctor_id))


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _reads_beats_or_analysis(statement: str) -> bool:
    return "report_beats" in statement or "report_version.analysis" in statement


def test_worklist_queries_do_not_grow_with_its_rows(app: Flask, people: People) -> None:
    _seed(app, 60, people)
    engine = app.extensions["db_engine"]
    client = client_for(app, people.doctor)
    counted = {}
    for page in (1, 3):  # 25 rows, then the last 10
        with _statements(engine) as seen:
            response = client.get(f"/worklist?status=all&page={page}")
        assert response.status_code == 200
        rows = response.get_data(as_text=True).count('class="urgency-')
        counted[rows] = len(seen)
        assert not [s for s, _ in seen if _reads_beats_or_analysis(s)]
    assert set(counted) == {25, 10}
    assert counted[25] == counted[10], counted


def test_worklist_of_scores_stale_by_a_corrected_sex_reads_no_row_alone(
    app: Flask, people: People
) -> None:
    """Every seeded score was computed for a woman; corrected to men, each is stale
    (`risk_scores.stale_reason`). Reading when they were corrected (`patient.updated_at`, which
    the worklist does not load) had cost a query per row: 35 statements for 25 rows, 29 for 10
    (FHIR's stale version, 2026-12-07)."""
    _seed(app, 60, people)
    engine = app.extensions["db_engine"]
    with engine.begin() as connection:
        connection.execute(update(Patient).values(sex=Sex.MALE))
    client = client_for(app, people.doctor)
    counted = {}
    for page in (1, 3):  # 25 rows, then the last 10
        with _statements(engine) as seen:
            response = client.get(f"/worklist?status=all&page={page}")
        assert response.status_code == 200
        counted[response.get_data(as_text=True).count('class="urgency-')] = len(seen)
        assert not [s for s, _ in seen if "patient.updated_at" in s]
    assert set(counted) == {25, 10} and counted[25] == counted[10], counted


def test_patient_search_queries_do_not_grow_with_its_rows(app: Flask, people: People) -> None:
    _seed(app, 60)  # 20 patients of two doctors
    engine = app.extensions["db_engine"]
    with Session(engine) as sql:
        mrn = sql.scalar(select(Patient.mrn).order_by(Patient.id.desc()))
    client = client_for(app, people.staff)
    counted = {}
    for query in ("", str(mrn)):
        with _statements(engine) as seen:
            response = client.get(f"/patients/?q={query}")
        assert response.status_code == 200
        rows = len(re.findall(r'href="/patients/\d+"', response.get_data(as_text=True)))
        counted[rows] = len(seen)
    assert len(counted) == 2 and min(counted) == 1, counted
    assert len(set(counted.values())) == 1, counted


def test_pages_read_no_beats_and_the_chart_does(app: Flask, people: People) -> None:
    _seed(app, 12, people)
    engine = app.extensions["db_engine"]
    sql = Session(engine)
    report_id = sql.scalar(select(EcgReport.id).order_by(EcgReport.id))
    doctor, admin = client_for(app, people.doctor), client_for(app, people.admin)
    for client, url in (
        (doctor, f"/reports/{report_id}"),
        (doctor, "/patients/?q=a"),
        (admin, "/admin/audit"),
        (admin, "/admin/audit?user=load-staff-001"),
    ):
        with _statements(engine) as seen:
            assert client.get(url).status_code == 200, url
        assert not [s for s, _ in seen if "report_beats" in s], url
    with _statements(engine) as seen:
        chart = doctor.get(f"/reports/{report_id}/ecg.json?start_s=0&end_s=10")
    assert chart.status_code == 200
    assert chart.get_json()["beats"]["t_s"], "the chart's window has its beats"
    assert [s for s, _ in seen if "report_beats" in s]

    report = sql.get(EcgReport, report_id)
    assert report is not None
    full, summary = machine_read(report), machine_summary(report)
    stored = sql.get(ReportBeats, report.versions[0].id)
    assert stored is not None and full.beats.samples.size == stored.n_beats > 0
    assert summary.beats.samples.size == 0 and summary.findings == full.findings
    assert "beats" not in (report.versions[0].analysis or {})
    sql.close()


def test_seeded_audit_rows_are_chained(app: Flask) -> None:
    _seed(app, 30)
    with Session(app.extensions["db_engine"]) as sql:
        check = audit.verify_chain(sql)
        assert check.ok, check.broken
        assert check.rows >= 30 * 2  # at least each report's upload and analysis


def test_migration_0009_moves_the_beats_and_back(empty_database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        seed_load(engine, tmp_path, reports=6, doctors=1, staff=1, shapes=SHORT_SHAPES,
                  progress=False, password="x" * 16)  # fmt: skip
        with Session(engine) as sql:
            before = {r.report_version_id: r.beats for r in sql.scalars(select(ReportBeats))}
        assert len(before) == 6
        migrate.downgrade(empty_database_url, "0008")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, analysis FROM report_version WHERE analysis IS NOT NULL")
            ).all()
        import json

        documents = {r.id: json.loads(r.analysis) if isinstance(r.analysis, str) else r.analysis
                     for r in rows}  # fmt: skip
        assert {i: d["beats"] for i, d in documents.items()} == before
        migrate.upgrade(empty_database_url)
        with Session(engine) as sql:
            after = {r.report_version_id: r.beats for r in sql.scalars(select(ReportBeats))}
            assert after == before
            for version in sql.scalars(select(ReportVersion).where(ReportVersion.version_no == 1)):
                assert "beats" not in (version.analysis or {})
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- MariaDB plans

REPORT_TABLES = {"ecg_report", "report_version", "report_beats", "risk_score", "audit_event"}


def _plans(engine: Engine, seen: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """EXPLAIN of every SELECT the page ran (the chain head's lock aside)."""
    plans = []
    with engine.connect() as connection:
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith("SELECT") or "FOR UPDATE" in statement:
                continue
            for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters).mappings():
                plans.append({**row, "sql": re.sub(r"\s+", " ", statement)[:120]})
    return plans


def _check(plans: list[dict[str, Any]], *, uses: set[str]) -> None:
    scans = [p for p in plans if p["table"] in REPORT_TABLES and p["type"] == "ALL"]
    assert not scans, f"full scans of report tables: {scans}"
    used = {p["key"] for p in plans}
    assert uses <= used, f"expected {uses} among the indexes used {used}"


@pytest.mark.mariadb
def test_mariadb_plans_use_the_indexes(mariadb_host_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_settings
    from tests.support.mariadb import create_database

    url = create_database(mariadb_host_url, "cardio_plans")
    migrate.upgrade(url)
    from portal import create_app

    app = create_app(make_settings(url, tmp_path), TESTING=True)
    engine = app.extensions["db_engine"]
    try:
        seed_load(engine, tmp_path / "storage", reports=6000, doctors=8, staff=2,
                  shapes=SHORT_SHAPES, progress=False, password="x" * 16)  # fmt: skip
        with engine.begin() as connection:
            for table in ("ecg_report", "patient", "audit_event", "report_version"):
                connection.exec_driver_sql(f"ANALYZE TABLE {table}")
        with Session(engine) as sql:
            from portal.models import Account, Role

            staff = sql.scalar(select(Account).where(Account.role == Role.STAFF))
            doctor = sql.scalar(select(Account).where(Account.role == Role.DOCTOR))
            assert staff is not None and doctor is not None
            doctor.doctor_profile  # noqa: B018 (loaded before counting)
            cases = [
                (lambda: reports.worklist(sql, staff),
                 {"ix_ecg_report_status_urgency_report_date"}),
                (lambda: reports.worklist(sql, staff, status="final", page=3),
                 {"ix_ecg_report_status_urgency_report_date"}),
                (lambda: reports.worklist(sql, staff, status="all", page=2),
                 {"ix_ecg_report_urgency_report_date"}),
                (lambda: reports.worklist(sql, doctor),
                 {"ix_patient_assigned_doctor_id", "ix_ecg_report_patient_id_status"}),
                (lambda: patients.search_patients(sql, staff, text="mar"),
                 {"ix_patient_is_active_name_folded_full_name_mrn"}),
                (lambda: audit.search(sql), {"ix_audit_event_occurred_at"}),
                (lambda: audit.search(sql, username="load-doctor-001"),
                 {"ix_audit_event_actor_username_occurred_at"}),
            ]  # fmt: skip
            for run, indexes in cases:
                with _statements(engine) as seen:
                    run()
                _check(_plans(engine, seen), uses=indexes)
    finally:
        engine.dispose()
