"""The `cardio` command: Flask's CLI plus the portal's own commands.

The web application, the database layer and the services are imported inside the commands
that use them, so `cardio analyze` (the analysis engine alone) starts as fast as the engine."""

from __future__ import annotations

import gc
import getpass
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import FlaskGroup
from werkzeug.serving import run_simple

from ml.cli import analyze_command
from portal.config import PROJECT_ROOT, ConfigError
from portal.risk.cli import risk_command

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
CREATE_USER_ROLES = ("admin", "staff", "doctor")  # every Role but patient (a test checks)


def db_session() -> Session:
    """The command's database session (portal/db.py, imported on use)."""
    from portal import db

    return db.db_session()


def _create_app() -> object:
    from portal.app import create_app

    try:
        return create_app()
    except ConfigError as problem:
        click.echo(f"Error: {problem}", err=True)
        sys.exit(2)


class CardioGroup(FlaskGroup):
    """`cardio`: a database that cannot be used is one sentence, not 165 lines of traceback,
    with the exit code the container entrypoint reads: 1 (try again: the server may still be
    starting) when it does not answer, 2 (configuration: retrying cannot help) for a URL, a
    driver or credentials it refuses, a schema newer than this code, or any other error the
    database answers with (an ops audit)."""

    def invoke(self, ctx: click.Context) -> Any:
        from alembic.util.exc import CommandError
        from sqlalchemy.exc import ArgumentError, OperationalError

        from portal.db import LOGIN_REFUSED, LOGIN_REFUSED_CODE

        try:
            return super().invoke(ctx)
        except CommandError as problem:  # e.g. a schema newer than this code (a rollback)
            _stop(2, f"The database's schema cannot be brought to this version's: {problem}. "
                  "If the database was upgraded by a newer version of the portal, deploy that "
                  "version (or newer), or restore a backup taken for this one.")  # fmt: skip
        except ArgumentError as problem:
            _stop(2, f"DATABASE_URL is not a database URL ({problem}).")
        except ModuleNotFoundError as problem:
            if problem.name not in ("MySQLdb", "psycopg2", "mysqlclient"):
                raise
            _stop(2, f"DATABASE_URL names a driver that is not installed ({problem.name}): "
                  "use mysql+pymysql://USER:PASSWORD@HOST:3306/DB")  # fmt: skip
        except OperationalError as problem:
            code = problem.orig.args[0] if problem.orig and problem.orig.args else None
            if code == LOGIN_REFUSED_CODE:  # the driver's words name the user, not the password
                _stop(2, f"The database {LOGIN_REFUSED}: {problem.orig}")
            if code in REFUSED_CONNECTION_CODES:
                _stop(2, f"The database refused the connection: {problem.orig}")
            # SQLite gives no code: only its lock is worth waiting for.
            retry = code in NOT_ANSWERING_CODES if isinstance(code, int) else (
                "locked" in str(problem.orig)
            )  # fmt: skip
            if not retry:
                # An ops audit: "Table 'rate_limit_counter' already exists" (a restore onto a
                # database that was not empty) was retried as "the database starts".
                _stop(2, f"The database answered with an error retrying cannot mend: "
                      f"{problem.orig}. A restore onto a database that was not empty? See "
                      "'Backups and restore' in the README.")  # fmt: skip
            _stop(1, f"The database did not answer: {problem.orig}")


# MySQL errors that are configuration, not a server still starting: access denied, unknown
# database.
REFUSED_CONNECTION_CODES = (1044, 1045, 1049)
# ... and those worth retrying: a server not (yet) answering (can't connect, local or TCP;
# unknown host; gone away; lost connection), too many connections, shutting down, a lock wait
# or a deadlock (a review: 1040 and 1053 had stopped the entrypoint's retries).
NOT_ANSWERING_CODES = (2002, 2003, 2005, 2006, 2013, 1040, 1053, 1205, 1213)


def _system_user() -> str:
    """Who runs the command, for the audit trail; the uid where the system has no name for
    it (a container run under an arbitrary uid: `getpass.getuser()` raises there)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _stop(code: int, message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(cls=CardioGroup, create_app=_create_app, add_version_option=False, load_dotenv=True)
def main() -> None:
    """CardioPortal: hospital ECG portal."""


def _settings():  # type: ignore[no-untyped-def]
    return current_app.config["SETTINGS"]


main.add_command(analyze_command)
main.add_command(risk_command)


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema to the newest migration."""
    from portal import migrate

    settings = _settings()
    settings.instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # key and database
    # Each migration run, and any warning a migration gives (no privilege to create the audit
    # triggers), on stderr: Alembic's logger had no handler, so `init-db` said only "up to
    # date" over missing triggers (an ops audit).
    said = logging.StreamHandler(sys.stderr)
    said.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    alembic_log = logging.getLogger("alembic")
    alembic_log.addHandler(said)
    alembic_log.setLevel(logging.INFO)
    try:
        migrate.upgrade(settings.database_url)
    finally:
        alembic_log.removeHandler(said)
    click.echo("Database schema is up to date.")


