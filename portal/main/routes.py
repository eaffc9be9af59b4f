"""/ (home, by role) and /health."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from portal.access import public, roles
from portal.db import db_session
from portal.models import Role

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
    """For load balancers and docker-compose: is the app up and the database reachable?"""
    try:
        db_session().execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
