"""The portal under load: 50 logged-in users on 100,000 reports, headless (Locust).

    .venv/bin/python bench/bench_load.py                      # everything, ~8 min
    .venv/bin/python bench/bench_load.py --database-url URL   # a database seeded before

It starts a throwaway MariaDB (as the tests do: tests/support/mariadb.py), creates the schema,
seeds it (`cardio seed-load`), serves the portal with gunicorn (docker/gunicorn.conf.py: 2
workers x 4 threads), logs the users in (doctors with their two-step code) and for
`--duration` seconds mixes what clinicians do: the worklist (and its other statuses and
pages), a report's review page and then, most times, its chart (`ecg.json`: the overview,
then windows as the doctor pans), and patient search.
`/health` runs in the same load as the baseline: compare the ratios between runs, not the
milliseconds. Prints throughput, p50/p95/p99 and errors per kind of request.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PAGES = ("/worklist", "/reports/[id]", "/patients/?q=")  # the p95 target is for these
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
REPORT_LINK = re.compile(r'href="/reports/(\d+)"')
FRAGMENTS = ("mar", "ana", "sen", "lu", "ova", "son", "ric", "el", "CP1", "kar", "tom", "ya")

_logins: Any = None  # an iterator of (username, role, totp secret), set before the run
_password = ""
_logged_in = 0


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    if found is None:
        raise RuntimeError("no CSRF token on the login page")
    return found.group(1)


class Clinician(HttpUser):
    """A doctor or a staff member working through the worklist."""

    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        import pyotp

        self.username, role, secret = next(_logins)
        self.report_ids: list[int] = []
        page = self.client.get("/login", name="/login").text
        response = self.client.post(
            "/login",
            name="/login",
            allow_redirects=False,
            data={
                "username": self.username,
                "password": _password,
                "csrf_token": _csrf(page),
            },
        )
        if response.headers.get("Location", "").endswith("/login/verify"):
            page = self.client.get("/login/verify", name="/login/verify").text
            self.client.post(
                "/login/verify",
                name="/login/verify",
                allow_redirects=False,
                data={"code": pyotp.TOTP(secret).now(), "csrf_token": _csrf(page)},
            )
        global _logged_in
        _logged_in += 1
        self.worklist()

    @task(4)
    def worklist(self) -> None:
        choice = random.random()
        url = "/worklist"
        if choice < 0.2:
            url += f"?status=final&page={random.randint(1, 20)}"
        elif choice < 0.3:
            url += "?status=all"
        html = self.client.get(url, name="/worklist").text
        found = [int(i) for i in REPORT_LINK.findall(html)]
        if found:
            self.report_ids = found

    @task(4)
    def review(self) -> None:
        """A report's page, then (most times) its chart as the viewer asks for it: the
        overview, then windows as the doctor pans, a pause between."""
        if not self.report_ids:
            return
        report_id = random.choice(self.report_ids)
        self.client.get(f"/reports/{report_id}", name="/reports/[id]")
        if random.random() < 0.4:
            return
        chart = f"/reports/{report_id}/ecg.json"
        self.client.get(f"{chart}?overview=1", name="/reports/[id]/ecg.json?overview")
        start_s = 0.0
        for _ in range(random.randint(1, 3)):
            self.client.get(
                f"{chart}?start_s={start_s}&end_s={start_s + 10}",
                name="/reports/[id]/ecg.json (window)",
            )
            start_s += random.choice((5.0, 10.0))
            time.sleep(random.uniform(0.5, 1.5))

    @task(2)
    def search(self) -> None:
        self.client.get(f"/patients/?q={random.choice(FRAGMENTS)}", name="/patients/?q=")

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="/health")


# --------------------------------------------------------------------------- the run


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cardio(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(VENV_BIN / "cardio"), *args], env=env, check=True, cwd=ROOT)


def _wait_for(url: str, timeout_s: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _row_lock_waits(database_url: str) -> dict[str, int]:
    """InnoDB's row lock waits so far (the audit chain head is one row every audited page
    locks until its commit: waits there show as these)."""
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SHOW GLOBAL STATUS WHERE Variable_name IN "
                "('Innodb_row_lock_waits', 'Innodb_row_lock_time')"
            ).all()
        return {str(name): int(value) for name, value in rows}
    finally:
        engine.dispose()


def _cpu_seconds(pid: int) -> float:
    """CPU time used so far by gunicorn and its workers (which live as long as the run)."""
    import psutil

    master = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [master, *master.children()])


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--doctors", type=int, default=30, help="of the users (the rest staff)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--database-url", help="a database `cardio seed-load` filled already")
    parser.add_argument("--work-dir", type=Path, help="storage and instance (with --database-url)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    server = None
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="cardio-load-"))
    env = {
        **os.environ,
        "CARDIO_ENV": "development",
        "JOB_WORKER": "none",
        "STORAGE_DIR": str(work / "storage"),
        "INSTANCE_DIR": str(work / "instance"),
        "SECRET_KEY": "load-test-" + "k" * 40,
        "RATE_LIMIT_STORAGE_URI": "memory://",
    }
    gunicorn = None
    try:
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        else:
            from tests.support.mariadb import MariaDBServer, _admin_sql, create_database

            server = MariaDBServer(work / "mariadb")
            server.start()
            # What a database server of a 100,000-report portal has: its data in memory.
            _admin_sql(server.host_url, "SET GLOBAL innodb_buffer_pool_size = 2147483648")
            env["DATABASE_URL"] = create_database(server.host_url, "cardio_load")
            _cardio(env, "init-db")
            started = time.monotonic()
            _cardio(
                env,
                "seed-load",
                "--reports",
                str(args.reports),
                "--doctors",
                str(max(args.doctors, 1)),
                "--staff",
                str(max(1, args.users - args.doctors)),
            )
            print(f"Seeded {args.reports} reports in {time.monotonic() - started:.0f} s.")
        credentials = json.loads((work / "instance" / "load-credentials.json").read_text())
        port = _free_port()
        log = open(work / "gunicorn.log", "ab")  # noqa: SIM115 (lives with the process)
        gunicorn = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                str(ROOT / "docker" / "gunicorn.conf.py"),
                # Keep-alive longer than the users' pauses: as a reverse proxy keeps its
                # connections (the default 2 s races the 1-3 s think time: reset connections).
                "--bind",
                f"127.0.0.1:{port}",
                "--keep-alive",
                "10",
                "portal.wsgi:app",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        host = f"http://127.0.0.1:{port}"
        _wait_for(f"{host}/health")
        locks_before = _row_lock_waits(env["DATABASE_URL"])
        figures = _run(host, credentials, args, gunicorn.pid)
        locks_after = _row_lock_waits(env["DATABASE_URL"])
        figures["row_lock_waits"] = {k: locks_after[k] - locks_before[k] for k in locks_after}
        figures["load_average_after"] = _load_average()
        _print(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        if server is not None:
            server.stop()
        if not args.work_dir and not args.database_url:
            shutil.rmtree(work, ignore_errors=True)


def _run(
    host: str, credentials: dict[str, Any], args: argparse.Namespace, server_pid: int
) -> dict[str, Any]:
    import gevent
    from locust.env import Environment

    global _logins, _password
    users = credentials["users"]
    doctors = [u for u in users if u["role"] == "doctor"][: args.doctors]
    staff = [u for u in users if u["role"] == "staff"][: args.users - len(doctors)]
    _logins = itertools.cycle(
        [(u["username"], u["role"], u["totp_secret"]) for u in doctors + staff]
    )
    _password = credentials["password"]
    environment = Environment(user_classes=[Clinician], host=host)
    runner = environment.create_local_runner()
    load_before = _load_average()
    runner.start(args.users, spawn_rate=10)
    deadline = time.monotonic() + 300
    while _logged_in < args.users and time.monotonic() < deadline:
        gevent.sleep(0.5)  # logins (bcrypt, cost 12) are not the measure: all in first
    logins = environment.stats.get("/login", "POST")
    login_p95_ms = logins.get_response_time_percentile(0.95)
    environment.stats.reset_all()
    started, cpu_before = time.monotonic(), _cpu_seconds(server_pid)
    gevent.sleep(args.duration)
    elapsed = time.monotonic() - started
    portal_cpu_per_s = round((_cpu_seconds(server_pid) - cpu_before) / elapsed, 2)
    runner.quit()
    rows = {}
    for entry in environment.stats.entries.values():
        rows[entry.name] = {
            "requests": entry.num_requests,
            "errors": entry.num_failures,
            "per_s": round(entry.num_requests / elapsed, 1),
            **{f"p{q}_ms": entry.get_response_time_percentile(q / 100) for q in (50, 95, 99)},
        }
    total = environment.stats.total
    pages = [rows[name] for name in PAGES if name in rows]
    errors = {
        f"{e.method} {e.name}: {e.error}": e.occurrences for e in environment.stats.errors.values()
    }
    return {
        "users": args.users,
        "duration_s": round(elapsed, 1),
        "requests": total.num_requests,
        "per_s": round(total.num_requests / elapsed, 1),
        "errors": total.num_failures,
        "error_kinds": errors,
        "rows": rows,
        "load_average_before": load_before,
        "pages_p95_ms": max((r["p95_ms"] for r in pages), default=None),
        "cpus": os.cpu_count(),
        "logged_in": _logged_in,
        "login_p95_ms": login_p95_ms,
        "portal_cpu_per_s": portal_cpu_per_s,
    }


def _print(figures: dict[str, Any]) -> None:
    rows = figures["rows"]
    base = rows.get("/health", {})
    print(
        f"\n{figures['users']} users, {figures['duration_s']} s, {figures['cpus']} CPUs "
        f"(load average before {figures['load_average_before']}, after "
        f"{figures['load_average_after']})"
    )
    print(
        f"{'request':40} {'n':>6} {'/s':>6} {'err':>4} {'p50':>6} {'p95':>6} {'p99':>6}"
        f"  {'p50/health':>10} {'p95/health':>10}"
    )
    for name, row in sorted(rows.items()):
        ratios = [
            f"{row[q] / base[q]:10.1f}" if base.get(q) else f"{'-':>10}"
            for q in ("p50_ms", "p95_ms")
        ]
        print(
            f"{name:40} {row['requests']:6d} {row['per_s']:6.1f} {row['errors']:4d} "
            f"{row['p50_ms']:6.0f} {row['p95_ms']:6.0f} {row['p99_ms']:6.0f}  {' '.join(ratios)}"
        )
    print(
        f"{figures['logged_in']} users logged in first (POST /login p95 "
        f"{figures['login_p95_ms']} ms, not counted below)"
    )
    print(
        f"all: {figures['requests']} requests, {figures['per_s']} /s, {figures['errors']} errors; "
        f"pages' p95 {figures['pages_p95_ms']} ms (target <= 250)"
    )
    print(f"portal (gunicorn) CPU: {figures.get('portal_cpu_per_s')} s per s of the run")
    locks = figures.get("row_lock_waits", {})
    print(
        f"row lock waits during the run: {locks.get('Innodb_row_lock_waits')}, "
        f"{locks.get('Innodb_row_lock_time')} ms in all"
    )
    for kind, n in figures["error_kinds"].items():
        print(f"  error x{n}: {kind}")


if __name__ == "__main__":
    main()
