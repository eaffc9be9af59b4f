"""`cardio seed-load`: a database the size of a busy hospital's, for load tests and EXPLAIN.

Synthetic people and reports, written with bulk INSERTs (a few thousand rows per round trip):
doctors and staff (the load test's logins, written to `instance/load-credentials.json`),
patients (three reports each on average), and per report its recording (a WFDB file), its
succeeded analysis job, the machine read (version 1, with every beat in `report_beats`), the
doctor's signed read for most of them (an amendment for a few), a risk score and the audit
rows that the portal would have written (upload, analysis, view, signature).

What is realistic about it:
- the recordings' mix: 10-s 12-lead resting ECGs, 60-s rhythm strips, 30-min and 24-h
  Holters, with machine reads of the size the engine writes for them (a 24-h Holter's beats
  are ~1.5 MB of JSON); every read is an `ml.analysis.EcgAnalysis` document that the portal
  reads back (`EcgAnalysis.from_dict`) and whose beats sit where the file's QRS complexes are;
- the findings' mix (mostly sinus rhythm, some ectopy, AF, a few pauses and VT) and so the
  urgencies; most reports signed, the newest ones waiting on the worklist;
- the audit trail is the real hash chain: rows are chained batch by batch after the chain
  head (locked per batch as `services.audit` does), so `cardio audit-verify` passes.

Recording files: one WFDB file per kind of recording and rhythm (`STORAGE_DIR/seed-templates/`);
each recording's own folder (named by its SHA-256, as uploads are) links to one of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, func, inspect, select, table
from sqlalchemy import column as sql_column
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from ml import vocabulary
from ml.analysis import Beats, EcgAnalysis
from ml.findings import Finding
from ml.hrv import heart_rate_summary
from ml.intervals import Intervals
from ml.quality import Segment
from ml.rhythm import Episode
from ml.strip_rhythm import StripCall
from portal.models import (
    Account,
    AnalysisJob,
    AuditChainHead,
    AuditEvent,
    Base,
    DoctorProfile,
    EcgRecording,
    EcgReport,
    Patient,
    ReportBeats,
    ReportVersion,
    RiskScore,
    StaffProfile,
    utcnow,
)
from portal.name_search import folded
from portal.risk.result import RiskLevel
from portal.services import audit
from portal.services.accounts import hash_password
from portal.services.patients import luhn_check_digit
from portal.services.reports import urgency_of

BATCH_ROWS = 2000  # rows per INSERT round trip (pymysql sends them as one statement)
MODEL_VERSION = "synthetic load data (no model read it)"
SPAN_DAYS = 3 * 365  # the reports' dates: the last three years
PRELIMINARY_SHARE = 0.05  # the newest 5 % of reports wait for a doctor
AMENDED_SHARE = 0.04
REPORTS_PER_PATIENT = 3.0
CREDENTIALS_FILE = "load-credentials.json"

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Amara",
    "Ana",
    "Anders",
    "Aoife",
    "Arjun",
    "Astrid",
    "Beatriz",
    "Bruno",
    "Camille",
    "Carlos",
    "Chiara",
    "Chloe",
    "Daniel",
    "Dario",
    "Elena",
    "Elif",
    "Emil",
    "Emma",
    "Fatima",
    "Felix",
    "Freya",
    "Gabriel",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ingrid",
    "Isaac",
    "Jamal",
    "Jana",
    "Javier",
    "Joao",
    "Julia",
    "Kai",
    "Karim",
    "Katarzyna",
    "Kenji",
    "Lara",
    "Leila",
    "Liam",
    "Lucia",
    "Luca",
    "Maja",
    "Marco",
    "Maria",
    "Mateo",
    "Mei",
    "Mila",
    "Mohammed",
    "Nadia",
    "Nikos",
    "Nina",
    "Noah",
    "Olga",
    "Omar",
    "Oskar",
    "Paula",
    "Pedro",
    "Priya",
    "Rafael",
    "Rania",
    "Rosa",
    "Ruth",
    "Sami",
    "Sara",
    "Sofia",
    "Stefan",
    "Tariq",
    "Teresa",
    "Tomas",
    "Uma",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zainab",
    "Zofia",
]
LAST_NAMES = [
    "Abadi",
    "Andersen",
    "Bauer",
    "Becker",
    "Bianchi",
    "Boateng",
    "Costa",
    "Dasilva",
    "Dubois",
    "Eriksen",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Gomez",
    "Hansen",
    "Haddad",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kaya",
    "Khan",
    "Kowalski",
    "Kruger",
    "Larsen",
    "Lefebvre",
    "Lindqvist",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Pereira",
    "Petrov",
    "Popescu",
    "Ricci",
    "Rossi",
    "Santos",
    "Schmidt",
    "Schneider",
    "Silva",
    "Smith",
    "Sousa",
    "Svensson",
    "Tanaka",
    "Torres",
    "Vargas",
    "Weber",
    "Wojcik",
    "Yilmaz",
    "Zhang",
]


# --------------------------------------------------------------------------- recordings


@dataclass(frozen=True)
class Shape:
    """A kind of recording: how long, how many leads, at what rate, and how common."""

    name: str
    duration_s: float
    fs_hz: float
    leads: tuple[str, ...]
    share: float
    scenarios: tuple[str, ...]  # the rhythms it comes with (a few for the 24-h files)


TWELVE_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
SHAPES = (
    Shape("resting-10s", 10.0, 500.0, TWELVE_LEADS, 0.55, ("sinus", "brady", "tachy", "pvc", "af")),
    Shape("strip-60s", 60.0, 250.0, ("II", "V1"), 0.25, ("sinus", "pvc", "af", "tachy", "pause")),
    Shape(
        "holter-30min",
        1800.0,
        360.0,
        ("MLII", "V1"),
        0.19,
        ("sinus", "pvc", "frequent_pvc", "af", "pause", "vt"),
    ),
    Shape("holter-24h", 86400.0, 128.0, ("MLII", "V1"), 0.01, ("pvc", "af")),
)
# How common each rhythm is among the reports of a kind that has it.
SCENARIO_WEIGHTS = {
    "sinus": 0.58,
    "brady": 0.07,
    "tachy": 0.07,
    "pvc": 0.14,
    "frequent_pvc": 0.04,
    "af": 0.08,
    "pause": 0.015,
    "vt": 0.005,
}
LEAD_GAINS = {
    "I": 0.5,
    "II": 1.0,
    "III": 0.5,
    "aVR": -0.75,
    "aVL": 0.1,
    "aVF": 0.75,
    "V1": -0.6,
    "V2": -0.2,
    "V3": 0.4,
    "V4": 0.9,
    "V5": 1.0,
    "V6": 0.8,
    "MLII": 1.0,
}


@dataclass
class Template:
    """One stored recording file and the machine read that goes with it."""

    shape: Shape
    scenario: str
    folder: str  # under STORAGE_DIR/seed-templates
    size_bytes: int
    n_samples: int
    summary_json: str  # the stored read without its beats (`report_version.analysis`)
    beats_json: str  # `report_beats.beats`
    n_beats: int
    analysis: EcgAnalysis  # with its beats (the version's measurement columns come from it)
    findings: list[str] = field(default_factory=list)


def _beat_times_s(
    scenario: str, duration_s: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """R-peak times and beat classes for a rhythm."""
    rate_bpm = {"brady": 50.0, "tachy": 112.0}.get(scenario, float(rng.uniform(62, 88)))
    n = int(duration_s * rate_bpm / 60) + 2
    rr_s = np.full(n, 60.0 / rate_bpm) * rng.normal(1.0, 0.03, n)
    classes = np.full(n, "N", dtype="<U1")
    if scenario == "af":
        rr_s = rng.uniform(0.45, 1.05, n)
    if scenario in {"pvc", "frequent_pvc", "vt"}:
        share = {"pvc": 0.02, "frequent_pvc": 0.14, "vt": 0.03}[scenario]
        ectopic = np.flatnonzero(rng.random(n) < share)
        classes[ectopic] = "V"
        rr_s[ectopic] *= 0.7  # premature, then a compensatory pause
        rr_s[np.minimum(ectopic + 1, n - 1)] *= 1.3
    if scenario == "vt":
        run = n // 2
        classes[run : run + 5] = "V"
        rr_s[run : run + 5] = 0.38
    if scenario == "pause":
        rr_s[n // 2] = 2.6
    times_s = 0.6 + np.concatenate([[0.0], np.cumsum(rr_s[:-1])])
    keep = times_s < duration_s - 0.5
    times_s, classes = times_s[keep], classes[keep]
    edge = (times_s < 1.0) | (times_s > duration_s - 1.0)  # as the engine: edges unclassified
    classes[edge] = "Q"
    return times_s, classes


FINDINGS = {
    "sinus": ["SINUS", "NORMAL"],
    "brady": ["BRADY"],
    "tachy": ["TACHY"],
    "pvc": ["SINUS", "PVC"],
    "frequent_pvc": ["FREQUENT_PVC", "SINUS"],
    "af": ["AF"],
    "pause": ["PAUSE", "SINUS"],
    "vt": ["VT", "PVC", "SINUS"],
}
RHYTHMS = {
    "sinus": "Sinus rhythm",
    "brady": "Sinus bradycardia",
    "tachy": "Sinus tachycardia",
    "pvc": "Sinus rhythm",
    "frequent_pvc": "Sinus rhythm",
    "af": "Atrial fibrillation/flutter",
    "pause": "Sinus rhythm",
    "vt": "Sinus rhythm",
}


def _machine_read(
    shape: Shape, scenario: str, times_s: np.ndarray, classes: np.ndarray, rng: np.random.Generator
) -> EcgAnalysis:
    """The read the engine would write for this rhythm: the same structure and size."""
    fs, duration_s = shape.fs_hz, shape.duration_s
    samples = np.round(times_s * fs).astype(np.int64)
    probability = np.where(classes == "Q", 0.0, rng.uniform(0.82, 0.999, classes.size))
    counts = {c: int((classes == c).sum()) for c in ("N", "S", "V", "F", "Q")}
    total = max(1, classes.size)
    rr_ms = np.diff(times_s) * 1000
    af = scenario == "af"
    mean_rr = float(np.mean(rr_ms)) if rr_ms.size else 800.0
    # The engine's own summary, so seeded reads follow its HRV limits (none inside AF).
    summary = heart_rate_summary(
        samples, fs, normal=classes == "N", in_sinus=np.full(samples.size, not af)
    )
    heart_rate = dataclasses.replace(
        summary,
        **{
            name: round(value, 3 if name == "pnn50" else 1)
            for name in ("mean_bpm", "min_bpm", "max_bpm", "sdnn_ms", "rmssd_ms", "pnn50")
            if (value := getattr(summary, name)) is not None
        },
    )
    qt_ms = float(rng.uniform(360, 420))
    rr_s = mean_rr / 1000
    intervals = Intervals(
        rr_ms=round(mean_rr, 1),
        pr_ms=None if af else round(float(rng.uniform(140, 190)), 1),
        qrs_ms=round(float(rng.uniform(80, 104)), 1),
        qt_ms=round(qt_ms, 1),
        qtc_bazett_ms=round(qt_ms / rr_s**0.5, 1),
        qtc_fridericia_ms=round(qt_ms / rr_s ** (1 / 3), 1),
        qrs_axis_deg=round(float(rng.uniform(-10, 80)), 1) if len(shape.leads) > 2 else None,
        n_beats=int(counts["N"]),
        p_onset_ms=None if af else -200.0,
        qrs_onset_ms=-45.0,
        qrs_offset_ms=50.0,
        t_end_ms=360.0,
        not_measurable={"pr": "no consistent P wave (atrial fibrillation)"} if af else {},
        confidence={"qrs": "high", "qt": "high"} | ({} if af else {"pr": "high"}),
    )
    codes = FINDINGS[scenario]
    findings = [
        Finding(
            code,
            vocabulary.STATEMENTS[code].label,
            vocabulary.STATEMENTS[code].risk,
            round(float(rng.uniform(0.8, 0.99)), 2),
            f"{counts['V']} beats" if code in {"PVC", "FREQUENT_PVC"} else "",
        )
        for code in vocabulary.by_severity(codes)
    ]
    rhythm = RHYTHMS[scenario]
    episodes = [Episode(rhythm, 0.0, duration_s, int(total))]
    if scenario == "vt":
        start = float(times_s[np.flatnonzero(classes == "V")[0]])
        episodes.append(Episode("Ventricular tachycardia", start, start + 2.0, 5))
    if scenario == "pause":
        gap = int(np.argmax(np.diff(times_s)))
        episodes.append(Episode("Pause", float(times_s[gap]), float(times_s[gap + 1]), 0))
    quality = [Segment(0.0, duration_s, "good")]
    if duration_s >= 600:  # long recordings: ~1 % noisy 10-s stretches, as Holters have
        starts = np.sort(rng.choice(int(duration_s // 10), int(duration_s // 1000), replace=False))
        quality = [
            Segment(float(s * 10), float(s * 10 + 10), "noisy", "muscle noise") for s in starts
        ]
    strip = None
    if duration_s <= 60:
        label = "af" if af else "sinus"
        strip = StripCall(
            label,
            rhythm,
            "RR regularity and P waves",
            0.9 if af else 0.05,
            {"rr_irregularity": 0.3 if af else 0.02},
        )
    lead = shape.leads[1] if shape.leads[0] == "I" else shape.leads[0]
    return EcgAnalysis(
        model_version=MODEL_VERSION,
        fs_hz=fs,
        duration_s=duration_s,
        lead_names=shape.leads,
        analysis_lead=lead,
        analysis_lead_reason=f"{lead} is usable",
        rhythm_summary=rhythm,
        main_finding=findings[0],
        findings=findings,
        episodes=episodes,
        heart_rate=heart_rate,
        intervals=intervals,
        beat_counts=counts,
        class_probability_mean={c: round(n / total, 4) for c, n in counts.items()},
        beats=Beats(samples, classes, np.round(probability, 3)),
        quality=quality,
        notes=["Synthetic recording written by cardio seed-load."],
        classification_leads=(lead,),
        strip=strip,
    )


def _signal_mv(shape: Shape, times_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The leads of a rhythm (a 24-h file repeats its first half hour, as the read does)."""
    from ml.research.synthetic import R_AFTER_ONSET_S, synthetic_rhythm_mv

    period_s = min(shape.duration_s, 1800.0)
    onsets = times_s[times_s < period_s] - R_AFTER_ONSET_S
    base = synthetic_rhythm_mv(
        onsets, duration_s=period_s, fs_hz=shape.fs_hz, seed=int(rng.integers(1 << 30))
    )
    base = np.tile(base, int(math.ceil(shape.duration_s / period_s)))
    base = base[: int(round(shape.duration_s * shape.fs_hz))]
    noise = rng.normal(0, 0.01, (base.size, len(shape.leads)))
    return np.column_stack([LEAD_GAINS.get(name, 1.0) * base for name in shape.leads]) + noise


