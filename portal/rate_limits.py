"""Login throttling per client address (Flask-Limiter), on top of the per-account lockout
kept in the database (services/accounts.py). The counters live in the portal's database by
default (portal/rate_limit_storage.py), so every server process shares them and a restart keeps
them; RATE_LIMIT_STORAGE_URI=redis://... puts them in Redis, memory:// in each process."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from portal import rate_limit_storage

THROTTLED_ENDPOINTS = ("auth.login", "auth.verify")


def init_app(app: Flask, *, limit: str, storage_uri: str) -> Limiter:
    """Call after the blueprints are registered: it wraps their login views. The limiter is
    kept in app.extensions["cardio_limiter"] for `limit_per_token` (Flask-Limiter keeps its
    own set under "limiter", which `cardio limiter` reads: replacing it crashed that command)."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri,
        storage_options=_storage_options(app, storage_uri),
        default_limits=[],
        # A Redis that is down: count in this process meanwhile. Every login had answered 500
        # while /health said ok, the whole hospital locked out (an ops audit).
        in_memory_fallback_enabled=True,
    )
    for endpoint in THROTTLED_ENDPOINTS:
        view = app.view_functions[endpoint]
        throttled = limiter.limit(limit, methods=["POST"])(view)
        app.view_functions[endpoint] = throttled  # type: ignore[assignment]
    app.extensions["cardio_limiter"] = limiter
    return limiter


def _storage_options(app: Flask, storage_uri: str) -> dict[str, Any]:
    """The database storage counts through the portal's engine; Redis and memory need
    nothing more than their URI."""
    if storage_uri.partition("://")[0] == rate_limit_storage.SCHEME:
        return {"engine": app.extensions["db_engine"]}
    return {}


def token_key() -> str:
    """Machine requests are counted per API token (the guard sets g.api_token first)."""
    token = g.get("api_token")
    return f"api-token:{token.id}" if token is not None else get_remote_address()


def limit_per_token(app: Flask, blueprint: Blueprint, limit: str) -> None:
    """Every route of an API blueprint limited per token (API_RATE_LIMIT), one budget per
    token across all its routes and API blueprints (a plain `limit` counts each route apart)."""
    app.extensions["cardio_limiter"].shared_limit(limit, "api-token", key_func=token_key)(blueprint)
