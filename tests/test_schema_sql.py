"""schema.sql is generated from the models, is current, and loads into MariaDB."""

from __future__ import annotations

import pymysql
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from portal.config import PROJECT_ROOT
from portal.db import make_engine
from portal.models import Base
from portal.schema_sql import mysql_ddl

SCHEMA_FILE = PROJECT_ROOT / "schema.sql"


def test_schema_sql_is_current() -> None:
    assert SCHEMA_FILE.read_text() == mysql_ddl(), "run `cardio schema-sql` and commit schema.sql"


def test_schema_sql_command_writes_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from portal.cli import main

    out = tmp_path / "schema.sql"
    result = CliRunner().invoke(
        main, ["schema-sql", "--out", str(out)], env={"INSTANCE_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert out.read_text() == mysql_ddl()
    # A folder that does not exist is said before any work (it had been a traceback).
    missing = CliRunner().invoke(main, ["schema-sql", "--out", str(tmp_path / "no" / "s.sql")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert missing.exception is None or isinstance(missing.exception, SystemExit)


def test_schema_sql_onto_a_full_disk_is_one_sentence_and_leaves_no_file(
    tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """An operations audit: `cardio schema-sql --out /proc/x` printed a pathlib traceback, and
    a full disk would have left a cut-off schema.sql. Now: one sentence, exit 1, no file."""
    import errno
    import pathlib

    from portal.cli import main

    real_write_text = pathlib.Path.write_text

    def disk_full(path: pathlib.Path, content: str) -> int:
        if path.parent != out_dir:  # the app's own files (its instance folder)
            return real_write_text(path, content)
        with path.open("w") as half:
            half.write(content[:100])  # part of it written, then no room
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pathlib.Path, "write_text", disk_full)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "schema.sql"
    result = CliRunner().invoke(
        main, ["schema-sql", "--out", str(out)], env={"INSTANCE_DIR": str(tmp_path)}
    )
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        f"Error: The schema could not be written to {out} (No space left on device); "
        "nothing was kept."
    )
    assert list(out_dir.iterdir()) == []


def test_schema_sql_loads_into_mariadb(mariadb_host_url: str) -> None:
    from tests.support.mariadb import create_database

    url = make_url(create_database(mariadb_host_url, "cardio_schema_sql"))
    connection = pymysql.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(SCHEMA_FILE.read_text())
            while cursor.nextset():
                pass
    finally:
        connection.close()
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables)
        with engine.begin() as db:  # the audit trail is append-only, as after the migrations
            triggers = db.execute(text("SHOW TRIGGERS LIKE 'audit_event'")).all()
        assert {row[0] for row in triggers} == {"audit_event_no_update", "audit_event_no_delete"}
    finally:
        engine.dispose()