@main.command("create-user")
@click.option("--role", type=click.Choice(CREATE_USER_ROLES), required=True)
@click.option("--username", required=True)
@click.option("--full-name", default=None, help="Defaults to the username.")
def create_user(role: str, username: str, full_name: str | None) -> None:
    """Create an account. The password comes from CARDIO_PASSWORD or a prompt, never a default."""
    from portal.models import Role
    from portal.services import accounts
    from portal.services.validation import InvalidInput

    password = os.environ.get("CARDIO_PASSWORD") or click.prompt(
        "Password (at least 12 characters)", hide_input=True, confirmation_prompt=True
    )
    sql = db_session()
    try:
        account = accounts.create_account(
            sql,
            role=Role(role),
            username=username,
            password=password,
            full_name=full_name or username,
            actor=None,
            must_change_password=False,
        )
    except InvalidInput as problem:
        raise click.ClickException(" ".join(problem.errors.values())) from problem
    sql.commit()
    click.echo(f"Created {account.role.value} account {account.username!r}.")


@main.command("reset-login")
@click.argument("username")
def reset_login(username: str) -> None:
    """Reset both the password and the two-step login of someone who lost both, in person:
    prints a temporary password to hand over; they change it and enrol again at login. The
    web refuses an administrator both resets (one who set the password could log in as them)."""
    from sqlalchemy import select

    from portal.models import Account
    from portal.services import accounts
    from portal.services.validation import InvalidInput

    sql = db_session()
    account = sql.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise click.ClickException(f"No account {username!r}.")
    try:
        temporary = accounts.reset_login_on_the_server(sql, account)
    except InvalidInput as problem:
        raise click.ClickException(" ".join(problem.errors.values())) from problem
    sql.commit()
    click.echo(
        f"Temporary password for {account.username}: {temporary}\nHand it over in person; "
        "they change it and set up two-step login again at their next login."
    )


@main.command("seed-demo")
def seed_demo_command() -> None:
    """Add demo accounts and patients (once); print the logins."""
    from portal.demo import seed_demo, write_credentials

    if _settings().is_production:  # it wrote demo logins and their passwords there (an audit)
        raise click.ClickException(
            "seed-demo adds demo accounts (their passwords in a file) and made-up patients: "
            "not in production."
        )
    sql = db_session()
    credentials = seed_demo(sql)
    sql.commit()
    from portal.demo import write_demo_recordings

    folder = write_demo_recordings(_settings().instance_dir / "demo-recordings")
    credentials_file = _settings().instance_dir / "demo-credentials.txt"
    if credentials:
        write_credentials(credentials_file, credentials)
    click.echo(
        credentials_file.read_text()
        if credentials_file.exists()
        else "Demo data exists, but its credentials file is gone."
    )
    click.echo(f"# Demo ECG files to upload: {folder}")
    if _settings().mitdb_dir:
        click.echo(f"# Reference library (MIT-BIH): {_settings().mitdb_dir}")


@main.command("seed-load")
@click.option(
    "--reports", "n_reports", default=100_000, show_default=True, type=click.IntRange(min=1)
)
@click.option("--doctors", default=40, show_default=True, type=click.IntRange(min=1))
@click.option("--staff", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=17, show_default=True, type=int, help="random seed")
def seed_load_command(n_reports: int, doctors: int, staff: int, seed: int) -> None:
    """Fill the database with synthetic patients, reports and audit rows (load tests)."""
    from portal.seed_load import CREDENTIALS_FILE, seed_load, write_credentials

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("seed-load writes synthetic patients: not in production.")
    engine = current_app.extensions["db_engine"]
    result = seed_load(
        engine, settings.storage_dir, reports=n_reports, doctors=doctors, staff=staff, seed=seed,
        password=os.environ.get("CARDIO_PASSWORD"),
    )  # fmt: skip
    credentials = settings.instance_dir / CREDENTIALS_FILE
    write_credentials(credentials, result)
    click.echo(
        f"Added {result.reports} reports ({result.versions} versions) of {result.patients} "
        f"patients, {len(result.users)} accounts and {result.audit_rows} chained audit rows "
        f"in {result.seconds:.0f} s. Logins: {credentials}"
    )


