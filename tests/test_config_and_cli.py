"""Configuration refuses unsafe production settings; the `cardio` commands work end to end."""

from __future__ import annotations

import html
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cli import main
from portal.config import PROJECT_ROOT, ConfigError, load_settings
from tests.conftest import People, client_for


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "CARDIO_ENV": "development",
        "JOB_WORKER": "none",
        **extra,
    }


@pytest.mark.parametrize(
    "key",
    [
        None, "", "change-me", "short-key",
        "a" * 32,  # long but one repeated character (issue 15)
        "thisisaverylongsecretkeyforourhospitalportal",  # long but a dictionary phrase
    ],
)  # fmt: skip
def test_production_refuses_missing_default_or_short_secret_key(
    monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    monkeypatch.setenv("CARDIO_ENV", "production")
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="Refusing to start in production: SECRET_KEY"):
        load_settings()


def test_production_starts_with_a_real_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARDIO_ENV", "production")
    key = secrets.token_hex(32)
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://cardio:pw@db:3306/cardio")
    settings = load_settings()
    assert settings.is_production and settings.secret_key == key
    assert settings.database_url == "mysql+pymysql://cardio:pw@db:3306/cardio"


def test_production_refuses_to_start_without_a_database_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without DATABASE_URL each production server and worker kept its own SQLite file in its
    own instance folder (an ops audit): production must name its database, even SQLite."""
    monkeypatch.setenv("CARDIO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    for unset in ("", "  "):
        monkeypatch.setenv("DATABASE_URL", unset)
        with pytest.raises(ConfigError, match="production: DATABASE_URL is not set"):
            load_settings()
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(ConfigError, match="mysql\\+pymysql://"):
        load_settings()
    sqlite_url = f"sqlite:///{tmp_path / 'chosen.db'}"
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert load_settings().database_url == sqlite_url  # named explicitly: allowed


def test_development_key_is_random_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("CARDIO_ENV", "development")
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    first = load_settings().secret_key
    assert len(first) == 64 and load_settings().secret_key == first
    assert load_settings().database_url == f"sqlite:///{tmp_path / 'cardio.db'}"


def test_cli_refuses_to_start_in_production_with_a_clear_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["init-db"], env=_env(tmp_path, CARDIO_ENV="production", SECRET_KEY="")
    )
    assert result.exit_code == 2
    assert "SECRET_KEY" in result.output


def test_production_refuses_demo_data_and_the_limiter_commands_work(tmp_path: Path) -> None:
    """`cardio seed-demo` added demo logins (their passwords in a file) and made-up patients to
    a production database, and `cardio limiter limits|clear|config` crashed ("'Limiter'
    object is not iterable"): an ops audit."""
    runner = CliRunner()
    production = _env(tmp_path, CARDIO_ENV="production", SECRET_KEY=secrets.token_hex(32))
    for command in (["seed-demo"], ["demo"]):
        refused = runner.invoke(main, command, env=production)
        assert refused.exit_code == 1 and "not in production" in refused.output, refused.output
    env = _env(tmp_path)
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    limits = runner.invoke(main, ["limiter", "limits"], env=env)
    assert limits.exit_code == 0 and "auth.login" in limits.output, limits.output
    cleared = runner.invoke(main, ["limiter", "clear", "--key", "127.0.0.1"], env=env, input="y\n")
    assert cleared.exit_code == 0, cleared.output
    shown = runner.invoke(main, ["limiter", "config"], env=env)  # it crashed on our storage
    assert shown.exit_code == 0 and "DatabaseStorage" in shown.output, shown.output


def test_init_db_create_user_and_seed_demo(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    weak = runner.invoke(
        main,
        ["create-user", "--role", "admin", "--username", "boss"],
        env={**env, "CARDIO_PASSWORD": "short"},
    )
    assert weak.exit_code != 0 and "at least 12 characters" in weak.output
    made = runner.invoke(
        main,
        ["create-user", "--role", "admin", "--username", "boss"],
        env={**env, "CARDIO_PASSWORD": "a sufficiently long one"},
    )
    assert made.exit_code == 0 and "Created admin account 'boss'" in made.output
    prompted = runner.invoke(
        main,
        ["create-user", "--role", "staff", "--username", "nurse"],
        env=env,
        input="another long password\nanother long password\n",
    )
    assert prompted.exit_code == 0, prompted.output
    # Someone who lost both their password and their phone is reset on the server, in person.
    reset = runner.invoke(main, ["reset-login", "boss"], env=env)
    assert reset.exit_code == 0 and "Temporary password for boss: " in reset.output
    temporary_password = reset.output.split("Temporary password for boss: ")[1].split()[0]
    unknown = runner.invoke(main, ["reset-login", "nobody"], env=env)
    assert unknown.exit_code != 0 and "No account 'nobody'." in unknown.output

    seeded = runner.invoke(main, ["seed-demo"], env=env)
    assert seeded.exit_code == 0
    credentials = dict(
        line.split() for line in seeded.output.splitlines() if line and not line.startswith("#")
    )
    assert {"demo-admin", "demo-staff", "demo-doctor"} <= set(credentials)
    assert (tmp_path / "demo-credentials.txt").stat().st_mode & 0o077 == 0
    again = runner.invoke(main, ["seed-demo"], env=env)  # idempotent
    assert again.exit_code == 0 and credentials["demo-staff"] in again.output

    import os

    from portal import create_app
    from tests.conftest import login

    os.environ.update(env)
    try:
        app = create_app()
    finally:
        for name in env:
            os.environ.pop(name, None)
    client = app.test_client()
    assert login(client, "demo-staff", credentials["demo-staff"]).status_code == 302
    boss = app.test_client()  # logged in, then sent to a new password and a phone
    assert login(boss, "boss", temporary_password).status_code == 302
    assert boss.get("/admin/accounts").location.endswith("/account/password")
    listing = client.get("/patients/").get_data(as_text=True)
    assert "Maria Garcia" in listing and "6 patients" in listing
    # No demo patient has the clinic's own number, which every summary tells them to call
    # (Maria Garcia's was +1 555 0100; an audit).
    from sqlalchemy import select

    from portal.db import db_session
    from portal.models import Patient

    with app.app_context():
        phones = set(db_session().scalars(select(Patient.phone)))
    clinic_phone = app.config["SETTINGS"].clinic_contact.rsplit("phone ", 1)[1]
    assert clinic_phone not in phones and len(phones) == 6


def test_cardio_demo_serves_the_portal_with_demo_logins(tmp_path: Path) -> None:
    """The README's first command, minus the install: init-db, seed-demo and a live server."""
    import os
    import re
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cardio = Path(sys.executable).with_name("cardio")
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "CARDIO_ENV": "development"}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [str(cardio), "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as response:
                    assert "Log in" in response.read().decode()
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "cardio demo did not start serving"
                time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert re.search(r"^demo-staff \S{20,}$", output, re.MULTILINE), output
    assert f"running at http://127.0.0.1:{port}/" in output
    assert (tmp_path / "cardio.db").exists()


def test_download_mitdb_refuses_a_folder_that_already_has_records(tmp_path: Path) -> None:
    (tmp_path / "100.hea").write_text("100 2 360 650000\n")
    result = CliRunner().invoke(main, ["download-mitdb", str(tmp_path)], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "already holds MIT-BIH records" in result.output


def test_only_servers_start_the_job_worker(tmp_path: Path) -> None:
    """A `cardio` command builds an app too: it must not claim queued jobs (one claimed a job
    and left it "running" when it exited)."""
    import os
    import threading

    from portal import create_app, start_job_worker

    env = {"INSTANCE_DIR": str(tmp_path), "JOB_WORKER": "thread", "CARDIO_ENV": "development"}
    os.environ.update(env)
    try:
        app = create_app()
        assert "worker" not in app.extensions
        assert "analysis-worker" not in {t.name for t in threading.enumerate()}
        start_job_worker(app)  # what portal.wsgi and `cardio demo` do
        assert "analysis-worker" in {t.name for t in threading.enumerate()}
        app.extensions["worker"].stop()
    finally:
        for name in env:
            os.environ.pop(name, None)


def test_cardio_create_user_offers_every_role_but_patient() -> None:
    from portal.cli import CREATE_USER_ROLES
    from portal.models import Role

    assert set(CREATE_USER_ROLES) == {r.value for r in Role} - {Role.PATIENT.value}


def test_cardio_analyze_is_dispatched_without_flask(tmp_path: Path) -> None:
    """The `cardio` entry point hands `analyze` to the engine before Flask's command group
    (which loads every Flask plugin) is imported; other commands still reach the group."""
    import subprocess
    import sys

    from tests.support.ecg_files import synthetic, write_csv

    csv = write_csv(tmp_path / "strip.csv", synthetic(12, 250))
    code = (
        "import sys; from portal.entry import main; sys.argv = ['cardio'] + sys.argv[1:]\n"
        "try:\n    main()\nfinally:\n"
        "    print('flask imported:', 'flask' in sys.modules, file=sys.stderr)"
    )
    analysed = subprocess.run(
        [sys.executable, "-c", code, "analyze", str(csv)], capture_output=True, text=True
    )
    assert analysed.returncode == 0, analysed.stderr
    assert "Main finding:" in analysed.stdout
    assert "flask imported: False" in analysed.stderr
    listed = subprocess.run(
        [sys.executable, "-c", code, "--help"], capture_output=True, text=True, check=True
    )
    assert "analyze" in listed.stdout and "init-db" in listed.stdout


def test_cardio_analyze_starts_without_the_web_application() -> None:
    """`cardio analyze` needs only the engine: importing the CLI loads no Flask app factory,
    SQLAlchemy or blueprint (the cold-start target of issue 17)."""
    import subprocess
    import sys

    code = (
        "import sys, portal.cli; heavy = ('portal.app', 'sqlalchemy', 'portal.models'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_wsgi_entry_point_reads_the_working_directorys_env_file(tmp_path: Path) -> None:
    """gunicorn "portal.wsgi:app" in a folder whose .env configured production ran in
    development mode on SQLite (an ops audit): `cardio` read the .env, the server did not."""
    (tmp_path / ".env").write_text(
        f"INSTITUTION_NAME=St Example Hospital\nINSTANCE_DIR={tmp_path / 'instance'}\n"
        "JOB_WORKER=none\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("INSTITUTION_NAME", "INSTANCE_DIR")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    shown = subprocess.run(
        [sys.executable, "-c",
         "from portal.wsgi import app; print(app.config['SETTINGS'].institution_name)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.strip().splitlines()[-1] == "St Example Hospital"


@pytest.mark.parametrize(
    ("url", "code", "said"),
    [("mysql+pymysql://cardio:pw@127.0.0.1:9/cardio", 1, "did not answer"),
     ("notaurl", 2, "is not a database URL"),
     ("mysql://cardio:pw@127.0.0.1:9/cardio", 2, "driver that is not installed (MySQLdb)")],
)  # fmt: skip
def test_a_database_that_cannot_be_used_is_one_sentence(
    tmp_path: Path, url: str, code: int, said: str
) -> None:
    """An unreachable server, a URL that is none or a missing driver printed 165 lines of
    traceback, all with exit code 1, which the container entrypoint retries as "the database
    is starting" (an ops audit)."""
    result = CliRunner().invoke(main, ["init-db"], env=_env(tmp_path, DATABASE_URL=url))
    assert result.exit_code == code and said in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("url", "said"),
    [("mysql+pymysql://cardio:S3cretPW@db.example:33o6/cardioportal",
      "DATABASE_URL is not a database URL (its port is not a number: write e.g. "
      "db-host:3306)."),
     ("mysql+pymysql://cardio:S3c@retPW@127.0.0.1:9/cardio",
      "DATABASE_URL is not a database URL (its password or user name contains '@': write "
      "each '@' in them as %40).")],
)  # fmt: skip
def test_a_database_url_typo_is_one_sentence_exit_2_without_the_password(
    tmp_path: Path, url: str, said: str
) -> None:
    """An ops audit: a port typed "33o6" printed a 51-line ValueError traceback with exit 1,
    which the entrypoint retries ten times as "the database starts"; an unescaped '@' in the
    password printed part of it, "Can't connect to MySQL server on 'retPW@127.0.0.1'"."""
    result = CliRunner().invoke(main, ["init-db"], env=_env(tmp_path, DATABASE_URL=url))
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"Error: {said}"
    assert "S3c" not in result.output and "retPW" not in result.output


@pytest.mark.mariadb
def test_a_refused_database_password_reads_as_the_credentials_not_the_network(
    mariadb_host_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An operations audit: DATABASE_URL with a wrong password on a running MariaDB (error
    1045) read "unreachable" in `/health`, sending the administrator to the network. On the
    server `/health`, the log and `cardio` say the login was refused, naming no password;
    off it `/health` stays as brief as it was."""
    from sqlalchemy.engine import make_url

    from portal import create_app
    from portal.db import LOGIN_REFUSED
    from tests.conftest import csrf_token, make_settings
    from tests.support.mariadb import _admin_sql, create_database

    database = make_url(create_database(mariadb_host_url, "cardio_wrong_password"))
    _admin_sql(  # a user of its own (the right password would then meet the grants)
        mariadb_host_url,
        "CREATE USER IF NOT EXISTS 'cardio_pw'@'127.0.0.1' IDENTIFIED BY 'Right-Pw-1'",
    )
    wrong = database.set(username="cardio_pw", password="Wr0ng-Pw-9")
    url = wrong.render_as_string(hide_password=False)
    app = create_app(make_settings(url, tmp_path))
    local = app.test_client().get("/health")  # the test client asks from 127.0.0.1
    remote = app.test_client().get("/health", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert local.status_code == remote.status_code == 503
    assert local.json == {"status": "error", "database": LOGIN_REFUSED}
    assert remote.json == {"status": "error", "database": "unreachable"}
    assert LOGIN_REFUSED == "refused the login: check the user name and password in DATABASE_URL"
    client = app.test_client()
    form = {"username": "staff1", "password": "x", "csrf_token": csrf_token(client, "/login")}
    with caplog.at_level("ERROR"):
        assert client.post("/login", data=form).status_code == 503
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Database")]
    assert said and all(f"Database {LOGIN_REFUSED} on POST /login" in s for s in said), said

    result = CliRunner().invoke(main, ["init-db"], env=_env(tmp_path, DATABASE_URL=url))
    assert result.exit_code == 2, result.output  # configuration: retrying cannot help
    assert result.output.startswith(f"Error: The database {LOGIN_REFUSED}: (1045, "), result.output
    for output in (result.output, local.get_data(as_text=True), *said):
        assert "Wr0ng-Pw-9" not in output and url not in output


def test_an_instance_dir_that_is_a_file_is_refused_in_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An ops audit: INSTANCE_DIR naming a file (or a read-only mount) ended in a traceback."""
    file = tmp_path / "instance"
    file.write_text("not a folder")
    monkeypatch.setenv("INSTANCE_DIR", str(file))
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        load_settings()


def test_init_db_errors_retrying_cannot_mend_are_configuration_errors(tmp_path: Path) -> None:
    """An ops audit: a restore onto a database that was not empty ("table ... already
    exists") and code rolled back behind its schema ("Can't locate revision identified by
    '0020'", a 100-line traceback) both exited 1, which the entrypoint retries as "the
    database starts"; now exit 2 (not retried) in one sentence each."""
    import sqlite3

    runner = CliRunner()
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0099')")
    result = runner.invoke(main, ["init-db"], env=_env(tmp_path, DATABASE_URL=f"sqlite:///{newer}"))
    assert result.exit_code == 2, result.output
    assert "schema cannot be brought to this version's" in result.output
    assert "deploy that version (or newer)" in result.output and "Traceback" not in result.output
    leftover = tmp_path / "leftover.db"
    with sqlite3.connect(leftover) as connection:
        connection.execute("CREATE TABLE rate_limit_counter (id INTEGER PRIMARY KEY)")
    result = runner.invoke(
        main, ["init-db"], env=_env(tmp_path, DATABASE_URL=f"sqlite:///{leftover}")
    )
    assert result.exit_code == 2, result.output
    assert "retrying cannot mend" in result.output and "already exists" in result.output


def test_init_db_says_each_migration_and_create_user_refuses_a_long_name(tmp_path: Path) -> None:
    """`cardio init-db` said only "up to date" (Alembic's warnings went nowhere, a missing
    audit trigger among them), and a 500-character --full-name ended in a database traceback
    (an ops audit)."""
    runner, env = CliRunner(), _env(tmp_path)
    migrated = runner.invoke(main, ["init-db"], env=env)
    assert migrated.exit_code == 0
    assert "Running upgrade 0014 -> 0015" in migrated.output
    long_name = runner.invoke(
        main, ["create-user", "--role", "doctor", "--username", "drlong", "--full-name", "A" * 500],
        env={**env, "CARDIO_PASSWORD": "a sufficiently long one"},
    )  # fmt: skip
    assert long_name.exit_code != 0 and "at most 120 characters" in long_name.output
    assert "Traceback" not in long_name.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cardio_jobs_says_why_a_job_failed(
    app: Flask, people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    """A failed job listed its last step ("Reading the recording"), not why it failed (an
    ops audit)."""
    from portal.models import AnalysisJob, JobState
    from tests.conftest import upload_file
    from tests.support.ecg_files import synthetic, write_csv

    csv = write_csv(tmp_path / "ecg.csv", synthetic(20, 250)).read_bytes()
    assert (
        upload_file(client_for(app, people.staff), people.patient.id, csv, "ecg.csv").status_code
        == 302
    )
    job = sql.scalars(select(AnalysisJob)).one()
    job.state, job.progress_message = JobState.FAILED, "Reading the recording"
    job.error_message = "The file ends before its header says: nothing was analysed."
    sql.commit()
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli"),
           "JOB_WORKER": "none", "CARDIO_ENV": "development"}  # fmt: skip
    listing = CliRunner().invoke(main, ["jobs"], env=env)
    assert listing.exit_code == 0, listing.output
    assert "The file ends before its header says" in listing.output
    assert "Reading the recording" not in listing.output


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [("SESSION_LIFETIME_MINUTES", "30m", "must be a positive whole number"),
     ("BCRYPT_ROUNDS", "abc", "must be a whole number from 4 to 31"),
     ("BCRYPT_ROUNDS", "3", "must be a whole number from 4 to 31"),
     ("PATIENTS_GET_CLINICIAN_PDF", "ja", "must be true or false"),
     ("TRUSTED_PROXIES", "one", "must be a whole number"),
     ("TRUSTED_PROXIES", "²", "must be a whole number"),  # isdigit() took it: a traceback
     ("BCRYPT_ROUNDS", "１２", "must be a whole number from 4 to 31"),
     # "3 per fortnight" or "lots" had turned the throttle off without a word (an ops audit)
     ("LOGIN_RATE_LIMIT", "3 per fortnight", "is not a rate limit"),
     ("LOGIN_RATE_LIMIT", "lots", "is not a rate limit"),
     ("API_RATE_LIMIT", "2 per fortnight", "is not a rate limit"),
     # "0 per minute" refused every login; "5 per 0 minute" was read per 1 minute (a review)
     ("LOGIN_RATE_LIMIT", "0 per minute", "is not a rate limit"),
     ("LOGIN_RATE_LIMIT", "5 per 0 minute", "is not a rate limit"),
     ("RATE_LIMIT_STORAGE_URI", "bogus://x", "the scheme must be one of")],
)  # fmt: skip
def test_settings_an_installer_gets_wrong_are_refused_in_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, said: str
) -> None:
    """ "30m" minutes and a bcrypt cost of "abc" ended in tracebacks (the latter at the first
    password hashed), and "ja" was read as false without a word (an ops audit)."""
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=said):
        load_settings()


def test_seed_load_refuses_a_count_under_one(tmp_path: Path) -> None:
    """`--reports -5` left partial rows and a numpy traceback (an ops audit); `cardio jobs
    --limit -5` a 119-line SQL traceback (another)."""
    result = CliRunner().invoke(main, ["seed-load", "--reports", "-5"], env=_env(tmp_path))
    assert result.exit_code == 2 and "-5 is not in the range x>=1" in result.output
    result = CliRunner().invoke(main, ["jobs", "--limit", "-5"], env=_env(tmp_path))
    assert result.exit_code == 2 and "-5 is not in the range x>=1" in result.output


def test_login_goes_on_while_the_redis_of_the_throttle_is_down(
    database_url: str, tmp_path: Path
) -> None:
    """An ops audit: with RATE_LIMIT_STORAGE_URI naming a Redis that is down, every login
    answered 500 while /health said ok. The throttle now counts in the process meanwhile."""
    import dataclasses
    import socket

    from portal.app import create_app
    from tests.conftest import make_settings

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = dataclasses.replace(
        make_settings(database_url, tmp_path),
        rate_limit_storage_uri=f"redis://127.0.0.1:{port}/0",
        login_rate_limit="3 per minute",
    )
    application = create_app(settings, TESTING=True)
    application.config["WTF_CSRF_ENABLED"] = False
    try:
        client = application.test_client()
        answers = [
            client.post("/login", data={"username": "nobody", "password": "x" * 16}).status_code
            for _ in range(4)
        ]
        assert answers == [200, 200, 200, 429]  # refused in words, then throttled
        health = client.get("/health")  # the portal works: said, not a 503 (it said "ok")
        assert health.status_code == 200
        assert health.json is not None and health.json["throttle"] == (
            "redis storage unreachable: each server process counts login attempts on its "
            "own meanwhile"
        )
    finally:
        application.extensions["db_engine"].dispose()


def test_health_says_when_the_celery_broker_is_down(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """An operations audit: with Redis down the workers kept beating, so `/health` said ok
    while every upload waited unanalysed. It says so (still 200: the portal itself works)."""
    import dataclasses
    import socket

    from portal.app import create_app
    from tests.conftest import make_settings

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    said = {}
    for broker in (redis_url, f"redis://127.0.0.1:{port}/0"):
        settings = dataclasses.replace(
            make_settings(database_url, tmp_path), job_worker="celery", celery_broker_url=broker
        )
        application = create_app(settings, TESTING=True)
        try:
            health = application.test_client().get("/health")
            assert health.status_code == 200 and health.json is not None
            said[broker] = health.json["queue"]
        finally:
            application.extensions["db_engine"].dispose()
    assert list(said.values()) == [
        "ok",
        "redis broker unreachable: uploads are saved and wait; their analysis starts by "
        "itself when the broker is back",
    ]


TYPO_BROKER = "redis//:Red1sPassw0rd@127.0.0.1:5251/0"  # the ':' of "redis://" missing


@pytest.mark.parametrize("name", ["CELERY_BROKER_URL", "REDIS_URL"])
def test_a_broker_url_without_its_scheme_stops_the_start_without_its_password(
    tmp_path: Path, name: str
) -> None:
    """An ops audit: Kombu read "redis//:PASSWORD@..." as amqp://guest@localhost, the workers
    retried it for ever, and /health showed it to anyone. One sentence at start, exit 2, the
    password not in it; a URL Kombu knows still starts."""
    env = _env(tmp_path, JOB_WORKER="celery", **{name: TYPO_BROKER})
    result = CliRunner().invoke(main, ["jobs"], env=env)
    assert result.exit_code == 2, result.output
    assert f"Error: {name} is not a broker URL the workers can use" in result.output
    assert "Red1sPassw0rd" not in result.output and "Traceback" not in result.output
    for fine in ("redis://:pw@redis:6379/0", "rediss://h:6380/0", "amqp://u:p@h//"):
        os.environ[name] = fine
        try:
            assert load_settings().celery_broker_url == fine
        finally:
            del os.environ[name]


def test_health_never_shows_the_broker_url(database_url: str, tmp_path: Path) -> None:
    """/health needs no login: with a scheme typo it had said "redis//:Red1sPassw0rd@127.0.0.1
    :5251/0 broker unreachable: ..." (an ops audit). Built past the start's check here."""
    import dataclasses

    from portal.app import create_app
    from tests.conftest import make_settings

    settings = dataclasses.replace(
        make_settings(database_url, tmp_path), job_worker="celery", celery_broker_url=TYPO_BROKER
    )
    application = create_app(settings, TESTING=True)
    try:
        health = application.test_client().get(
            "/health", headers={"X-Forwarded-For": "203.0.113.9"}
        )
        assert health.status_code == 200 and health.json is not None
        assert health.json["queue"].startswith("the broker unreachable: uploads are saved")
        assert "Red1s" not in health.get_data(as_text=True)
    finally:
        application.extensions["db_engine"].dispose()


def test_a_portal_started_on_a_database_not_yet_upgraded_says_to_run_init_db(
    empty_database_url: str, tmp_path: Path
) -> None:
    """An ops audit restored an older dump and started the portal without `cardio init-db`:
    /health said the schema was behind, but every login answered "Something went wrong on
    our side" (a table the code needs was missing)."""
    from portal import migrate
    from portal.app import create_app
    from portal.errors import SCHEMA_BEHIND_MESSAGE
    from tests.conftest import make_settings

    migrate.upgrade(empty_database_url, "0009")  # before rate_limit_counter
    application = create_app(make_settings(empty_database_url, tmp_path), TESTING=True)
    application.config["WTF_CSRF_ENABLED"] = False
    application.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        answer = application.test_client().post(
            "/login", data={"username": "nobody", "password": "x" * 16}
        )
        assert answer.status_code == 503
        assert SCHEMA_BEHIND_MESSAGE.replace("`", "") in html.unescape(
            answer.get_data(as_text=True)
        ).replace("<code>", "").replace("</code>", "").replace("`", "")
    finally:
        application.extensions["db_engine"].dispose()


def test_a_sqlite_portal_is_backed_up_while_it_runs_and_restores_whole(
    app: Flask, people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    """`cardio backup` (the embedded default had no backup procedure at all): the restored
    database and storage pass `cardio storage verify` and `cardio audit verify`, with the
    recording the portal held; on MariaDB it says to use mysqldump, taking nothing."""
    import tarfile

    from portal.models import AuditEvent, EcgRecording
    from portal.services.sqlite_backup import DATABASE_FILE, STORAGE_ARCHIVE
    from tests.support.ecg_files import synthetic
    from tests.test_sinus_rate_statement import _read_by_the_portal

    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli"),
           "STORAGE_DIR": str(app.config["SETTINGS"].storage_dir)}  # fmt: skip
    made = CliRunner().invoke(main, ["backup", str(tmp_path / "backups")], env=env)
    if not database_url.startswith("sqlite"):
        assert made.exit_code == 2 and "back it up with mysqldump" in made.output
        assert not (tmp_path / "backups").exists()
        return
    assert made.exit_code == 0, made.output
    assert "Backup written to " in made.output and "Keep both files together." in made.output
    (folder,) = (tmp_path / "backups").iterdir()
    # As private as what it copies, whatever the umask (a review found them world-readable).
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o600}
    restored = tmp_path / "restored"
    with tarfile.open(folder / STORAGE_ARCHIVE) as archive:
        archive.extractall(restored, filter="data")
    env = {"DATABASE_URL": f"sqlite:///{folder / DATABASE_FILE}",
           "INSTANCE_DIR": str(tmp_path / "cli2"),
           "STORAGE_DIR": str(restored / "storage")}  # fmt: skip
    for command in (["init-db"], ["storage", "verify"], ["audit", "verify"]):
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code == 0, (command, result.output)
    check = CliRunner().invoke(main, ["storage", "verify"], env=env).output
    assert "Storage intact: 1 recording(s)" in check
    sql.expire_all()
    row = sql.scalars(select(AuditEvent).where(AuditEvent.action == "database.backup")).one()
    assert row.actor_username.startswith("cli:")
    recording = sql.get(EcgRecording, report.recording_id)
    assert recording is not None and recording.sha256 in "".join(
        str(p) for p in (restored / "storage").rglob("*")
    )


def test_a_backup_onto_a_full_disk_says_so_in_one_sentence_and_leaves_no_backup(
    app: Flask, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while the storage is archived: exit 1, one sentence, and no folder
    (neither the backup's name nor its .partial). An operations audit: a 40-line traceback,
    and a folder with a 0-byte cardio.db and storage.tgz that looked like a real backup."""
    import errno

    from portal.services import sqlite_backup

    if not database_url.startswith("sqlite"):
        pytest.skip("`cardio backup` copies the embedded SQLite database")

    def disk_full(_storage_dir: Path, archive_path: Path) -> int:
        archive_path.write_bytes(b"\0" * 512)  # part of it written, then no room
        raise OSError(errno.ENOSPC, "No space left on device", str(archive_path))

    monkeypatch.setattr(sqlite_backup, "_archive_storage", disk_full)
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli"),
           "STORAGE_DIR": str(app.config["SETTINGS"].storage_dir)}  # fmt: skip
    out_dir = tmp_path / "backups"
    made = CliRunner().invoke(main, ["backup", str(out_dir)], env=env)
    assert made.exit_code == 1, made.output
    assert made.output.strip().splitlines() == [
        f"Error: The backup could not be written to {out_dir} (No space left on device); "
        "nothing was kept. Free some space or choose another folder, then run `cardio backup` "
        "again."
    ]
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("job_worker", ["thread", "none", "celery"])
def test_cardio_celery_worker_refuses_unless_jobs_go_through_a_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, job_worker: str
) -> None:
    """With JOB_WORKER=thread or none the web processes send no job to a broker: the Celery
    worker had started silently against a default Redis (an operations audit). It now stops
    with one sentence and exit 2; with JOB_WORKER=celery it starts (Celery stubbed here)."""
    from portal import celery_app

    started: list[list[str]] = []

    class StubCelery:
        def worker_main(self, argv: list[str]) -> None:
            started.append(argv)

    monkeypatch.setattr(celery_app, "make_celery", lambda *_args: StubCelery())
    result = CliRunner().invoke(
        main, ["celery-worker", "-n", "one@%h"], env=_env(tmp_path, JOB_WORKER=job_worker)
    )
    if job_worker == "celery":
        assert result.exit_code == 0, result.output
        assert len(started) == 1 and "one@%h" in started[0]
        return
    assert result.exit_code == 2 and not started
    assert result.output.strip().splitlines() == [
        f"Error: `cardio celery-worker` runs jobs sent through a broker, but JOB_WORKER is "
        f"'{job_worker}' (the web processes send none): set JOB_WORKER=celery and "
        "CELERY_BROKER_URL for the web processes and the workers alike."
    ]
