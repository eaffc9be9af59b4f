"""Alembic: upgrade -> downgrade -> upgrade on SQLite and MariaDB; models == migration head."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, bindparam, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ml import rhythm
from portal import migrate
from portal.db import make_engine
from portal.models import Base, EcgRecording, utcnow
from portal.name_search import folded
from portal.seed_load import SHAPES, seed_load

EXPECTED_TABLES = set(Base.metadata.tables) | {"alembic_version"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) == EXPECTED_TABLES
    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) == EXPECTED_TABLES


def test_models_and_migration_head_do_not_differ(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert _differences(empty_database_url) == []


def test_mysql_tables_are_utf8mb4_innodb(empty_database_url: str) -> None:
    if not empty_database_url.startswith("mysql"):
        return  # a property of the MySQL dialect only; SQLite stores UTF-8 always
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        inspector = inspect(engine)
        for table in Base.metadata.tables:
            options = inspector.get_table_options(table)
            assert options["mysql_engine"] == "InnoDB", table
            assert options["mysql_default charset"] == "utf8mb4", table
    finally:
        engine.dispose()


def test_every_foreign_key_is_indexed_and_constraint_names_fit_mysql() -> None:
    for table in Base.metadata.tables.values():
        indexed_first_columns = {index.columns[0].name for index in table.indexes if index.columns}
        indexed_first_columns |= {
            list(c.columns)[0].name
            for c in table.constraints
            if c.__class__.__name__ in {"UniqueConstraint", "PrimaryKeyConstraint"} and c.columns
        }
        for foreign_key in table.foreign_keys:
            assert foreign_key.parent.name in indexed_first_columns, (
                table.name,
                foreign_key.parent.name,
            )
        for constraint in [*table.constraints, *table.indexes]:
            assert constraint.name is None or len(str(constraint.name)) <= 64, constraint.name


def test_0012_existing_recordings_have_no_pacemaker_and_downgrade_drops_it(
    empty_database_url: str,
) -> None:
    """Recordings uploaded before the pacemaker flag existed read as without one."""
    migrate.upgrade(empty_database_url, "0011")
    engine = make_engine(empty_database_url)
    now = "2026-12-01 08:00:00"
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO account (id, username, password_hash, role, is_active, "
                    "must_change_password, session_epoch, failed_logins, updated_at, created_at) "
                    "VALUES (1, 'staff', 'x', 'staff', 1, 0, 0, 0, :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO patient (id, mrn, full_name, date_of_birth, sex, is_active, "
                    "created_by_id, updated_at, created_at) "
                    "VALUES (1, 'CP0000000', 'Before 0012', '1950-01-01', 'female', 1, 1, "
                    ":now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO ecg_recording (id, patient_id, uploaded_by_id, sha256, "
                    "original_filename, file_format, size_bytes, sampling_rate_hz, lead_names, "
                    "n_samples, duration_s, created_at) VALUES (1, 1, 1, :sha, '107.hea', "
                    "'wfdb', 10, 360, '[\"MLII\"]', 3600, 10, :now)"
                ),
                {"sha": "0" * 64, "now": now},
            )
            connection.execute(  # a row that refers to the recording: the downgrade keeps it
                text(
                    "INSERT INTO analysis_job (id, recording_id, requested_by_id, state, "
                    "attempts, max_attempts, progress_pct, created_at) "
                    "VALUES (1, 1, 1, 'queued', 0, 3, 0, :now)"
                ),
                {"now": now},
            )
        migrate.upgrade(empty_database_url)
        with Session(engine) as session:
            recording = session.get(EcgRecording, 1)
            assert recording is not None and recording.pacemaker is False
            recording.pacemaker = True
            session.commit()
        migrate.downgrade(empty_database_url, "0011")
        columns = {c["name"] for c in inspect(engine).get_columns("ecg_recording")}
        assert "pacemaker" not in columns and "reference_record" in columns
        with engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM ecg_recording")).scalar() == 1
            assert connection.execute(text("SELECT COUNT(*) FROM analysis_job")).scalar() == 1
    finally:
        engine.dispose()


def test_0013_widens_the_rhythm_line_and_keeps_what_it_holds(
    empty_database_url: str, tmp_path: Path
) -> None:
    """The machine's headline runs to 95 characters and 80 cut it mid-word; 0013 keeps every
    stored line, and its downgrade cuts only lines over 80 (MariaDB refuses them otherwise)."""
    migrate.upgrade(empty_database_url, "0012")
    engine = make_engine(empty_database_url)
    try:
        seed_load(engine, tmp_path, reports=2, doctors=1, staff=1, shapes=SHAPES[:1],
                  progress=False, password="x" * 16)  # fmt: skip
        before = _rhythm_lines(engine)
        assert before and all(0 < len(line) <= 80 for line in before.values())
        migrate.upgrade(empty_database_url)
        assert _rhythm_lines(engine) == before
        headline = rhythm.headline(
            [rhythm.Episode(rhythm.COMPLETE_BLOCK, 0.0, 118.0, 80),
             rhythm.Episode(rhythm.VF, 50.0, 60.0, 0)], rhythm.VF,
        )  # fmt: skip
        assert len(headline) > 80
        first = min(before)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE report_version SET rhythm_label = :line WHERE id = :id"),
                {"line": headline, "id": first},
            )
        assert _rhythm_lines(engine)[first] == headline
        migrate.downgrade(empty_database_url, "0012")
        assert _rhythm_lines(engine) == {**before, first: headline[:80]}
        migrate.upgrade(empty_database_url)
        assert _differences(empty_database_url) == []
    finally:
        engine.dispose()


@contextmanager
def _seeded_at(url: str, revision: str, tmp_path: Path, reports: int) -> Iterator[Engine]:
    """A database at `revision` holding `reports` seeded reports, for the body to upgrade and
    check; then the next migration must go down to `revision` and up again to the models."""
    migrate.upgrade(url, revision)
    engine = make_engine(url)
    try:
        seed_load(engine, tmp_path, reports=reports, doctors=1, staff=1, shapes=SHAPES[:1],
                  progress=False, password="x" * 16)  # fmt: skip
        yield engine
        migrate.downgrade(url, revision)
        migrate.upgrade(url)
        assert _differences(url) == []
    finally:
        engine.dispose()


def test_0015_folds_the_names_of_patients_already_registered(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Patients registered before 0015 are found by the folded search too."""
    with _seeded_at(empty_database_url, "0014", tmp_path, reports=2) as engine:
        with engine.begin() as connection:
            connection.execute(text("UPDATE patient SET full_name = 'José Núñez' WHERE id = 1"))
        migrate.upgrade(empty_database_url)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT full_name, name_folded FROM patient")).all()
        assert rows and all(name_folded == folded(name) for name, name_folded in rows)
        assert ("José Núñez", "jose nunez") in rows