def _template(shape: Shape, scenario: str, storage_dir: Path, rng: np.random.Generator) -> Template:
    import wfdb

    times_s, classes = _beat_times_s(scenario, min(shape.duration_s, 1800.0), rng)
    if shape.duration_s > 1800:  # a 24-h Holter: its first half hour, repeated
        repeats = int(math.ceil(shape.duration_s / 1800))
        times_s = np.concatenate([times_s + 1800 * k for k in range(repeats)])
        classes = np.tile(classes, repeats)
        inside = times_s < shape.duration_s - 0.5
        times_s, classes = times_s[inside], classes[inside]
    analysis = _machine_read(shape, scenario, times_s, classes, rng)
    folder = f"{shape.name}-{scenario}"
    where = storage_dir / "seed-templates" / folder
    header = where / "rec.hea"
    if not header.exists():
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        signal = _signal_mv(shape, times_s, rng)
        wfdb.wrsamp(
            "rec",
            fs=shape.fs_hz,
            units=["mV"] * len(shape.leads),
            sig_name=list(shape.leads),
            p_signal=signal,
            fmt=["16"] * len(shape.leads),
            adc_gain=[200.0] * len(shape.leads),
            baseline=[0] * len(shape.leads),
            write_dir=str(where),
        )
    document = analysis.to_dict()
    beats = document.pop("beats")
    EcgAnalysis.from_dict({**document, "beats": beats})  # the portal reads it back
    n_samples = int(round(shape.duration_s * shape.fs_hz))
    return Template(
        shape=shape,
        scenario=scenario,
        folder=folder,
        size_bytes=sum(p.stat().st_size for p in where.iterdir()),
        n_samples=n_samples,
        summary_json=json.dumps(document),
        beats_json=json.dumps(beats),
        n_beats=len(beats["sample"]),
        analysis=analysis,
        findings=[f.code for f in analysis.findings],
    )