@main.command("worker")
@click.option("--once", is_flag=True, help="run what is queued now, then exit")
def worker_command(once: bool) -> None:
    """Run analysis jobs (when the web process runs with JOB_WORKER=none)."""
    from portal.worker import POLL_SECONDS, Worker
    from portal.worker_signals import stop_cleanly_on_signals

    worker = Worker(current_app._get_current_object())  # type: ignore[attr-defined]
    stop_cleanly_on_signals()
    click.echo(f"Analysis worker {worker.worker_id} started; Ctrl+C stops it.")
    worker.start_heartbeat()  # a thread: beats every few seconds, even during a long job
    try:
        while True:
            try:
                done = worker.run_pending()
            except Exception:  # the database may be briefly unreachable: keep serving
                if once:
                    raise
                log.exception("analysis worker loop failed; retrying in %s s", 5 * POLL_SECONDS)
                time.sleep(5 * POLL_SECONDS)
                continue
            if done:
                click.echo(f"Ran {done} job(s).")
            if once:
                return
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        click.echo("Stopping.")  # handled: by `finally` the interrupt's traceback is gone
    finally:
        _release_interrupted_connections()
        worker.stop_heartbeat()


def _release_interrupted_connections() -> None:
    """Close any database connection a stop signal interrupted mid-transaction: the stop is
    raised outside database code (`portal.worker_signals`), but a connection a job's code
    left open would still hold SQLite's lock and keep the clean stop from removing the
    heartbeat row ("database is locked" three times, in CI). Collected and closed, it
    releases the lock."""
    gc.collect()
    current_app.extensions["db_engine"].dispose()


@main.command("celery-worker")
@click.option("-n", "--hostname", default=None, help="Celery node name, e.g. worker1@%h")
@click.option("--loglevel", default="INFO", show_default=True)
def celery_worker_command(hostname: str | None, loglevel: str) -> None:
    """Run analysis jobs, PDFs and exports sent through the broker (JOB_WORKER=celery in the
    web process): one job at a time; start more of these for more at once. Refused (exit 2)
    under any other JOB_WORKER: the web processes then send nothing to a broker, and an
    operations audit found the worker started silently against a default Redis."""
    from portal.celery_app import QUEUE, make_celery

    settings = _settings()
    if settings.job_worker != "celery":
        _stop(2, f"`cardio celery-worker` runs jobs sent through a broker, but JOB_WORKER is "
              f"{settings.job_worker!r} (the web processes send none): set JOB_WORKER=celery "
              "and CELERY_BROKER_URL for the web processes and the workers alike.")  # fmt: skip
        return
    celery = make_celery(settings, current_app._get_current_object())  # type: ignore[attr-defined]
    argv = ["worker", "--pool", "solo", "--concurrency", "1", "--queues", QUEUE]
    argv += ["--loglevel", loglevel, "--without-gossip", "--without-mingle"]
    celery.worker_main([*argv, *(["--hostname", hostname] if hostname else [])])


@main.command("jobs")
# (-5 had reached the database as LIMIT -5: a 119-line traceback; an ops audit)
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1),
    help="how many of the newest jobs",
)  # fmt: skip
def jobs_command(limit: int) -> None:
    """The newest analysis jobs (state, attempts, the worker that ran them) and each worker's
    count of jobs with its last heartbeat."""
    from sqlalchemy import func, select

    from portal.models import AnalysisJob, WorkerHeartbeat, utcnow
    from portal.services.jobs import live_workers

    sql = db_session()
    click.echo(f"{'job':>6}  {'state':<10} {'tries':>5}  {'worker':<40} progress, or why it failed")
    for job in sql.scalars(select(AnalysisJob).order_by(AnalysisJob.id.desc()).limit(limit)):
        # A failed job says why (it showed its last step, "Reading the recording": an audit).
        said = job.error_message if job.state.value == "failed" and job.error_message else None
        click.echo(
            f"{job.id:>6}  {job.state.value:<10} {job.attempts:>5}  "
            f"{job.worker_id or '-':<40} {said or job.progress_message or ''}"
        )
    counts = sql.execute(
        select(AnalysisJob.worker_id, func.count())
        .where(AnalysisJob.worker_id.is_not(None))
        .group_by(AnalysisJob.worker_id)
    ).all()
    beats = {row.worker_id: row.beat_at for row in sql.scalars(select(WorkerHeartbeat))}
    ran = {str(worker_id): count for worker_id, count in counts}
    live = live_workers(sql, utcnow())
    click.echo(f"\n{'worker':<40} {'jobs':>5}  last heartbeat")
    for worker_id in sorted(set(ran) | set(beats)):
        count, beat = ran.get(worker_id, 0), beats.get(worker_id)
        when = f"{beat:%Y-%m-%d %H:%M:%S} UTC" if beat else "-"
        state = "alive" if worker_id in live else "gone"
        click.echo(f"{worker_id:<40} {count:>5}  {when} ({state})")


