"""Configuration read from environment variables (see .env.example and the README).

Development runs need no set-up: SQLite under instance/, a random secret key kept in
instance/secret_key. Production (CARDIO_ENV=production) refuses to start without a real key
or a DATABASE_URL.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from limits import parse_many
from limits.storage import SCHEMES

from portal.local_time import zone_named

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"

# Keys that have appeared in examples or docs: a production run must never use one.
KNOWN_INSECURE_KEYS = frozenset({"", "dev", "change-me", "changeme", "secret", "replace-me"})
MIN_SECRET_KEY_CHARS = 32
MIN_SECRET_KEY_GUESSES_LOG10 = 38  # about 126 bits; 64 random hex digits give over 60


class ConfigError(RuntimeError):
    """The environment does not describe a runnable portal; the message says how to fix it."""


@dataclass
class Settings:
    environment: str
    database_url: str
    secret_key: str
    storage_dir: Path
    instance_dir: Path
    institution_name: str = "CardioPortal demo hospital"
    session_lifetime_minutes: int = 30  # idle timeout
    session_absolute_hours: int = 12  # however active, a login lasts at most this long
    login_rate_limit: str = "60 per minute; 1000 per hour"  # per client address
    api_rate_limit: str = "600 per minute"  # per API token
    # The throttles' counters: the portal's database (shared by every process, kept over a
    # restart), or redis://host:6379/0, or memory:// (each process its own, lost on restart).
    rate_limit_storage_uri: str = "cardio-db://"
    patients_per_page: int = 20
    max_upload_mb: int = 100
    # "thread": an in-process worker runs analysis jobs; "none": another process does (or tests);
    # "celery": Celery workers do, told of each job through the broker (portal/celery_app.py).
    job_worker: str = "thread"
    celery_broker_url: str = "redis://127.0.0.1:6379/0"
    # How often each Celery worker sweeps: requeues dead workers' jobs and sends again the
    # message of work queued this long while the broker's queue is empty (a lost message).
    job_sweep_seconds: int = 15
    job_timeout_minutes: int = 15
    # A job stops (and fails with a message) when the worker process's memory passes this.
    job_memory_limit_mb: int = 6000
    mitdb_dir: Path | None = None
    reports_per_page: int = 25
    clinic_contact: str = "Cardiology clinic, phone +1 555 0100"
    # The number a patient summary says to call for an ambulance ("112", "999", "911"); empty:
    # "call an ambulance", no number.
    emergency_number: str = ""
    # How long a signed report with a dangerous finding (VF, VT, complete heart block, ST
    # elevation) waits before the patient may read it, unless the doctor says it was
    # discussed with them or releases it sooner (`reports.patient_release_at`); 0: at once.
    patient_hold_hours: int = 72
    page_size: str = "A4"  # or "Letter"
    # May patients download the clinician report as well as their plain-language summary?
    patients_get_clinician_pdf: bool = False
    time_zone: str = "UTC"  # IANA name; every displayed time is shown in it
    # Reverse proxies in front of the portal whose X-Forwarded-For / -Proto it trusts: 0 (the
    # default) trusts none; 1 behind one TLS-terminating proxy. Behind a proxy with 0 every
    # user is the proxy's address: one login throttle for the whole hospital, and the audit
    # trail loses who connected from where (an ops audit).
    trusted_proxies: int = 0
    # The host names the portal answers to ("portal.hospital.org"); any other Host header is
    # answered 400. Empty: any (the embedded default). The FHIR server's absolute links
    # (paging, fullUrl, PDFs, bulk export files) are built from the Host a client sent: an
    # audit had them point at "evil.example", where a client following them sends its token.
    trusted_hosts: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.time_zone)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def _guesses_log10(key: str) -> float:
    """How many guesses (log10) zxcvbn needs for the key: low for repeats and phrases."""
    from zxcvbn import zxcvbn

    return float(zxcvbn(key[:100])["guesses_log10"])


def _secret_key(environment: str, instance_dir: Path) -> str:
    key = os.environ.get("SECRET_KEY", "")
    if environment == "production":
        if (
            key.strip().lower() in KNOWN_INSECURE_KEYS
            or len(key) < MIN_SECRET_KEY_CHARS
            or _guesses_log10(key) < MIN_SECRET_KEY_GUESSES_LOG10
        ):
            raise ConfigError(
                "Refusing to start in production: SECRET_KEY is missing, a default, shorter "
                f"than {MIN_SECRET_KEY_CHARS} characters, or guessable (repeats, words, "
                "patterns). Generate one with "
                "`python -c 'import secrets; print(secrets.token_hex(32))'` and set SECRET_KEY."
            )
        return key
    if key:
        return key
    # Development: one random key per checkout, so sessions survive a restart.
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url(environment: str, instance_dir: Path) -> str:
    """The embedded SQLite file unless DATABASE_URL names another. Production must name one,
    even SQLite: without it each web server and worker machine silently kept its own empty
    database in its own instance folder (an ops audit), and uploads analysed on one were lost
    to the others."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    if environment == "production":
        raise ConfigError(
            "Refusing to start in production: DATABASE_URL is not set, so every server would "
            "keep its own SQLite file. Set DATABASE_URL to the hospital's database, e.g. "
            "mysql+pymysql://cardio:PASSWORD@db-host:3306/cardio (or, for a single machine, "
            "sqlite:////var/lib/cardio/cardio.db)."
        )
    return f"sqlite:///{instance_dir / 'cardio.db'}"