def _link_recording(storage_dir: Path, sha256: str, template: Template) -> None:
    """The recording's folder (as `portal.storage.recording_folder` names it) links to its
    template's files."""
    parent = storage_dir / "recordings" / sha256[:2]
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    link = parent / sha256
    if not link.exists():
        os.symlink(Path("..") / ".." / "seed-templates" / template.folder, link)


# --------------------------------------------------------------------------- rows


def _raw(model: type[Base]) -> Any:
    """The model's table without column types: values go to the driver as given (JSON already
    serialised once per template, not once per row)."""
    columns = cast(Table, model.__table__).columns
    return table(cast(Table, model.__table__).name, *(sql_column(c.name) for c in columns))


def _next_id(connection: Connection, model: type[Base]) -> int:
    key = cast(Table, model.__table__).primary_key.columns.values()[0]
    return int(connection.scalar(select(func.max(key))) or 0) + 1


def _insert(connection: Connection, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH_ROWS):
        connection.execute(_raw(model).insert(), list(rows[start : start + BATCH_ROWS]))


@dataclass(frozen=True)
class LoadUser:
    username: str
    role: str
    totp_secret: str | None


@dataclass
class SeedResult:
    reports: int = 0
    patients: int = 0
    versions: int = 0
    audit_rows: int = 0
    users: list[LoadUser] = field(default_factory=list)
    password: str = ""
    seconds: float = 0.0