@main.command("audit-verify")
def audit_verify() -> None:
    """Walk the audit hash chain; name the first edited, inserted or deleted row (exit 1)."""
    from portal.services import audit

    check = audit.verify_chain(db_session())
    for note in check.notes:
        click.echo(f"Warning: {note}.", err=True)
    if check.broken is not None:
        click.echo(
            f"Audit chain BROKEN ({check.broken.kind}): {check.broken.message}. "
            f"{check.rows} row(s) before it are intact.",
            err=True,
        )
        sys.exit(1)
    said = f", its hash {check.last_hash}" if check.last_hash else ""
    click.echo(f"Audit chain intact: {check.rows} row(s), newest row {check.last_id or '-'}{said}.")


@main.group("audit")
def audit_group() -> None:
    """The audit trail: `cardio audit verify` (the same as `cardio audit-verify`)."""


audit_group.add_command(audit_verify, "verify")


@main.group("storage")
def storage_group() -> None:
    """The stored files: `cardio storage verify` after a restore."""


@storage_group.command("verify")
def storage_verify() -> None:
    """Check that every recording and issued PDF the database names is in storage, the PDFs
    with the bytes they were issued with (exit 1 naming each one that is not)."""
    from portal.services.storage_check import verify_storage

    check = verify_storage(db_session(), _settings().storage_dir)
    for problem in check.problems:
        click.echo(f"Missing or damaged: {problem}", err=True)
    if check.problems:
        click.echo(
            f"Storage INCOMPLETE: {len(check.problems)} problem(s) among {check.recordings} "
            f"recording(s) and {check.documents} document(s). Restore the storage from the "
            "backup taken with this database dump (a missing PDF is issued again when next "
            "asked for, saying so; a missing recording cannot be).",
            err=True,
        )
        sys.exit(1)
    click.echo(
        f"Storage intact: {check.recordings} recording(s) and {check.documents} document(s)."
    )


@main.command("backup")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def backup_command(out_dir: Path) -> None:
    """Back up a portal on SQLite (the database, then the stored files) into a new folder
    under OUT_DIR, while it runs; on MySQL/MariaDB use mysqldump (README)."""
    from portal.services import audit
    from portal.services.sqlite_backup import BackupFailed, BackupRefused, back_up, sqlite_path

    settings = _settings()
    try:
        sqlite_path(settings.database_url)
    except BackupRefused as refused:
        _stop(2, str(refused))
        return
    # Every patient's data leaves the portal: audited, by the system account, before the copy
    # (so the backup holds its own row).
    sql = db_session()
    audit.record(
        sql, "database.backup", actor=None, actor_username=f"cli:{_system_user()}"[:64],
        details={"to": str(out_dir.resolve())[:200], "via": "cardio backup"},
    )  # fmt: skip
    sql.commit()
    try:
        made = back_up(settings.database_url, settings.storage_dir, out_dir)
    except BackupFailed as failed:  # one sentence, not a traceback (an operations audit)
        _stop(1, str(failed))
        return
    click.echo(
        f"Backup written to {made.folder}: the database ({made.database_bytes:,} bytes) and "
        f"{made.stored_files} stored file(s). Keep both files together."
    )


@main.command("download-mitdb")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def download_mitdb(directory: Path) -> None:
    """Fetch the MIT-BIH Arrhythmia Database from PhysioNet into DIRECTORY (needs internet).

    Then set MITDB_DIR=DIRECTORY so staff can pick its records from the reference library.
    """
    if any(directory.glob("*.hea")):
        click.echo(
            f"Error: {directory} already holds MIT-BIH records; set MITDB_DIR to it.", err=True
        )
        sys.exit(2)
    import wfdb

    directory.mkdir(parents=True, exist_ok=True)
    click.echo(f"Downloading the MIT-BIH Arrhythmia Database (about 100 MB) into {directory} ...")
    try:
        wfdb.dl_database("mitdb", str(directory))
    except Exception as problem:  # network errors come in many types
        click.echo(
            f"Error: the download failed ({problem}). Check the internet connection.", err=True
        )
        sys.exit(1)
    click.echo(f"Done. Set MITDB_DIR={directory.resolve()}")


