"""Login throttling per client address (Flask-Limiter), on top of the per-account lockout
kept in the database (services/accounts.py). The counters live in memory per process by
default, or in Redis (RATE_LIMIT_STORAGE_URI=redis://...) so every process shares them."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

THROTTLED_ENDPOINTS = ("auth.login", "auth.verify")


def init_app(app: Flask, *, limit: str, storage_uri: str) -> Limiter:
    """Call after the blueprints are registered: it wraps their login views."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri, default_limits=[])
    for endpoint in THROTTLED_ENDPOINTS:
        view = app.view_functions[endpoint]
        throttled = limiter.limit(limit, methods=["POST"])(view)
        app.view_functions[endpoint] = throttled  # type: ignore[assignment]
    return limiter