def _people(
    connection: Connection,
    *,
    doctors: int,
    staff: int,
    password: str,
    now: dt.datetime,
    rng: np.random.Generator,
    prefix: str,
) -> tuple[list[int], list[int], list[int], list[LoadUser]]:
    """Doctor and staff accounts with profiles: (doctor profile ids, their account ids, staff
    account ids, the logins)."""
    import pyotp

    password_hash = hash_password(password)  # one bcrypt for all: they share the password
    account_id, doctor_id, staff_id = (
        _next_id(connection, Account),
        _next_id(connection, DoctorProfile),
        _next_id(connection, StaffProfile),
    )
    accounts_rows, doctor_rows, staff_rows, users = [], [], [], []
    doctor_ids, doctor_accounts, staff_accounts = [], [], []
    for k in range(doctors + staff):
        is_doctor = k < doctors
        role = "doctor" if is_doctor else "staff"
        username = f"{prefix}-{role}-{(k if is_doctor else k - doctors) + 1:03d}"
        secret = pyotp.random_base32() if is_doctor else None
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        accounts_rows.append(
            {
                "id": account_id,
                "username": username,
                "password_hash": password_hash,
                "role": role,
                "is_active": True,
                "must_change_password": False,
                "session_epoch": 0,
                "last_login_at": None,
                "created_by_id": None,
                "failed_logins": 0,
                "locked_until": None,
                "totp_secret": secret,
                "totp_last_step": None,
                "mfa_recovery_hashes": None,
                "mfa_enabled_at": now if secret else None,
                "created_at": now,
                "updated_at": now,
            }
        )
        common = {
            "account_id": account_id,
            "email": None,
            "phone": None,
            "created_at": now,
            "updated_at": now,
        }
        if is_doctor:
            doctor_rows.append(
                {
                    "id": doctor_id,
                    "full_name": f"Dr {name}",
                    "specialty": "Cardiology",
                    "registration_number": f"RN{doctor_id:06d}",
                    **common,
                }
            )
            doctor_ids.append(doctor_id)
            doctor_accounts.append(account_id)
            doctor_id += 1
        else:
            staff_rows.append(
                {"id": staff_id, "full_name": name, "job_title": "ECG technician", **common}
            )
            staff_accounts.append(account_id)
            staff_id += 1
        users.append(LoadUser(username, role, secret))
        account_id += 1
    _insert(connection, Account, accounts_rows)
    _insert(connection, DoctorProfile, doctor_rows)
    _insert(connection, StaffProfile, staff_rows)
    return doctor_ids, doctor_accounts, staff_accounts, users