def test_0016_reports_signed_before_it_are_the_patients_from_their_signature(
    empty_database_url: str, tmp_path: Path
) -> None:
    with _seeded_at(empty_database_url, "0015", tmp_path, reports=3) as engine:
        migrate.upgrade(empty_database_url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT signed_at, patient_release_at FROM ecg_report")
            ).all()
        assert rows and all(released == signed for signed, released in rows)


def test_0017_amendments_signed_before_it_replaced_a_version_the_patient_saw(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Before 0016 every signed version was the patient's from its signature: an amendment's
    `previous_release_at` is the signature of the version it replaced."""
    with _seeded_at(empty_database_url, "0016", tmp_path, reports=12) as engine:
        migrate.upgrade(empty_database_url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT report_id, version_no, signed_at, previous_release_at "
                     "FROM report_version ORDER BY report_id, version_no")
            ).all()  # fmt: skip
        signed = {(r.report_id, r.version_no): r.signed_at for r in rows}
        amended = [r for r in rows if r.version_no > 2]
        assert amended, "no amended report among the twelve"
        for row in rows:
            before = signed.get((row.report_id, row.version_no - 1)) if row.version_no > 2 else None
            assert row.previous_release_at == before, row


def _rhythm_lines(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, rhythm_label FROM report_version")).all()
    return {row.id: row.rhythm_label for row in rows if row.rhythm_label is not None}


@pytest.mark.parametrize("empty_database_url", ["mariadb"], indirect=True)
def test_two_migrations_at_once_take_turns(empty_database_url: str) -> None:
    """The app container's start and a `docker compose run ... cardio create-user` beside it
    migrate at once: one died with "Table 'account' already exists" (an ops audit). A named
    lock makes the second wait and find the schema up to date."""
    import subprocess
    import sys

    code = f"from portal import migrate; migrate.upgrade({empty_database_url!r})"
    runs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # two processes, as two containers: Alembic's context is one per process
    for run in runs:
        _, errors = run.communicate(timeout=300)
        assert run.returncode == 0, errors[-3000:]
    assert _differences(empty_database_url) == []


def test_two_init_db_at_once_on_one_sqlite_file_take_turns(tmp_path: Path) -> None:
    """Two `cardio init-db` at once on one SQLite file: one died, 3 of 3 times, with exit 2
    and "The database answered with an error retrying cannot mend: table account already
    exists. A restore onto a database that was not empty?" (an operations audit). A file lock
    beside the database makes the second wait and find the schema up to date."""
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'c.db'}"
    env = {**os.environ, "CARDIO_ENV": "development", "INSTANCE_DIR": str(tmp_path),
           "DATABASE_URL": url}  # fmt: skip
    cardio = Path(sys.executable).with_name("cardio")
    for attempt in range(3):  # the race was lost every time; three rounds to be sure
        (tmp_path / "c.db").unlink(missing_ok=True)
        runs = [
            subprocess.Popen([str(cardio), "init-db"], env=env, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        for run in runs:
            _, errors = run.communicate(timeout=300)
            assert run.returncode == 0, f"round {attempt}: {errors[-3000:]}"
        engine = make_engine(url)
        with engine.connect() as connection:
            at = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        engine.dispose()
        assert at == migrate.head_revision()
        assert _differences(url) == []


def test_0019_stores_a_grace_category_naming_both_acs_bands(
    empty_database_url: str, tmp_path: Path
) -> None:
    """A GRACE category for both ACS types runs to 41 characters, which MariaDB refused in the
    32 the column had; the downgrade cuts it to 32 (MariaDB refuses longer ones there)."""
    both = "NSTE-ACS intermediate, STEMI intermediate"
    with _seeded_at(empty_database_url, "0018", tmp_path, reports=2) as engine:
        migrate.upgrade(empty_database_url)
        with engine.begin() as connection:
            first = connection.execute(text("SELECT MIN(id) FROM risk_score")).scalar()
            connection.execute(
                text("UPDATE risk_score SET category = :both WHERE id = :id"),
                {"both": both, "id": first},
            )
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT category FROM risk_score WHERE id = :id"), {"id": first}
            ).scalar()
        assert stored == both


def test_0020_ranks_st_elevation_and_complete_heart_block_as_emergencies(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Reports read before 0020 with a high ST elevation or complete heart block as their main
    finding had ranked "High" (3), below AF; they move to "Emergency" (0), and back on the
    downgrade. Other reports keep their rank."""
    with _seeded_at(empty_database_url, "0019", tmp_path, reports=6) as engine:
        with engine.begin() as connection:
            ids = [r.id for r in connection.execute(text("SELECT id FROM ecg_report ORDER BY id"))]
            for report_id, (finding, urgency) in zip(ids, [
                ("ST_ELEVATION", 3), ("AV_BLOCK_3", 3), ("ST_ELEVATION", 4), ("AF", 1),
                ("ST_ELEVATION", 1), ("AV_BLOCK_3", 2),  # beside AF, beside a pause
            ], strict=True):  # fmt: skip
                connection.execute(
                    text("UPDATE ecg_report SET main_finding = :f, urgency = :u WHERE id = :id"),
                    {"f": finding, "u": urgency, "id": report_id},
                )

        def ranks() -> list[int]:
            with engine.connect() as connection:
                return list(connection.execute(text("SELECT urgency FROM ecg_report ORDER BY id"))
                            .scalars())  # fmt: skip

        migrate.upgrade(empty_database_url)
        assert ranks() == [0, 0, 4, 1, 0, 0]  # a medium ST elevation stays medium
        migrate.downgrade(empty_database_url, "0019")
        assert ranks() == [3, 3, 4, 1, 3, 3]


def test_0023_lets_a_report_be_entered_in_error_and_keeps_the_reports(
    empty_database_url: str, tmp_path: Path
) -> None:
    """The status's CHECK constraint takes "entered-in-error" (on SQLite widened in place: a
    copy of the table is refused by its versions' foreign keys); the reports stay, and the
    downgrade narrows it again once none is withdrawn."""
    import pytest

    withdraw = text(
        "UPDATE ecg_report SET status = 'entered-in-error', withdrawn_reason = 'wrong patient' "
        "WHERE id = (SELECT MIN(id) FROM ecg_report)"
    )
    with _seeded_at(empty_database_url, "0022", tmp_path, reports=3) as engine:
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text("UPDATE ecg_report SET status = 'entered-in-error'"))
        migrate.upgrade(empty_database_url)
        with engine.begin() as connection:
            connection.execute(withdraw)
        with engine.connect() as connection:
            statuses = connection.execute(text("SELECT status FROM ecg_report ORDER BY id"))
            assert list(statuses.scalars())[0] == "entered-in-error"
            assert connection.execute(text("SELECT COUNT(*) FROM ecg_report")).scalar() == 3
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text("UPDATE ecg_report SET status = 'withdrawn'"))
        with engine.begin() as connection:
            connection.execute(text("UPDATE ecg_report SET status = 'final'"))
        migrate.downgrade(empty_database_url, "0022")
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text("UPDATE ecg_report SET status = 'entered-in-error'"))