def load_settings() -> Settings:
    """Settings for this process, from the environment."""
    environment = os.environ.get("CARDIO_ENV", "development").strip().lower()
    if environment not in {"development", "production", "test"}:
        raise ConfigError(
            f"CARDIO_ENV={environment!r} is not one of development, production, test."
        )
    if environment == "production" and _flask_debug_requested():
        raise ConfigError(
            "Refusing to start in production with FLASK_DEBUG on: debug mode shows internals "
            "to users. Remove FLASK_DEBUG (or set it to 0)."
        )
    _check_bcrypt_rounds()
    instance_dir = _private_instance_dir(
        Path(os.environ.get("INSTANCE_DIR", DEFAULT_INSTANCE_DIR)).resolve()
    )
    secret_key = _secret_key(environment, instance_dir)
    database_url = _database_url(environment, instance_dir)
    storage_dir = Path(os.environ.get("STORAGE_DIR", instance_dir / "storage")).resolve()
    if storage_dir.is_relative_to(PROJECT_ROOT / "static"):
        raise ConfigError("STORAGE_DIR must be outside the web root (static/).")
    return Settings(
        environment=environment,
        database_url=database_url,
        secret_key=secret_key,
        storage_dir=storage_dir,
        instance_dir=instance_dir,
        institution_name=os.environ.get("INSTITUTION_NAME", Settings.institution_name),
        session_lifetime_minutes=_positive_int(
            "SESSION_LIFETIME_MINUTES", Settings.session_lifetime_minutes
        ),
        session_absolute_hours=_positive_int(
            "SESSION_ABSOLUTE_HOURS", Settings.session_absolute_hours
        ),
        login_rate_limit=_rate_limit("LOGIN_RATE_LIMIT", Settings.login_rate_limit),
        api_rate_limit=_rate_limit("API_RATE_LIMIT", Settings.api_rate_limit),
        rate_limit_storage_uri=_rate_limit_storage(),
        max_upload_mb=_positive_int("MAX_UPLOAD_MB", Settings.max_upload_mb),
        job_worker=_choice("JOB_WORKER", ("thread", "none", "celery"), Settings.job_worker),
        celery_broker_url=_celery_broker_url(),
        job_sweep_seconds=_positive_int("JOB_SWEEP_SECONDS", Settings.job_sweep_seconds),
        job_timeout_minutes=_positive_int("JOB_TIMEOUT_MINUTES", Settings.job_timeout_minutes),
        job_memory_limit_mb=_positive_int("JOB_MEMORY_LIMIT_MB", Settings.job_memory_limit_mb),
        mitdb_dir=_optional_dir("MITDB_DIR") or _shared_mitdb(),
        clinic_contact=os.environ.get("CLINIC_CONTACT", Settings.clinic_contact),
        emergency_number=os.environ.get("EMERGENCY_NUMBER", "").strip()[:20],
        patient_hold_hours=_whole_number("PATIENT_HOLD_HOURS", Settings.patient_hold_hours),
        page_size=_page_size(),
        patients_get_clinician_pdf=_yes_or_no("PATIENTS_GET_CLINICIAN_PDF"),
        time_zone=_time_zone(),
        trusted_proxies=_whole_number("TRUSTED_PROXIES", Settings.trusted_proxies),
        trusted_hosts=tuple(
            h.strip().lower() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()
        ),
    )


def _flask_debug_requested() -> bool:
    """FLASK_DEBUG as Flask reads it when it builds the app's config (flask.helpers)."""
    value = os.environ.get("FLASK_DEBUG", "")
    return bool(value) and value.lower() not in {"0", "false", "no"}


