"""/ (home, by role) and /health."""

from __future__ import annotations

import ipaddress
import os
import shutil
from pathlib import Path

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from portal import migrate
from portal.access import public, roles
from portal.db import LOGIN_REFUSED, db_session, login_refused
from portal.models import Role, utcnow
from portal.services import jobs

bp = Blueprint("main", __name__)

HOME_BY_ROLE = {
    Role.ADMIN: "admin.accounts",
    Role.STAFF: "patients.index",
    Role.DOCTOR: "review.worklist",  # what a reading doctor does first
    Role.PATIENT: "myhealth.reports",
}


@bp.route("/")
@roles(*Role)
def index() -> Response:
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.route("/health")
@public
def health() -> tuple[Response, int]:
    """For load balancers and docker-compose: is the app up, the database reachable, and its
    schema the one this code needs? A database restored from an older backup said "ok" while
    every login failed on a missing table (an ops audit)."""
    on_server = asked_on_the_server()
    try:
        stored = db_session().execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as failure:  # any database failure (no alembic_version: never migrated)
        db_session().rollback()
        if not _database_answers():
            refused = on_server and login_refused(getattr(failure, "orig", None) or failure)
            return jsonify(
                status="error", database=LOGIN_REFUSED if refused else "unreachable"
            ), 503
        stored = None
    needed = migrate.head_revision()
    if problem := storage_problem(current_app.config["SETTINGS"].storage_dir):
        said = problem if on_server else STORAGE_PROBLEM_BRIEF
        return jsonify(status="error", database="ok", storage=said), 503
    if stored != needed:
        return jsonify(
            status="error",
            database=f"schema {stored or 'missing'}, this version needs {needed}: run "
            "`cardio init-db`",
        ), 503
    jobs_state = jobs.service_state(db_session(), utcnow(), figures=on_server)
    db_session().rollback()  # a read: no transaction is left open
    space = storage_space(current_app.config["SETTINGS"].storage_dir)
    if not on_server:
        space = _brief(space, STORAGE_LOW_BRIEF)
    return jsonify(
        status="ok", database="ok", throttle=throttle_state(), jobs=jobs_state,
        queue=queue_state(), storage=space,
    ), 200  # fmt: skip


# What /health says to a caller off the server: the same "ok" or problem, without STORAGE_DIR's
# path or the queue's figures. Port 8000 is published, and anyone could read the server's
# folders and how many ECGs wait (an operations audit). The server's own health check, and an
# administrator's curl on it, ask from loopback and get the details.
STORAGE_PROBLEM_BRIEF = (
    "STORAGE_DIR cannot be written by the portal (ask /health on the server for details)"
)
STORAGE_LOW_BRIEF = (
    "little free space on the disk of STORAGE_DIR: uploads and PDFs fail when it is full "
    "(ask /health on the server for details)"
)


def asked_on_the_server() -> bool:
    """Whether the request comes from loopback: the client's address, as the trusted proxies
    saw it (ProxyFix, TRUSTED_PROXIES)."""
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _brief(said: str, brief: str) -> str:
    return said if said == "ok" else brief


def queue_state() -> str:
    """With JOB_WORKER=celery, whether the broker takes work ("ok" otherwise: no broker)."""
    if current_app.config["SETTINGS"].job_worker != "celery":
        return "ok"
    from portal import celery_app

    return celery_app.broker_state(current_app)


def throttle_state() -> str:
    """Whether the login throttle's counters can be shared: "ok", or what is wrong. A Redis
    holding them that is down leaves the portal working (each process counts meanwhile), so
    this is said, never a 503 that would stop the traffic (an ops audit: nothing showed it)."""
    limiter = current_app.extensions.get("cardio_limiter")
    if limiter is None or limiter.storage.check():
        return "ok"
    return (
        f"{current_app.config['SETTINGS'].rate_limit_storage_uri.partition('://')[0]} storage "
        "unreachable: each server process counts login attempts on its own meanwhile"
    )


def _database_answers() -> bool:
    try:
        db_session().execute(text("SELECT 1"))
    except Exception:
        db_session().rollback()
        return False
    return True


# Below this much free space on STORAGE_DIR's disk `/health` warns: a 24-h Holter is ~100 MB.
STORAGE_LOW_MB = 500


def storage_space(storage_dir: Path) -> str:
    """ "ok", or how little room is left for uploads and PDFs. A full disk was found only by
    the uploads it failed (an operations audit). Said, still 200: reading and signing work."""
    existing = storage_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free_mb = shutil.disk_usage(existing).free / 1e6
    if free_mb >= STORAGE_LOW_MB:
        return "ok"
    return (
        f"only {free_mb:.0f} MB free on the disk of STORAGE_DIR {storage_dir}: uploads and "
        "PDFs fail when it is full; free space or move STORAGE_DIR"
    )


def storage_problem(storage_dir: Path) -> str | None:
    """Why uploads and PDFs could not be stored in STORAGE_DIR, or None: it (or, before the
    first upload makes it, the nearest folder above it) must be a folder this process may
    write. STORAGE_DIR below a plain file passed every check and failed each upload with a
    500 (an ops audit)."""
    existing = storage_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"STORAGE_DIR {storage_dir} cannot be made: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"STORAGE_DIR {storage_dir}: {existing} is not writable by the portal"
    return None