def _mrns(connection: Connection, n: int, rng: np.random.Generator) -> list[str]:
    taken = set(connection.scalars(select(Patient.mrn)))
    found: list[str] = []
    while len(found) < n:
        for body in rng.choice(10**7, size=min(10**7, 2 * (n - len(found)) + 10), replace=False):
            mrn = f"CP{body:07d}{luhn_check_digit(f'{body:07d}')}"
            if mrn not in taken:
                taken.add(mrn)
                found.append(mrn)
                if len(found) == n:
                    break
    return found


class _AuditWriter:
    """Audit rows in the portal's hash chain: per batch, the chain head is locked, the rows
    get the next ids and hashes, the head moves on, and the batch commits."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.pending: list[dict[str, Any]] = []
        self.written = 0

    def add(
        self,
        occurred_at: dt.datetime,
        action: str,
        actor: tuple[int | None, str, str | None],
        patient_id: int,
        object_type: str,
        object_id: int,
        details: dict[str, Any] | None = None,
    ) -> None:
        actor_id, username, role = actor
        self.pending.append(
            {
                "occurred_at": occurred_at,
                "actor_id": actor_id,
                "actor_username": username,
                "actor_role": role,
                "action": action,
                "patient_id": patient_id,
                "object_type": object_type,
                "object_id": object_id,
                "ip_address": "10.20.0.15",
                "user_agent": "Mozilla/5.0 (synthetic load data)",
                "details": details,
            }
        )
        if len(self.pending) >= 5 * BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        from sqlalchemy.orm import Session

        with Session(self.engine) as session, session.begin():
            last_id, last_hash = audit.lock_chain_head(session)  # as audit._append does
            next_id = max(last_id, session.scalar(select(func.max(AuditEvent.id))) or 0) + 1
            rows = []
            for values in self.pending:
                values = {**values, "id": next_id, "prev_hash": last_hash}
                values["row_hash"] = last_hash = audit.content_hash(values, last_hash)
                values["details"] = json.dumps(values["details"]) if values["details"] else None
                rows.append(values)
                next_id += 1
            _insert(session.connection(), AuditEvent, rows)
            head = cast(Table, AuditChainHead.__table__)
            session.execute(
                head.update()
                .where(head.c.id == audit.HEAD_ID)
                .values(last_event_id=next_id - 1, last_hash=last_hash, updated_at=utcnow())
            )
        self.written += len(self.pending)
        self.pending = []


def _chunks(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def seed_load(
    engine: Engine,
    storage_dir: Path,
    *,
    reports: int = 100_000,
    doctors: int = 40,
    staff: int = 20,
    password: str | None = None,
    seed: int = 17,
    prefix: str = "load",
    shapes: Sequence[Shape] = SHAPES,
    progress: bool = True,
    now: dt.datetime | None = None,
) -> SeedResult:
    """Add `reports` synthetic reports (and their patients, people, files and audit rows)."""
    import time

    started = time.monotonic()
    rng = np.random.default_rng(seed)
    now = now or utcnow().replace(microsecond=0)
    password = password or secrets.token_urlsafe(18)
    result = SeedResult(password=password)
    bar: Callable[..., Any] = tqdm if progress else (lambda it=None, **_: it)

    templates = {
        (shape.name, scenario): _template(shape, scenario, storage_dir, rng)
        for shape in bar(shapes, desc="recording files", unit="kind")
        for scenario in shape.scenarios
    }
    with engine.begin() as connection:
        doctor_ids, doctor_accounts, staff_accounts, result.users = _people(
            connection,
            doctors=doctors,
            staff=staff,
            password=password,
            now=now,
            rng=rng,
            prefix=prefix,
        )
    doctor_account_of = dict(zip(doctor_ids, doctor_accounts, strict=True))
    usernames = {
        u: name.username
        for u, name in zip([*doctor_accounts, *staff_accounts], result.users, strict=True)
    }

    # Patients: ~3 reports each; dates spread over three years, the newest still preliminary.
    n_patients = max(1, round(reports / REPORTS_PER_PATIENT))
    report_dates = [
        now - dt.timedelta(days=SPAN_DAYS * (1 - (i + float(rng.random())) / reports))
        for i in range(reports)
    ]
    owner = rng.integers(0, n_patients, reports)
    first_report = np.full(n_patients, reports)
    np.minimum.at(first_report, owner, np.arange(reports))
    with engine.begin() as connection:
        patient_base = _next_id(connection, Patient)
        mrns = _mrns(connection, n_patients, rng)
        # A database at a revision before 0015 (the migration tests load one) has no folded
        # names; 0015 fills them.
        columns = {column["name"] for column in inspect(connection).get_columns("patient")}
        fold = "name_folded" in columns
        # Likewise before 0016: no release time (0016 sets it to the signature's).
        report_columns = inspect(connection).get_columns("ecg_report")
        releases = "patient_release_at" in {column["name"] for column in report_columns}
        version_columns = inspect(connection).get_columns("report_version")
        replaced = "previous_release_at" in {column["name"] for column in version_columns}
    audit_writer = _AuditWriter(engine)
    patient_doctor: list[int | None] = []
    for chunk in bar(list(_chunks(n_patients, BATCH_ROWS)), desc="patients", unit="batch"):
        rows = []
        for k in chunk:
            created = (
                report_dates[first_report[k]] if first_report[k] < reports else now
            ) - dt.timedelta(days=int(rng.integers(1, 400)))
            doctor = int(rng.choice(doctor_ids)) if rng.random() > 0.03 else None
            patient_doctor.append(doctor)
            sex = "female" if rng.random() < 0.5 else "male"
            staff_account = int(rng.choice(staff_accounts))
            full_name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            rows.append(
                {
                    "id": patient_base + k,
                    "mrn": mrns[k],
                    "full_name": full_name,
                    **({"name_folded": folded(full_name)} if fold else {}),  # bulk: no model
                    "date_of_birth": dt.date(
                        int(rng.integers(1930, 2006)),
                        int(rng.integers(1, 13)),
                        int(rng.integers(1, 29)),
                    ),
                    "sex": sex,
                    "address": f"{int(rng.integers(1, 300))} Synthetic Street",
                    "email": None,
                    "phone": f"+1 555 {int(rng.integers(1000, 9999))}",
                    "emergency_contact_name": None,
                    "emergency_contact_phone": None,
                    "assigned_doctor_id": doctor,
                    "account_id": None,
                    "is_active": bool(rng.random() > 0.02),
                    "created_by_id": staff_account,
                    "updated_by_id": None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            audit_writer.add(
                created,
                "patient.create",
                (staff_account, usernames[staff_account], "staff"),
                patient_base + k,
                "patient",
                patient_base + k,
            )
        with engine.begin() as connection:
            _insert(connection, Patient, rows)
        audit_writer.flush()
    result.patients = n_patients

    with engine.begin() as connection:
        bases = {
            m: _next_id(connection, m)
            for m in (EcgRecording, AnalysisJob, EcgReport, ReportVersion, RiskScore)
        }
    shape_p = np.array([s.share for s in shapes]) / sum(s.share for s in shapes)
    version_id = bases[ReportVersion]
    urgency_cache: dict[tuple[str, bool], int] = {}
    for chunk in bar(list(_chunks(reports, BATCH_ROWS)), desc="reports", unit="batch"):
        recording_rows, job_rows, report_rows, version_rows, beat_rows, score_rows = (
            [],
            [],
            [],
            [],
            [],
            [],
        )
        for i in chunk:
            shape = shapes[int(rng.choice(len(shapes), p=shape_p))]
            weights = np.array([SCENARIO_WEIGHTS[s] for s in shape.scenarios])
            scenario = shape.scenarios[int(rng.choice(len(weights), p=weights / weights.sum()))]
            template = templates[(shape.name, scenario)]
            patient_id = patient_base + int(owner[i])
            doctor = patient_doctor[int(owner[i])]
            doctor_account = doctor_account_of.get(doctor) if doctor else None
            staff_account = int(rng.choice(staff_accounts))
            when = report_dates[i]
            newest = i >= reports * (1 - PRELIMINARY_SHARE)
            if doctor_account is None or newest or rng.random() < 0.005:
                status = "preliminary"
            else:
                status = "amended" if rng.random() < AMENDED_SHARE else "final"
            recording_id, job_id, report_id = (
                bases[EcgRecording] + i,
                bases[AnalysisJob] + i,
                bases[EcgReport] + i,
            )
            sha256 = secrets.token_hex(32)
            _link_recording(storage_dir, sha256, template)
            recording_rows.append(
                {
                    "id": recording_id,
                    "patient_id": patient_id,
                    "uploaded_by_id": staff_account,
                    "sha256": sha256,
                    "original_filename": "rec.hea, rec.dat",
                    "file_format": "wfdb",
                    "size_bytes": template.size_bytes,
                    "sampling_rate_hz": shape.fs_hz,
                    "lead_names": json.dumps(list(shape.leads)),
                    "n_samples": template.n_samples,
                    "duration_s": shape.duration_s,
                    "acquired_at": when,
                    "declared_units": None,
                    "reference_record": None,
                    "created_at": when,
                }
            )
            analysed = when + dt.timedelta(seconds=int(30 + shape.duration_s / 200))
            job_rows.append(
                {
                    "id": job_id,
                    "recording_id": recording_id,
                    "requested_by_id": staff_account,
                    "state": "succeeded",
                    "attempts": 1,
                    "max_attempts": 3,
                    "progress_pct": 100.0,
                    "progress_message": "Done",
                    "error_message": None,
                    "worker_id": "seed-load",
                    "started_at": when,
                    "heartbeat_at": analysed,
                    "finished_at": analysed,
                    "created_at": when,
                }
            )
            score = float(np.round(rng.gamma(2.0, 5.0), 1))
            category = "low" if score < 10 else "intermediate" if score < 20 else "high"
            key = (scenario, category == "high")
            if key not in urgency_cache:
                pairs = [(c, vocabulary.STATEMENTS[c].risk) for c in template.findings]
                urgency_cache[key] = urgency_of(
                    pairs,
                    [RiskScore(category=category, level=RiskLevel(category))] if key[1] else [],
                )
            signed_at = analysed + dt.timedelta(hours=float(rng.uniform(1, 72)))
            n_versions = {"preliminary": 1, "final": 2, "amended": 3}[status]
            report_rows.append(
                {
                    "id": report_id,
                    "patient_id": patient_id,
                    "recording_id": recording_id,
                    "job_id": job_id,
                    "assigned_doctor_id": doctor,
                    "status": status,
                    "report_date": when,
                    "urgency": urgency_cache[key],
                    "main_finding": template.analysis.main_finding.code,
                    "signed_at": signed_at if n_versions > 1 else None,
                    **(
                        {"patient_release_at": signed_at if n_versions > 1 else None}
                        if releases
                        else {}
                    ),  # fmt: skip
                    "row_version": n_versions,
                    "created_at": analysed,
                    "updated_at": signed_at if n_versions > 1 else analysed,
                }
            )
            a, iv = template.analysis, template.analysis.intervals
            measured = {
                "heart_rate_bpm": a.heart_rate.mean_bpm,
                "pr_ms": iv.pr_ms,
                "qrs_ms": iv.qrs_ms,
                "qt_ms": iv.qt_ms,
                "qtc_bazett_ms": iv.qtc_bazett_ms,
                "qtc_fridericia_ms": iv.qtc_fridericia_ms,
                "qrs_axis_deg": iv.qrs_axis_deg,
                "beat_counts": json.dumps(a.beat_counts),
                "class_probabilities": json.dumps(a.class_probability_mean),
                "model_version": a.model_version,
            }
            findings_json = json.dumps(template.findings)
            for number in range(1, n_versions + 1):
                machine = number == 1
                version_signed = signed_at + dt.timedelta(days=number - 2)
                previous_signed = signed_at + dt.timedelta(days=number - 3)
                version_rows.append(
                    {
                        "id": version_id,
                        "report_id": report_id,
                        "version_no": number,
                        "kind": "machine"
                        if machine
                        else "physician"
                        if number == 2
                        else "amendment",
                        "author_id": None if machine else doctor_account,
                        "signed_at": None if machine else version_signed,
                        "amendment_reason": "Rhythm re-read on the full recording"
                        if number == 3
                        else None,
                        "rhythm_label": a.rhythm_summary,
                        "findings": findings_json,
                        "conclusion": a.main_finding.label
                        if machine
                        else f"{a.rhythm_summary}. {a.main_finding.label}; reviewed.",
                        "patient_comment": None
                        if machine
                        else "Your ECG was reviewed by your doctor.",
                        "next_steps": None if machine else json.dumps(["ROUTINE"]),
                        "next_steps_note": None,
                        "predicted_class": a.main_finding.code if machine else None,
                        "confidence": a.main_finding.confidence if machine else None,
                        "analysis": template.summary_json if machine else None,
                        "created_at": analysed if machine else signed_at,
                        **measured,
                        **(
                            {"previous_release_at": previous_signed if number > 2 else None}
                            if replaced
                            else {}
                        ),  # fmt: skip
                    }
                )
                if machine:
                    beat_rows.append(
                        {
                            "report_version_id": version_id,
                            "n_beats": template.n_beats,
                            "beats": template.beats_json,
                        }
                    )
                version_id += 1
            score_rows.append(
                {
                    "id": bases[RiskScore] + i,
                    "report_id": report_id,
                    "clinical_input_id": None,
                    "model": "framingham_general_cvd",
                    "value": score,
                    "unit": "%",
                    "category": category,
                    "level": category,
                    "not_computed_reason": None,
                    "inputs_used": json.dumps({"age_years": 60, "sex": "female"}),
                    "contributions": None,
                    "created_at": analysed,
                }
            )
            staff_actor = (staff_account, usernames[staff_account], "staff")
            audit_writer.add(
                when,
                "recording.upload",
                staff_actor,
                patient_id,
                "ecg_recording",
                recording_id,
                {"format": "wfdb", "sha256": sha256, "job_id": job_id},
            )
            audit_writer.add(
                analysed,
                "report.create",
                (None, "analysis worker", None),
                patient_id,
                "ecg_report",
                report_id,
                {"job_id": job_id},
            )
            if doctor_account is not None and n_versions > 1:
                doctor_actor = (doctor_account, usernames[doctor_account], "doctor")
                audit_writer.add(
                    signed_at - dt.timedelta(minutes=4),
                    "report.view",
                    doctor_actor,
                    patient_id,
                    "ecg_report",
                    report_id,
                )
                audit_writer.add(
                    signed_at,
                    "report.sign",
                    doctor_actor,
                    patient_id,
                    "ecg_report",
                    report_id,
                    {"version_no": 2, "reason": None},
                )
                if n_versions == 3:
                    audit_writer.add(
                        signed_at + dt.timedelta(days=1),
                        "report.amend",
                        doctor_actor,
                        patient_id,
                        "ecg_report",
                        report_id,
                        {"version_no": 3, "reason": "Rhythm re-read"},
                    )
        with engine.begin() as connection:
            _insert(connection, EcgRecording, recording_rows)
            _insert(connection, AnalysisJob, job_rows)
            _insert(connection, EcgReport, report_rows)
            _insert(connection, ReportVersion, version_rows)
            _insert(connection, ReportBeats, beat_rows)
            _insert(connection, RiskScore, score_rows)
        audit_writer.flush()
        result.reports += len(chunk)
        result.versions += len(version_rows)
    audit_writer.flush()
    result.audit_rows = audit_writer.written
    _analyze_tables(engine)
    result.seconds = time.monotonic() - started
    return result


def _analyze_tables(engine: Engine) -> None:
    """MySQL/MariaDB: fresh index statistics after a bulk load (InnoDB would recompute them in
    the background, later), so the first queries get the plans the indexes are for."""
    if engine.dialect.name not in {"mysql", "mariadb"}:
        return
    names = [
        cast(Table, m.__table__).name
        for m in (
            Patient,
            EcgRecording,
            AnalysisJob,
            EcgReport,
            ReportVersion,
            RiskScore,
            AuditEvent,
        )
    ]
    with engine.connect() as connection:
        connection.exec_driver_sql(f"ANALYZE TABLE {', '.join(names)}").all()


def write_credentials(path: Path, result: SeedResult) -> None:
    """The load users' logins (for bench/bench_load.py), readable by this user only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    document = {
        "password": result.password,
        "users": [vars(user) for user in result.users],
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(document, out, indent=1)