def _private_instance_dir(instance_dir: Path) -> Path:
    """An existing instance folder tightened to 0700: it holds the secret key and the SQLite
    database, and `mkdir -p` (the image, `cardio init-db`, an older version) made it 0755.
    A missing one is left for whoever needs it first (made 0700 there). One that is a file, or
    cannot be tightened (a read-only mount), is a ConfigError in words: it had ended in a
    49-line traceback (an ops audit)."""
    if instance_dir.exists() and not instance_dir.is_dir():
        raise ConfigError(f"INSTANCE_DIR={str(instance_dir)!r} is a file, not a folder.")
    if instance_dir.is_dir():
        from portal.storage import private_dir

        try:
            private_dir(instance_dir)
        except OSError as problem:
            raise ConfigError(
                f"INSTANCE_DIR={str(instance_dir)!r} cannot be used: {problem.strerror} (the "
                "portal's user must be able to write it, and it must not be a read-only mount)."
            ) from None
    return instance_dir


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not _ascii_digits(raw) or int(raw) <= 0:
        raise ConfigError(f"{name}={raw!r} must be a positive whole number.")
    return int(raw)


# Settings an installer can get wrong are refused at start, in words: "30m" minutes, a bcrypt
# cost of "abc" (the first password hashed failed with a traceback) or 3, "ja" read silently
# as false (an ops audit).
def _ascii_digits(raw: str) -> bool:
    """Digits int() reads: str.isdigit() takes "²" (a traceback in int()) and "１" too."""
    return raw.isascii() and raw.isdigit()


def _yes_or_no(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name}={raw!r} must be true or false.")


def _check_bcrypt_rounds() -> None:
    raw = os.environ.get("BCRYPT_ROUNDS", "").strip()
    if raw and (not _ascii_digits(raw) or not 4 <= int(raw) <= 31):
        raise ConfigError(
            f"BCRYPT_ROUNDS={raw!r} must be a whole number from 4 to 31 (12: the default)."
        )


def _rate_limit(name: str, default: str) -> str:
    """A limit as Flask-Limiter reads it ("60 per minute; 1000 per hour"). An ops audit: "3
    per fortnight" or "lots" had turned the login throttle off without a word."""
    raw = os.environ.get(name, "").strip() or default
    try:
        items = parse_many(raw)
        if any(item.amount < 1 for item in items) or re.search(r"\bper\s+0", raw):
            raise ValueError("zero")  # "0 per minute" refused every login (a review)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not a rate limit: write e.g. '60 per minute; 1000 per hour' "
            "(1 or more per second, minute, hour, day, month or year)."
        ) from None
    return raw


def _rate_limit_storage() -> str:
    """RATE_LIMIT_STORAGE_URI with a scheme Flask-Limiter knows (or the portal's database,
    `cardio-db://`): a typo had printed a 48-line traceback at every `cardio` command."""
    raw = os.environ.get("RATE_LIMIT_STORAGE_URI", "").strip() or Settings.rate_limit_storage_uri
    supported = {s for s in SCHEMES if not s.startswith("async+")} | {"cardio-db"}
    if raw.partition("://")[0] not in supported:
        raise ConfigError(
            f"RATE_LIMIT_STORAGE_URI={raw!r}: the scheme must be one of "
            f"{', '.join(sorted(supported))}, or leave it empty for the portal's database."
        )
    return raw


def _celery_broker_url() -> str:
    """CELERY_BROKER_URL (else REDIS_URL) with a transport Kombu knows before its "://". An ops
    audit's "redis//:PASSWORD@host:6379/0" was read by Kombu as amqp://guest@localhost, the
    workers retried it for ever and /health showed it, password and all. Never printed."""
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        if raw := os.environ.get(name, "").strip():
            from kombu.transport import TRANSPORT_ALIASES  # 0.2 s: only where one is set

            scheme, separator, _ = raw.partition("://")
            if not separator or scheme.partition("+")[0] not in TRANSPORT_ALIASES:
                raise ConfigError(
                    f"{name} is not a broker URL the workers can use: it must start with its "
                    "kind and '://', e.g. redis://:PASSWORD@redis-host:6379/0 (redis, rediss, "
                    "amqp, ...); it is not printed here, as it may hold a password."
                )
            return raw
    return Settings.celery_broker_url


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not _ascii_digits(raw):
        raise ConfigError(f"{name}={raw!r} must be a whole number (0 or more).")
    return int(raw)


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}.")
    return value


def _time_zone() -> str:
    name = os.environ.get("TIME_ZONE", "").strip() or Settings.time_zone
    try:
        zone_named(name)
    except ValueError as problem:
        raise ConfigError(str(problem)) from None
    return name


def _page_size() -> str:
    value = os.environ.get("REPORT_PAGE_SIZE", "A4").strip()
    sizes = {"a4": "A4", "letter": "Letter"}
    if value.lower() not in sizes:
        raise ConfigError(f"REPORT_PAGE_SIZE={value!r} is not one of A4, Letter.")
    return sizes[value.lower()]


def _shared_mitdb() -> Path | None:
    """The development checkout's neighbouring copy of MIT-BIH, when there is one."""
    candidate = PROJECT_ROOT.parent / "shared" / "data" / "mitdb"
    return candidate if (candidate / "100.hea").is_file() else None


def _optional_dir(name: str) -> Path | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"{name}={raw!r} is not a directory.")
    return path