def _revision(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar())


def test_a_downgrade_past_0023_refuses_before_it_loses_a_withdrawal(
    empty_database_url: str, tmp_path: Path
) -> None:
    """With a report withdrawn as entered in error, `alembic downgrade 0022` on MariaDB had
    dropped why, who and when, then failed at the narrower CHECK with its revision still 0023:
    the next `cardio init-db` said up to date and every page answered 503 (an ops audit). It
    refuses first, and the database stays whole at 0023."""
    from alembic.util import CommandError

    with _seeded_at(empty_database_url, "0022", tmp_path, reports=3) as engine:
        migrate.upgrade(empty_database_url)
        with engine.begin() as connection:
            connection.execute(text(
                "UPDATE ecg_report SET status = 'entered-in-error', withdrawn_reason = 'wrong "
                "patient', withdrawn_at = signed_at WHERE id = (SELECT MIN(id) FROM ecg_report)"
            ))  # fmt: skip
        with pytest.raises(CommandError, match=r"^1 report\(s\) are entered in error; a downg"):
            migrate.downgrade(empty_database_url, "0022")
        assert _revision(engine) == "0023"
        with engine.connect() as connection:
            kept = connection.execute(text(
                "SELECT status, withdrawn_reason, withdrawn_at FROM ecg_report "
                "WHERE withdrawn_reason IS NOT NULL"
            )).one()  # fmt: skip
        assert kept.status == "entered-in-error" and kept.withdrawn_at is not None
        migrate.upgrade(empty_database_url)
        assert _differences(empty_database_url) == []
        with engine.begin() as connection:  # for the downgrade the fixture makes
            connection.execute(text("UPDATE ecg_report SET status = 'final'"))


