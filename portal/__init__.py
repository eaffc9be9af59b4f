"""CardioPortal: the hospital ECG portal (Flask). The application factory lives in
portal/app.py; this package hands it out on first use (`from portal import create_app`), so a
`cardio` command that needs no web application (`cardio analyze`) starts without importing
Flask's extensions, SQLAlchemy and every blueprint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portal.app import create_app, csrf, login_manager, start_job_worker

__all__ = ["create_app", "csrf", "login_manager", "start_job_worker"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from portal import app

        return getattr(app, name)
    raise AttributeError(f"module 'portal' has no attribute {name!r}")
