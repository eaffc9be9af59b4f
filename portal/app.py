"""The Flask application factory (`from portal import create_app`: see portal/__init__.py)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import (
    access,
    db,
    errors,
    local_time,
    rate_limits,
    request_ids,
    security_headers,
    session_cookie,
    uploads,
)
from portal.config import PROJECT_ROOT, Settings, load_settings

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")  # always answered (health checks)

csrf = CSRFProtect()
login_manager = LoginManager()


def create_app(settings: Settings | None = None, **flask_config: Any) -> Flask:
    """Build the app from `settings` (default: the environment); `flask_config` overrides."""
    settings = settings or load_settings()
    app = Flask(
        "portal",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(settings.instance_dir),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.session_lifetime_minutes),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + uploads.FORM_FIELDS_ALLOWANCE_BYTES,
        MAX_FORM_MEMORY_SIZE=uploads.FORM_LIMIT_BYTES,
        # Other Host headers: 400. Loopback names too: the container's health check asks
        # http://127.0.0.1:8000/health, and with TRUSTED_HOSTS set it was refused, the app
        # "unhealthy" and the worker, which waits for it, never started (an ops audit).
        TRUSTED_HOSTS=[*settings.trusted_hosts, *LOOPBACK_HOSTS]
        if settings.trusted_hosts
        else None,
    )
    app.config.update(flask_config)
    if settings.trusted_proxies:  # the client's address and scheme as the proxies saw them
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    request_ids.init_app(app)  # an id for each request, its log lines and its 500 page
    db.init_app(app, settings.database_url)
    session_cookie.init_app(app)  # polls do not re-send the cookie (portal/session_cookie.py)
    _init_login(app)
    access.init_app(app)  # before CSRF: an anonymous POST is sent to log in, not told "expired"
    uploads.init_app(app)  # before CSRF: the size limit must apply to its read of the body
    csrf.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app, production=settings.is_production)
    _register_blueprints(app)
    rate_limits.init_app(
        app, limit=settings.login_rate_limit, storage_uri=settings.rate_limit_storage_uri
    )
    from portal import api  # /api/v1 (portal/api/): after the limiter, which limits it per token

    api.init_app(app)
    from portal import fhir  # /fhir/r4 (portal/fhir/): likewise after the limiter

    fhir.init_app(app)

    @app.template_filter("local_time")
    def _local_time(when: dt.datetime | None, pattern: str = "%Y-%m-%d %H:%M %Z") -> str:
        return local_time.shown(when, settings.zone, pattern)

    @app.template_filter("clock")
    def _clock(t_s: float, duration_s: float) -> str:
        """Time into a recording of `duration_s` as the clinician report says it ("61.0 s", or
        "0:19:43" throughout a Holter's)."""
        from ml.gaps import HMS_FROM_S, clock

        return clock(t_s, duration_s >= HMS_FROM_S)

    @app.template_filter("clock_end")
    def _clock_end(end_s: float, duration_s: float) -> str:
        """An episode's end as the episode table's "To" says it: on the h:mm:ss clock, up to
        the next whole second, so From-To covers the episode (`clock` cuts to the second, and
        a dropped beat at 1546.04-1547.99 s read "0:25:46" to "0:25:47" beside "2.0 s")."""
        from ml.gaps import HMS_FROM_S, clock

        as_hms = duration_s >= HMS_FROM_S
        return clock(math.ceil(round(end_s, 3)) if as_hms else end_s, as_hms)

    @app.template_filter("time_of_day")
    def _time_of_day(t_s: float, recording: Any) -> str:
        """A moment `t_s` into `recording` on the hospital's clock ("21:29:33"), or "" when
        the file gave no start time (`local_time.recording_clock`)."""
        clock_time = local_time.recording_clock(recording)
        return clock_time(t_s) if clock_time else ""

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from portal.risk_words import (
            NOT_SIZED,
            band_text,
            change_text,
            effects_sized,
            factor_label,
            input_label,
            input_value,
            model_title,
            percent_text,
            points_banded,
            points_factor_text,
            raised_most_text,
            risk_figure_text,
            score_points,
        )
        from portal.services.reference import reference_marker

        return {
            "institution_name": settings.institution_name,
            "model_title": model_title,  # risk models and factors in words, on every page
            "factor_label": factor_label,
            "input_label": input_label,  # a risk score's inputs with their units
            "input_value": input_value,
            "points_factor_text": points_factor_text,  # "age (82 years)": a GRACE factor
            "raised_most_text": raised_most_text,  # ranked as the risk page ranks it
            "risk_figure_text": risk_figure_text,  # "> 30 %" above a model's calibrated range
            "score_points": score_points,  # a GRACE score's points, its band of them and
            "band_text": band_text,  # its percentage with the percentage's source
            "percent_text": percent_text,
            "change_text": change_text,  # the what-if's, a nomogram's bound a bound
            "points_banded": points_banded,
            "effects_sized": effects_sized,  # no percentage-point sizes beyond calibration
            "not_sized": NOT_SIZED,
            "reference_marker": reference_marker,  # a teaching/QA record, wherever it is shown
        }

    return app


def start_job_worker(app: Flask) -> None:
    """With JOB_WORKER=thread, run analysis jobs in a thread of this process. Only servers
    call it (`portal.wsgi`, `cardio demo`): an app built for a command such as
    `cardio create-user` must not claim a queued job and leave it "running" when it exits."""
    if app.config["SETTINGS"].job_worker != "thread" or "worker" in app.extensions:
        return
    from portal.worker import Worker

    app.extensions["worker"] = Worker(app)
    app.extensions["worker"].start()


def _init_login(app: Flask) -> None:
    from portal.services.accounts import load_session_account

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(session_id: str) -> Any:
        return load_session_account(db.db_session(), session_id)


def _register_blueprints(app: Flask) -> None:
    from portal.admin.routes import bp as admin_bp
    from portal.auth.routes import bp as auth_bp
    from portal.converters import IdConverter
    from portal.main.routes import bp as main_bp
    from portal.myhealth.routes import bp as myhealth_bp
    from portal.patients.routes import bp as patients_bp
    from portal.recordings.routes import bp as recordings_bp
    from portal.review.routes import bp as review_bp
    from portal.scores.routes import bp as scores_bp

    app.url_map.converters["id"] = IdConverter  # <id:...>: ids past the columns are a 404
    for blueprint in (
        main_bp, auth_bp, admin_bp, patients_bp, scores_bp, recordings_bp, review_bp, myhealth_bp
    ):  # fmt: skip
        app.register_blueprint(blueprint)