@contextmanager
def _written_whole(out: Path, what: str) -> Iterator[Path]:
    """A temporary file beside `out` to write, renamed to `out` when the block ends well: a
    full disk or a folder that cannot be written leaves nothing at `out` and is one sentence
    (exit 1), as `cardio backup` says it. An operations audit: a cut-off PDF was left at
    `out` under a traceback."""
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        yield partial
        partial.replace(out)
    except OSError as problem:
        partial.unlink(missing_ok=True)
        why = problem.strerror or problem
        _stop(1, f"{what} could not be written to {out} ({why}); nothing was kept.")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _in_existing_folder(ctx: click.Context, param: click.Parameter, out: Path) -> Path:
    """An output file whose folder exists: said before any work, not as a traceback after."""
    if not out.parent.is_dir():
        raise click.BadParameter(f"the folder {out.parent} does not exist.")
    return out


@main.command("render-report")
@click.argument("report_id", type=int)
@click.option("--kind", type=click.Choice(["clinician", "patient"]), default="clinician")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    callback=_in_existing_folder,
)
def render_report(report_id: int, kind: str, out: Path) -> None:
    """Write the PDF of a report's newest version (stored once, reused afterwards)."""
    import shutil

    from portal.models import DocumentKind, EcgReport, utcnow
    from portal.services import audit, documents, reports
    from portal.services.errors import DomainError

    sql = db_session()
    report = sql.get(EcgReport, report_id)
    if report is None:
        click.echo(f"Error: there is no report {report_id}.", err=True)
        sys.exit(2)
    # A summary written to a file is one to hand the patient: not while held for a talk first.
    if kind == DocumentKind.PATIENT.value and reports.held_from_patient(report, utcnow()):
        assert report.patient_release_at is not None
        click.echo(
            f"Error: report {report_id} is held from the patient until "
            f"{report.patient_release_at:%Y-%m-%d %H:%M} UTC (a dangerous finding: the doctor "
            "talks with them first); release it on its review page, or wait.",
            err=True,
        )
        sys.exit(2)
    version = documents.latest_version(report)
    try:
        document, path = documents.ensure_document(
            sql, report, version, DocumentKind(kind), _settings()
        )
    except DomainError as refused:  # unsigned (patient summary), withdrawn, files missing
        sql.rollback()
        click.echo(f"Error: {refused.message}", err=True)
        sys.exit(2)
    with _written_whole(out, "The report's PDF") as partial:
        shutil.copyfile(path, partial)
    # A PDF of a patient's report written to a file is a download like a page's (it had left
    # no audit row: an ops audit); the operator is the system account running the command.
    # Recorded once the file has the name asked for: recorded before the rename, a rename
    # that failed left a row for a file never delivered (an operations audit).
    audit.record(
        sql, "report.download", actor=None, actor_username=f"cli:{_system_user()}"[:64],
        patient_id=report.patient_id, object_type="report_document", object_id=document.id,
        details={"kind": kind, "version_no": version.version_no, "sha256": document.sha256,
                 "via": "cardio render-report"},
    )  # fmt: skip
    _download_audited(sql, out)
    click.echo(f"Wrote {out} ({document.size_bytes} bytes, SHA-256 {document.sha256}).")


def _download_audited(sql: Session, out: Path) -> None:
    """Commit the download's audit row, the file already at `out`; a commit that fails
    takes the file away again, so no PDF leaves without its row."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        sql.commit()
    except SQLAlchemyError as problem:
        sql.rollback()
        out.unlink(missing_ok=True)
        cause = getattr(problem, "orig", None) or problem
        _stop(1, f"The download of {out} could not be audited ({cause}); nothing was kept.")


@main.command("schema-sql")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=PROJECT_ROOT / "schema.sql",
    show_default=True,
    callback=_in_existing_folder,
)
def schema_sql(out: Path) -> None:
    """Write the MySQL DDL generated from the models."""
    from portal.schema_sql import mysql_ddl

    with _written_whole(out, "The schema") as partial:
        partial.write_text(mysql_ddl())
    click.echo(f"Wrote {out}.")


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.pass_context
def demo(ctx: click.Context, host: str, port: int) -> None:
    """Create the database, add demo data and serve the portal (development server)."""
    if _settings().is_production:
        raise click.ClickException(
            "cardio demo serves demo data on the development server: not in production."
        )
    ctx.invoke(init_db)
    ctx.invoke(seed_demo_command)
    click.echo(
        f"\nCardioPortal is running at http://{host}:{port}/ "
        "- log in with one of the accounts above. Stop with Ctrl+C.\n"
    )
    from portal import start_job_worker

    start_job_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    # app.run() refuses to run inside the flask CLI; the development server is what it would run.
    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]
