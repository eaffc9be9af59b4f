"""Vendored browser files (static/vendor/): each is listed with its version and SHA-256 and has
its licence beside it, and browsers may keep it for a year because its name is versioned."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask

from portal.review.routes import PLOTLY_BUNDLE
from tests.conftest import People, client_for

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
LISTED = re.compile(r"^\| `([^`]+)` \|[^|]+\| ([^|]+) \| `([0-9a-f]{64})` \| [^|]*`([^`]+)` \|$")


def _listed() -> dict[str, tuple[str, str, str]]:
    """file -> (version, SHA-256, licence file), from the table of static/vendor/README.md."""
    rows = [LISTED.match(line) for line in (VENDOR / "README.md").read_text().splitlines()]
    return {m[1]: (m[2], m[3], m[4]) for m in rows if m}


def test_every_vendored_file_is_listed_with_its_hash_version_and_licence() -> None:
    listed = _listed()
    assert PLOTLY_BUNDLE in listed
    licences = {licence for _, _, licence in listed.values()}
    assert {p.name for p in VENDOR.iterdir()} == {*listed, *licences, "README.md"}
    for name, (version, sha256, licence) in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256, name
        assert version.split()[0] in name  # a new version is a new URL
        assert "Permission is hereby granted" in (VENDOR / licence).read_text()
    head = (VENDOR / PLOTLY_BUNDLE).read_text()[:200]
    assert f"plotly.js (basic - minified) v{listed[PLOTLY_BUNDLE][0].split()[0]}" in head


def test_vendored_files_are_cached_for_a_year_and_other_static_files_revalidated(
    app: Flask, people: People
) -> None:
    client = app.test_client()  # no login: the library holds no patient data
    bundle = client.get(f"/static/vendor/{PLOTLY_BUNDLE}")
    assert bundle.status_code == 200 and bundle.mimetype == "text/javascript"
    assert bundle.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    script = client.get("/static/js/ecg_review.js")
    assert "immutable" not in script.headers.get("Cache-Control", "")
    page = client_for(app, people.doctor).get("/worklist")
    assert page.headers["Cache-Control"] == "no-store"