def test_a_downgrade_past_0016_refuses_to_release_a_held_report(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0016's upgrade makes every report the patient's from its signature: a report held for
    a talk first (VF, 72 h) went down and up again and reached its patient at once (an ops
    audit). The hold cannot be worked out again, so the downgrade refuses while one is held."""
    from alembic.util import CommandError

    with _seeded_at(empty_database_url, "0015", tmp_path, reports=3) as engine:
        migrate.upgrade(empty_database_url)
        hold = (
            "UPDATE ecg_report SET patient_release_at = :until "
            "WHERE id = (SELECT MIN(id) FROM ecg_report WHERE signed_at IS NOT NULL)"
        )
        with engine.begin() as connection:
            connection.execute(text(hold), {"until": utcnow() + dt.timedelta(hours=72)})
        with pytest.raises(CommandError, match=r"^1 report\(s\) are held from their patient"):
            migrate.downgrade(empty_database_url, "0015")
        assert _revision(engine) == "0016"
        with engine.connect() as connection:
            releases = (
                connection.execute(
                    text("SELECT patient_release_at FROM ecg_report").columns(
                        patient_release_at=DateTime
                    )
                )
                .scalars()
                .all()
            )
        assert any(r is not None and r > utcnow() for r in releases)
        migrate.upgrade(empty_database_url)
        with engine.begin() as connection:  # the hold over: the fixture's downgrade may go
            connection.execute(text(hold), {"until": utcnow() - dt.timedelta(hours=1)})


def test_a_downgrade_past_0021_or_0025_refuses_to_lose_what_a_signature_kept(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0021's downgrade dropped each signed version's `patient_risk`, the figure its patient
    summary gave, and 0025's its `risk_figures`, silently: neither can be worked out again
    (an operations audit). Each refuses as 0016's and 0023's do, and the database stays at it."""
    from alembic.util import CommandError

    with _seeded_at(empty_database_url, "0020", tmp_path, reports=3) as engine:
        migrate.upgrade(empty_database_url)
        one_signed = "(SELECT MIN(id) FROM report_version WHERE signed_at IS NOT NULL)"
        with engine.begin() as connection:
            connection.execute(text(
                "UPDATE report_version SET patient_risk = 'About 11 of 100 people ...', "
                f"risk_figures = '{{\"framingham_general_cvd\": {{\"percent\": 11.2}}}}' "
                f"WHERE id = {one_signed}"
            ))  # fmt: skip
        with pytest.raises(CommandError, match=r"^1 signed report version\(s\) keep their risk "):
            migrate.downgrade(empty_database_url, "0020")
        assert _revision(engine) == "0025"
        with engine.begin() as connection:
            connection.execute(text("UPDATE report_version SET risk_figures = NULL"))
        with pytest.raises(CommandError, match=r"^1 signed report version\(s\) keep the risk fi"):
            migrate.downgrade(empty_database_url, "0020")
        assert _revision(engine) == "0021"
        with engine.connect() as connection:
            kept = connection.execute(
                text("SELECT patient_risk FROM report_version WHERE patient_risk IS NOT NULL")
            ).scalar_one()
        assert kept == "About 11 of 100 people ..."
        migrate.upgrade(empty_database_url)
        with engine.begin() as connection:  # for the downgrade the fixture makes
            connection.execute(text("UPDATE report_version SET patient_risk = NULL"))


def test_0024_says_earlier_withdrawals_were_of_the_wrong_patient(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Every withdrawal before it was of a recording filed under the wrong patient (the only
    kind there was); the kind's CHECK refuses another value; the downgrade drops the columns."""
    import pytest

    with _seeded_at(empty_database_url, "0023", tmp_path, reports=2) as engine:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE ecg_report SET status = 'entered-in-error', withdrawn_reason = 'x' "
                    "WHERE id = (SELECT MIN(id) FROM ecg_report)"
                )
            )
        migrate.upgrade(empty_database_url, "0024")
        with engine.connect() as connection:
            kinds = connection.execute(text("SELECT withdrawn_kind FROM ecg_report ORDER BY id"))
            assert list(kinds.scalars()) == ["wrong-patient", None]
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text("UPDATE ecg_report SET withdrawn_kind = 'other'"))
        migrate.downgrade(empty_database_url, "0023")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("ecg_report")}
            assert not columns & {"withdrawn_kind", "read_at_hz", "read_in_units"}


