"""docker-compose.yml and the Dockerfile are correct by construction (no Docker engine in CI)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_file_validates_where_a_compose_client_exists() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no docker compose client on this machine")
    env = {
        "MYSQL_PASSWORD": "x",
        "MYSQL_ROOT_PASSWORD": "y",
        "SECRET_KEY": "k" * 64,
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [*command, "config"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "mysql:8.4" in result.stdout
    missing = subprocess.run(
        [*command, "config"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0  # secrets are required, never defaulted


def test_compose_and_dockerfile_keep_secrets_out_and_check_health() -> None:
    compose = (PROJECT_ROOT / "docker-compose.yml").read_text()
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "image: mysql:8.4" in compose
    assert "${SECRET_KEY:?" in compose and "${MYSQL_PASSWORD:?" in compose
    # db, redis and app check their health; the worker turns off the image's (web) check
    assert compose.count("healthcheck:") == 4 and "service_healthy" in compose
    assert "image: redis:7" in compose and "JOB_WORKER: celery" in compose
    assert "disable: true" in compose and "celery-worker" in compose
    assert "CARDIO_ENV: production" in compose or "CARDIO_ENV=production" in compose
    assert "HEALTHCHECK" in dockerfile and "USER cardio" in dockerfile
    assert "constraints.txt" in dockerfile
    entrypoint = (PROJECT_ROOT / "docker" / "entrypoint.sh").read_text()
    assert "cardio init-db" in entrypoint and "portal.wsgi:app" in entrypoint


def test_compose_passes_every_setting_to_the_containers() -> None:
    """Compose passes into a container only the variables it names: TIME_ZONE, CLINIC_CONTACT
    and six more set in .env (as .env.example shows) never reached the portal (an ops audit).
    Every variable of the README's configuration table is named, or set by compose itself."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## Running on MySQL")]
    documented = set(re.findall(r"^\| `([A-Z_]+)`", table, re.MULTILINE))
    compose = (PROJECT_ROOT / "docker-compose.yml").read_text()
    environment = compose[: compose.index("services:")]
    passed = set(re.findall(r"^  ([A-Z_]+):", environment, re.MULTILINE))
    assert {"TIME_ZONE", "CLINIC_CONTACT", "TRUSTED_PROXIES"} <= documented
    assert documented - passed == set(), documented - passed


def test_the_readmes_storage_backup_command_succeeds_and_leaves_uploads_in_flight_out(
    tmp_path: Path,
) -> None:
    """The README's `tar` line as written (an operations audit: as first written it exited 1
    whenever an upload changed a file while it read, failing every daytime backup job)."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    backups = readme[readme.index("### Backups and restore") :]
    command = re.search(r"^tar czf .*?(?<!\\)$", backups, re.MULTILINE | re.DOTALL)
    assert command is not None
    line = command.group(0).replace("/var/lib/cardioportal", str(tmp_path))
    (tmp_path / "storage" / "tmp").mkdir(parents=True)
    (tmp_path / "storage" / "tmp" / "upload-in-flight.part").write_bytes(b"half")
    (tmp_path / "storage" / "recordings").mkdir()
    (tmp_path / "storage" / "recordings" / "1.dat").write_bytes(b"ecg")
    done = subprocess.run(["bash", "-euc", line], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    archived = subprocess.run(
        ["bash", "-c", "tar tzf cardio-storage-*.tgz"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert "storage/recordings/1.dat" in archived
    assert not [name for name in archived if name.startswith("storage/tmp")]
