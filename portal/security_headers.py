"""HTTP headers every response carries (OWASP ASVS V14.4): a strict Content-Security-Policy
(scripts only from this site: no inline script anywhere, data blocks are type
application/json), no framing, no MIME sniffing, no referrer leaving the site, HSTS in
production, and `Cache-Control: no-store` on everything but the static files, because pages,
JSON and PDFs of a logged-in user hold patient data that must not stay in shared caches."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # Plotly sets style attributes and <style> elements on the charts it draws.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        # No blob: workers: the partial Plotly bundle (static/vendor/) has no WebGL traces.
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"
VERSIONED_STATIC = "/static/vendor/"


def init_app(app: Flask, *, production: bool) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # Same-origin: other sites get no referrer (a searched name in a URL stays here), and a
        # form sent after its session ended can return to its page after login (with
        # no-referrer browsers sent none, so `access._page_sent_from` never knew it).
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if production:
            headers["Strict-Transport-Security"] = HSTS
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        elif request.path.startswith(VERSIONED_STATIC):
            # A vendored file's name carries its version (static/vendor/README.md): new bytes
            # come under a new URL, so browsers keep it without asking again.
            headers["Cache-Control"] = "public, max-age=31536000, immutable"
        headers.pop("Server", None)  # gunicorn's own banner: see docker/gunicorn.conf.py
        # The server writes Date (gunicorn always, Werkzeug's when none is given); `send_file`
        # adds its own, and two Date headers break RFC 9110 (an access audit).
        headers.pop("Date", None)
        return response