def test_0026_ranks_reports_withdrawn_before_it_last(
    empty_database_url: str, tmp_path: Path
) -> None:
    """A report withdrawn as entered in error before 0026 kept its signed rank (an ST
    elevation topped the worklist as an emergency); it moves to 6 (Withdrawn, last), and to 5
    (Routine), the last rank the code before knows, on the downgrade. Others keep theirs."""
    with _seeded_at(empty_database_url, "0025", tmp_path, reports=3) as engine:
        with engine.begin() as connection:
            connection.execute(text("UPDATE ecg_report SET urgency = 0, status = 'final'"))
            connection.execute(
                text("UPDATE ecg_report SET status = 'entered-in-error' "
                     "WHERE id = (SELECT MIN(id) FROM (SELECT id FROM ecg_report) AS ids)")
            )  # fmt: skip

        def ranks() -> list[int]:
            with engine.connect() as connection:
                return list(connection.execute(text("SELECT urgency FROM ecg_report ORDER BY id"))
                            .scalars())  # fmt: skip

        migrate.upgrade(empty_database_url)
        assert ranks() == [6, 0, 0]
        migrate.downgrade(empty_database_url, "0025")
        assert ranks() == [5, 0, 0]


def test_0027_composes_names_stored_decomposed(empty_database_url: str, tmp_path: Path) -> None:
    """Names sent decomposed ("Rene\u0301e") were stored so before the portal composed them,
    and FHIR's name:exact, which compares composed names, still missed those patients; 0027
    composes the patient's and the emergency contact's names."""
    decomposed = "Rene\u0301e Dubois"
    with _seeded_at(empty_database_url, "0026", tmp_path, reports=2) as engine:
        with engine.begin() as connection:
            ids = list(connection.execute(text("SELECT id FROM patient ORDER BY id")).scalars())
            connection.execute(
                text("UPDATE patient SET emergency_contact_name = :n WHERE id = :id"),
                {"n": "Jose\u0301 Dubois", "id": ids[0]},
            )
            connection.execute(
                text("UPDATE patient SET full_name = :n WHERE id = :id"),
                {"n": decomposed, "id": ids[0]},
            )
        migrate.upgrade(empty_database_url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT full_name, emergency_contact_name FROM patient ORDER BY id")
            ).all()
        assert tuple(rows[0]) == ("Ren\u00e9e Dubois", "Jos\u00e9 Dubois")


@contextmanager
def _signed_version_at_0004(url: str) -> Iterator[Engine]:
    """A database at 0004 holding one signed report version, written row by row (the seeded
    load needs later revisions, and SQLite cannot go down to 0004 with its accounts); the
    body's downgrade must leave it at 0003 or 0002, and it goes up again to the models."""
    migrate.upgrade(url, "0004")
    engine = make_engine(url)
    now = {"now": utcnow()}
    rows = (
        "INSERT INTO account (id, username, password_hash, role, is_active, "
        "must_change_password, session_epoch, updated_at, created_at) "
        "VALUES (1, 'doc', 'x', 'doctor', 1, 0, 0, :now, :now)",
        "INSERT INTO patient (id, mrn, full_name, date_of_birth, sex, is_active, created_by_id, "
        "updated_at, created_at) VALUES (1, 'CP1', 'A B', '1950-01-01', 'female', 1, 1, :now, "
        ":now)",
        "INSERT INTO ecg_recording (id, patient_id, uploaded_by_id, sha256, original_filename, "
        "file_format, size_bytes, sampling_rate_hz, lead_names, n_samples, duration_s, "
        "created_at) VALUES (1, 1, 1, 'ab', 'ecg.csv', 'csv', 1, 250, '[\"II\"]', 2500, 10, :now)",
        "INSERT INTO analysis_job (id, recording_id, requested_by_id, state, attempts, "
        "max_attempts, progress_pct, created_at) VALUES (1, 1, 1, 'succeeded', 1, 3, 100, :now)",
        "INSERT INTO ecg_report (id, patient_id, recording_id, job_id, status, report_date, "
        "row_version, updated_at, created_at, signed_at) "
        "VALUES (1, 1, 1, 1, 'final', :now, 2, :now, :now, :now)",
        "INSERT INTO report_version (id, report_id, version_no, kind, author_id, signed_at, "
        "conclusion, created_at, patient_comment, next_steps, next_steps_note) VALUES (1, 1, 1, "
        "'physician', 1, :now, 'Sinus rhythm.', :now, 'Your ECG is normal.', '[\"ROUTINE\"]', "
        "'Holter in 3 months')",
    )
    try:
        with engine.begin() as connection:
            for row in rows:
                connection.execute(text(row), now)
        yield engine
        migrate.upgrade(url)
        assert _differences(url) == []
    finally:
        engine.dispose()


def test_a_downgrade_past_0003_refuses_to_lose_the_doctors_comment_for_the_patient(
    empty_database_url: str,
) -> None:
    """0003's downgrade dropped each signed version's comment for the patient silently (an
    operations audit). It refuses as 0016's and 0023's do, and the database stays at 0003;
    with no comment kept it goes down as before."""
    from alembic.util import CommandError

    with _signed_version_at_0004(empty_database_url) as engine:
        with engine.begin() as connection:  # 0004's refusal is the next test's
            connection.execute(text("UPDATE report_version SET next_steps = NULL, "
                                    "next_steps_note = NULL"))  # fmt: skip
        refused = r"^1 report version\(s\) keep their doctor's comment for the patient; a "
        with pytest.raises(CommandError, match=refused + "downgrade past 0003 would lose it"):
            migrate.downgrade(empty_database_url, "0002")
        assert _revision(engine) == "0003"
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT patient_comment FROM report_version"))
            assert kept.scalar_one() == "Your ECG is normal."
        with engine.begin() as connection:
            connection.execute(text("UPDATE report_version SET patient_comment = ''"))
        migrate.downgrade(empty_database_url, "0002")  # an empty comment holds nothing
        assert _revision(engine) == "0002"


def test_a_downgrade_past_0004_refuses_to_lose_the_next_steps_a_doctor_ordered(
    empty_database_url: str,
) -> None:
    """0004's downgrade dropped the next steps each signing doctor ordered silently (an
    operations audit). It refuses, and the database stays at 0004; with none ordered (an
    empty list, as a signature without next steps stores) it goes down as before."""
    from alembic.util import CommandError

    refused = r"^1 report version\(s\) keep the next steps their doctor ordered; a downgrade "
    with _signed_version_at_0004(empty_database_url) as engine:
        with pytest.raises(CommandError, match=refused + "past 0004 would lose them"):
            migrate.downgrade(empty_database_url, "0003")
        assert _revision(engine) == "0004"
        with engine.begin() as connection:  # the note alone
            connection.execute(text("UPDATE report_version SET next_steps = '[]'"))
        with pytest.raises(CommandError, match=refused):
            migrate.downgrade(empty_database_url, "0003")
        assert _revision(engine) == "0004"
        with engine.begin() as connection:
            connection.execute(text("UPDATE report_version SET next_steps_note = NULL"))
        migrate.downgrade(empty_database_url, "0003")
        assert _revision(engine) == "0003"


def test_a_downgrade_past_0017_refuses_to_lose_a_release_other_than_the_signature(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0017's downgrade dropped when the version an amendment replaced reached the patient;
    up again, the upgrade set it to that version's signature, and a version held from the
    patient (never released) read as seen (an operations audit). It refuses for a release
    the upgrade cannot give back; those it gives back go down as before (the fixture's)."""
    from alembic.util import CommandError

    with _seeded_at(empty_database_url, "0016", tmp_path, reports=12) as engine:
        migrate.upgrade(empty_database_url)
        with engine.connect() as connection:
            amended = connection.execute(text(
                "SELECT id, previous_release_at FROM report_version WHERE version_no = 3 "
                "ORDER BY id LIMIT 1"
            ).columns(previous_release_at=DateTime)).one()  # fmt: skip
        assert amended.previous_release_at is not None
        release = "UPDATE report_version SET previous_release_at = :at WHERE id = :id"
        with engine.begin() as connection:  # the version it replaced was never shown
            connection.execute(text(release), {"at": None, "id": amended.id})
        refused = r"^1 report version\(s\) keep when the version they replaced reached the "
        with pytest.raises(CommandError, match=refused + "patient, other than at its signature"):
            migrate.downgrade(empty_database_url, "0016")
        assert _revision(engine) == "0017"
        migrate.upgrade(empty_database_url)
        with engine.begin() as connection:  # as the upgrade sets it: the fixture's downgrade goes
            connection.execute(
                text(release).bindparams(bindparam("at", type_=DateTime)),
                {"at": amended.previous_release_at, "id": amended.id},
            )


def test_a_downgrade_past_0024_refuses_to_lose_a_misreading_or_the_reading_kept(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0024's downgrade dropped that a report was withdrawn as misread (up again, every
    withdrawal read "another person's ECG", and its patient "not about your heart") and the
    reading a report was made at, silently (an operations audit). It refuses, and the
    database stays at 0024; a withdrawal of the wrong patient, which the upgrade gives back,
    goes down as before (test_0024_says_earlier_withdrawals_were_of_the_wrong_patient)."""
    from alembic.util import CommandError

    with _seeded_at(empty_database_url, "0023", tmp_path, reports=2) as engine:
        migrate.upgrade(empty_database_url)
        first = "WHERE id = (SELECT MIN(id) FROM ecg_report)"
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE ecg_report SET withdrawn_kind = 'misread' {first}"))
        refused = r"^1 report\(s\) keep that they were withdrawn as misread or the reading they"
        with pytest.raises(CommandError, match=refused):
            migrate.downgrade(empty_database_url, "0023")
        assert _revision(engine) == "0024"
        migrate.upgrade(empty_database_url)
        with engine.begin() as connection:
            connection.execute(text(
                f"UPDATE ecg_report SET withdrawn_kind = NULL, read_at_hz = 360, "
                f"read_in_units = 'mV' {first}"
            ))  # fmt: skip
        with pytest.raises(CommandError, match=refused):
            migrate.downgrade(empty_database_url, "0023")
        assert _revision(engine) == "0024"
        migrate.upgrade(empty_database_url)
        with engine.begin() as connection:  # for the downgrade the fixture makes
            connection.execute(
                text("UPDATE ecg_report SET read_at_hz = NULL, read_in_units = NULL")
            )
