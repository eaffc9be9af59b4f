"""The data model: the only module that knows tables.

Design rules (see the README's "Data model" section):
- authentication (`account`) is separate from the people it belongs to (staff, doctor, patient);
- clinical values carry their unit in the column name and are NULL when not measured;
- a report is a series of immutable versions: the machine read is version 1 and is never
  overwritten by a physician's read or an amendment;
- `audit_event` is append-only: the ORM refuses updates and deletes of it.
All times are naive UTC.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from portal.name_search import FOLDED_CHARS, folded
from portal.risk.result import RiskLevel


def utcnow() -> dt.datetime:
    """Naive UTC now: MySQL DATETIME has no time zone, so every stored time is UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every MySQL table: InnoDB (foreign keys, transactions) and full Unicode (names, emoji).
MYSQL_TABLE_OPTIONS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}

Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only
# A report's rhythm line: the machine's headline runs to 95 characters ("Complete AV block,
# escape rhythm (AV dissociation) with ventricular flutter/fibrillation (10 s)"), and 80 cut it.
RHYTHM_LABEL_CHARS = 200


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: Timestamp}


def table_args(*constraints: Any) -> tuple[Any, ...]:
    return (*constraints, MYSQL_TABLE_OPTIONS)


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """A portable enum: VARCHAR + CHECK, stored by value, so adding a value needs no ALTER TYPE."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class CreatedAtMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TimestampsMixin(CreatedAtMixin):
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------- accounts


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    DOCTOR = "doctor"
    PATIENT = "patient"


class Account(TimestampsMixin, Base):
    """A login. Who the person is lives in a profile table keyed by this account."""

    __tablename__ = "account"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(72))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on password reset or deactivation: every session issued before is void.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    # Brute-force protection: consecutive failed logins; locked until then (None: not locked).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None]
    # Wrong passwords typed inside a logged-in session (to sign, to change the password), in a
    # row: counted apart from the login page's, which anyone can add to.
    failed_in_session: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # TOTP multi-factor authentication (portal/services/mfa.py): the base32 secret once
    # enrolled, the last time step accepted (a code works once), hashed recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    mfa_recovery_hashes: Mapped[list[str] | None] = mapped_column(JSON)
    mfa_enabled_at: Mapped[dt.datetime | None]

    staff_profile: Mapped[StaffProfile | None] = relationship(
        back_populates="account", foreign_keys="StaffProfile.account_id"
    )
    doctor_profile: Mapped[DoctorProfile | None] = relationship(
        back_populates="account", foreign_keys="DoctorProfile.account_id"
    )
    patient: Mapped[Patient | None] = relationship(
        back_populates="account", foreign_keys="Patient.account_id"
    )

    @property
    def display_name(self) -> str:
        profile = self.staff_profile or self.doctor_profile or self.patient
        return profile.full_name if profile else self.username

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch}"


class StaffProfile(TimestampsMixin, Base):
    __tablename__ = "staff_profile"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str | None] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))

    account: Mapped[Account] = relationship(
        back_populates="staff_profile", foreign_keys=[account_id]
    )


class DoctorProfile(TimestampsMixin, Base):
    __tablename__ = "doctor_profile"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    specialty: Mapped[str | None] = mapped_column(String(80))
    registration_number: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))

    account: Mapped[Account] = relationship(
        back_populates="doctor_profile", foreign_keys=[account_id]
    )
    patients: Mapped[list[Patient]] = relationship(back_populates="assigned_doctor")


class RateLimitCounter(Base):
    """One fixed-window counter of the login and API throttles (Flask-Limiter's key, e.g.
    per client address), kept here so every server process shares it and a restart keeps it
    (`portal/rate_limit_storage.py`). A row past `expires_at` counts as zero."""

    __tablename__ = "rate_limit_counter"
    __table_args__ = table_args()

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)  # the sweep finds old rows


class NamedLock(Base):
    """Rows locked to serialise one kind of work across every server process and account
    (`portal.db.lock_row`): `REGISTRATION_LOCK_ID`, patient registrations, each checking for
    a twin what the one before committed. Two staff registering two patients at the same
    moment on MariaDB had deadlocked, one told the database was down (a working-day audit)."""

    __tablename__ = "named_lock"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64), unique=True)


REGISTRATION_LOCK_ID = 1


# --------------------------------------------------------------------------- patients


class Sex(enum.StrEnum):
    """Sex recorded for clinical scoring (the risk models are sex-specific)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Patient(TimestampsMixin, Base):
    __tablename__ = "patient"
    __table_args__ = table_args(
        # Patient search (a name fragment or an MRN prefix, active patients, by name): the
        # fragment is matched in this index, in name order, without reading the rows. The
        # order is the folded name's (`portal.name_search`): "d'Artagnan" among the Ds, not
        # after "Zoë" as SQLite's code-point order had put it.
        Index(None, "is_active", "name_folded", "full_name", "mrn"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(16), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), index=True)
    # The name as searched (`portal.name_search.folded`), kept with the name.
    name_folded: Mapped[str] = mapped_column(String(FOLDED_CHARS), server_default="")
    # Indexed: the twin check of a registration reads (and share-locks) one day's patients.
    date_of_birth: Mapped[dt.date] = mapped_column(Date, index=True)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"))
    address: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    emergency_contact_name: Mapped[str | None] = mapped_column(String(120))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(32))
    assigned_doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctor_profile.id"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)

    assigned_doctor: Mapped[DoctorProfile | None] = relationship(back_populates="patients")
    account: Mapped[Account | None] = relationship(
        back_populates="patient", foreign_keys=[account_id]
    )
    created_by: Mapped[Account] = relationship(foreign_keys=[created_by_id])
    clinical_inputs: Mapped[list[ClinicalInput]] = relationship(
        back_populates="patient", order_by="ClinicalInput.recorded_at.desc()"
    )

    @validates("full_name")
    def _fold_name(self, _key: str, full_name: str) -> str:
        self.name_folded = folded(full_name)
        return full_name

    def age_years(self, on: dt.date | None = None) -> int:
        on = on or dt.date.today()
        before_birthday = (on.month, on.day) < (self.date_of_birth.month, self.date_of_birth.day)
        return on.year - self.date_of_birth.year - before_birthday


class ClinicalInput(CreatedAtMixin, Base):
    """One dated set of risk-factor measurements. Never edited: a correction is a new row.

    Units are canonical (mg/dL for lipids and creatinine); NULL means "not measured".
    """

    __tablename__ = "clinical_input"
    __table_args__ = table_args(
        CheckConstraint("killip_class BETWEEN 1 AND 4", name="killip_class_range"),
        Index(None, "patient_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    responsible_doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctor_profile.id"), index=True
    )
    # Framingham inputs
    smoker: Mapped[bool | None]
    diabetic: Mapped[bool | None]
    total_cholesterol_mg_dl: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    hdl_mg_dl: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    systolic_bp_mmhg: Mapped[int | None] = mapped_column(SmallInteger)
    bp_treated: Mapped[bool | None]
    bmi_kg_m2: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    # GRACE inputs
    heart_rate_bpm: Mapped[int | None] = mapped_column(SmallInteger)
    creatinine_mg_dl: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    killip_class: Mapped[int | None] = mapped_column(SmallInteger)
    cardiac_arrest_at_admission: Mapped[bool | None]
    st_deviation: Mapped[bool | None]
    st_depression: Mapped[bool | None]
    elevated_cardiac_enzymes: Mapped[bool | None]
    history_of_mi: Mapped[bool | None]
    history_of_heart_failure: Mapped[bool | None]
    in_hospital_pci: Mapped[bool | None]
    other_issues: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(back_populates="clinical_inputs")
    entered_by: Mapped[Account] = relationship()


# --------------------------------------------------------------------------- recordings, jobs


class RecordingFormat(enum.StrEnum):
    WFDB = "wfdb"
    CSV = "csv"
    EDF = "edf"


class EcgRecording(CreatedAtMixin, Base):
    """An uploaded (or reference-library) ECG file, stored under its SHA-256."""

    __tablename__ = "ecg_recording"
    __table_args__ = table_args(UniqueConstraint("patient_id", "sha256"))

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[RecordingFormat] = mapped_column(
        enum_column(RecordingFormat, "recording_format")
    )
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sampling_rate_hz: Mapped[float] = mapped_column(Float)
    lead_names: Mapped[list[str]] = mapped_column(JSON)
    n_samples: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float] = mapped_column(Float)
    acquired_at: Mapped[dt.datetime | None]
    # Units declared at upload for a CSV whose header does not say (mV or uV); NULL otherwise.
    declared_units: Mapped[str | None] = mapped_column(String(8))
    # MIT-BIH (or other reference library) record name when picked from the library.
    reference_record: Mapped[str | None] = mapped_column(String(64))
    # Staff noted at upload that the patient has a pacemaker (paced rhythm possible): the
    # analysis makes a paced read (`ml.paced`). Kept with the recording, so it can be redone.
    pacemaker: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    patient: Mapped[Patient] = relationship()
    jobs: Mapped[list[AnalysisJob]] = relationship(back_populates="recording")

    @hybrid_property
    def is_reference(self) -> bool:
        """A reference-library record attached for teaching or QA, not the patient's own ECG:
        the one rule, in Python and in SQL (`~EcgRecording.is_reference` keeps it from them)."""
        return self.reference_record is not None

    @is_reference.inplace.expression
    @classmethod
    def _is_reference_expression(cls) -> ColumnElement[bool]:
        return cls.reference_record.is_not(None)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AnalysisJob(CreatedAtMixin, Base):
    """The source of truth for analysis work; any worker (in-process or distributed) claims rows."""

    __tablename__ = "analysis_job"
    __table_args__ = table_args(
        CheckConstraint("progress_pct BETWEEN 0 AND 100", name="progress_pct_range"),
        Index(None, "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("ecg_recording.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    state: Mapped[JobState] = mapped_column(
        enum_column(JobState, "job_state"), default=JobState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    max_attempts: Mapped[int] = mapped_column(SmallInteger, default=3)
    progress_pct: Mapped[float] = mapped_column(Float, default=0.0)
    progress_message: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    recording: Mapped[EcgRecording] = relationship(back_populates="jobs")
    report: Mapped[EcgReport | None] = relationship(viewonly=True, uselist=False)


class WorkerHeartbeat(Base):
    """A job worker's sign of life (`portal/worker.py` beats every few seconds). A running job
    whose worker (`analysis_job.worker_id`) has not beaten for 30 s is requeued."""

    __tablename__ = "worker_heartbeat"
    __table_args__ = table_args()

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


# --------------------------------------------------------------------------- reports


class ReportStatus(enum.StrEnum):
    PRELIMINARY = "preliminary"  # machine read only
    FINAL = "final"  # signed by a doctor
    AMENDED = "amended"  # signed, then amended with a reason
    # Signed, then withdrawn by a doctor: not a true record of this patient's ECG (not theirs,
    # or read at a wrong rate or units; `EcgReport.withdrawn_kind`, `services.entered_in_error`)
    ENTERED_IN_ERROR = "entered-in-error"


class WithdrawnKind(enum.StrEnum):
    """Why a signed report was withdrawn as entered in error: what the patient, the doctors
    and other systems are told depends on it (a review, 2026-12-07: a CSV signed at the wrong
    rate, withdrawn to be read again, told the patient "not about your heart")."""

    WRONG_PATIENT = "wrong-patient"  # another person's ECG filed under this patient
    MISREAD = "misread"  # this patient's ECG, read at a wrong sampling rate or in wrong units


class VersionKind(enum.StrEnum):
    MACHINE = "machine"
    PHYSICIAN = "physician"
    AMENDMENT = "amendment"


WITHDRAWN_REASON_CHARS = 500


class EcgReport(TimestampsMixin, Base):
    """One analysed recording. Its content lives in immutable `ReportVersion` rows."""

    __tablename__ = "ecg_report"
    __table_args__ = table_args(
        Index(None, "assigned_doctor_id", "status"),
        # A doctor's worklist: their patients' reports of a status, counted in the index.
        Index(None, "patient_id", "status"),
        # The worklist's order within a status (urgency, then oldest): read in index order;
        # and the same order across every status (the worklist's "all").
        Index(None, "status", "urgency", "report_date"),
        Index(None, "urgency", "report_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    recording_id: Mapped[int] = mapped_column(ForeignKey("ecg_recording.id"), index=True)
    # One report per job: running a job twice can never create two reports.
    job_id: Mapped[int] = mapped_column(ForeignKey("analysis_job.id"), unique=True)
    assigned_doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctor_profile.id"))
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), default=ReportStatus.PRELIMINARY
    )
    report_date: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Worklist order and filter, set from the machine read: 0 = emergency ... 5 = routine.
    urgency: Mapped[int] = mapped_column(SmallInteger, default=5, server_default="5")
    main_finding: Mapped[str | None] = mapped_column(String(32))
    signed_at: Mapped[dt.datetime | None]
    # When the patient may read it (`reports.patient_release_at`): at signing, or later for a
    # dangerous finding not yet discussed with them; NULL while unsigned.
    patient_release_at: Mapped[dt.datetime | None]
    # Withdrawn as entered in error (status ENTERED_IN_ERROR): when, by whom, why.
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(WITHDRAWN_REASON_CHARS))
    withdrawn_kind: Mapped[WithdrawnKind | None] = mapped_column(
        enum_column(WithdrawnKind, "withdrawn_kind"), nullable=True
    )
    # The reading its machine read was made at, when the recording has since been read again
    # at another (`recordings._read_again`; NULL: the recording's own): a withdrawn report's
    # chart had drawn the new rate under the old read's beats (a review, 2026-12-07).
    read_at_hz: Mapped[float | None] = mapped_column(Float)
    read_in_units: Mapped[str | None] = mapped_column(String(8))
    # Optimistic lock: two doctors signing at once -> one wins, the other gets a conflict.
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}

    patient: Mapped[Patient] = relationship()
    recording: Mapped[EcgRecording] = relationship()
    withdrawn_by: Mapped[Account | None] = relationship()
    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="report", order_by="ReportVersion.version_no"
    )
    risk_scores: Mapped[list[RiskScore]] = relationship(back_populates="report")

    @property
    def reading_hz(self) -> float:
        """The sampling rate this report's read was made at (`read_at_hz`: the recording has
        been read again since at another), else the recording's."""
        return self.read_at_hz if self.read_at_hz is not None else self.recording.sampling_rate_hz

    @property
    def reading_duration_s(self) -> float:
        """The recording's length at `reading_hz` (its own while that is the recording's)."""
        if self.read_at_hz is None:
            return self.recording.duration_s
        return self.recording.n_samples / self.read_at_hz

    @property
    def reading_units(self) -> str | None:
        """The units this report's read took the file in, as `reading_hz`."""
        return self.read_in_units if self.read_at_hz is not None else self.recording.declared_units


PATIENT_RISK_CHARS = 400


class ReportVersion(CreatedAtMixin, Base):
    """An immutable read of a report: the machine's (version 1), a physician's, an amendment."""

    __tablename__ = "report_version"
    __table_args__ = table_args(UniqueConstraint("report_id", "version_no"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("ecg_report.id"))
    version_no: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[VersionKind] = mapped_column(enum_column(VersionKind, "version_kind"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    signed_at: Mapped[dt.datetime | None]
    # When the signed version this one replaced was released to the patient, as it stood at
    # this signature (a time after `signed_at`: it never was): `reports.shown_to_patient`.
    previous_release_at: Mapped[dt.datetime | None]
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    rhythm_label: Mapped[str | None] = mapped_column(String(RHYTHM_LABEL_CHARS))
    findings: Mapped[list[str] | None] = mapped_column(JSON)  # coded statements
    conclusion: Mapped[str | None] = mapped_column(Text)  # clinical: for clinicians only
    patient_comment: Mapped[str | None] = mapped_column(Text)  # the doctor's words for the patient
    next_steps: Mapped[list[str] | None] = mapped_column(JSON)  # codes of reports.next_steps
    next_steps_note: Mapped[str | None] = mapped_column(Text)  # the doctor's own next step
    # The risk figure the patient's summary gave at this signature, in its words (the scores
    # are recomputed in place: `reports.plain_language.what_changed` compares these).
    patient_risk: Mapped[str | None] = mapped_column(String(PATIENT_RISK_CHARS))
    # Each risk score as this signature computed it, by model (`risk_scores.signed_figures`:
    # value, unit, category, or why not computed); None for the machine read and versions
    # signed before migration 0025. FHIR serves a score's earlier versions from it, and a
    # score a later signature could not compute as withdrawn (entered-in-error).
    risk_figures: Mapped[dict[str, dict[str, Any]] | None] = mapped_column(JSON)
    predicted_class: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    heart_rate_bpm: Mapped[float | None] = mapped_column(Float)
    pr_ms: Mapped[float | None] = mapped_column(Float)
    qrs_ms: Mapped[float | None] = mapped_column(Float)
    qt_ms: Mapped[float | None] = mapped_column(Float)
    qtc_bazett_ms: Mapped[float | None] = mapped_column(Float)
    qtc_fridericia_ms: Mapped[float | None] = mapped_column(Float)
    qrs_axis_deg: Mapped[float | None] = mapped_column(Float)
    beat_counts: Mapped[dict[str, int] | None] = mapped_column(JSON)
    class_probabilities: Mapped[dict[str, float] | None] = mapped_column(JSON)
    # The machine's complete read but its beats (`ReportBeats`): loaded only when read.
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    model_version: Mapped[str | None] = mapped_column(String(64))

    report: Mapped[EcgReport] = relationship(back_populates="versions")
    author: Mapped[Account | None] = relationship()  # who signed it (the worklist says)
    # Never loaded by accident: `services.machine_read.machine_read` asks for it explicitly.
    beats: Mapped[ReportBeats | None] = relationship(lazy="raise_on_sql")


class ReportBeats(Base):
    """Every beat of a machine read (`ml.analysis.Beats.to_dict()`: samples, classes,
    probabilities): most of a long recording's read, so it lives apart from
    `report_version.analysis` and only the chart and the PDF strips read it."""

    __tablename__ = "report_beats"
    __table_args__ = table_args()

    report_version_id: Mapped[int] = mapped_column(
        ForeignKey("report_version.id"), primary_key=True, autoincrement=False
    )
    n_beats: Mapped[int] = mapped_column(Integer)
    beats: Mapped[dict[str, Any]] = mapped_column(JSON)


class RiskModel(enum.StrEnum):
    FRAMINGHAM_GENERAL_CVD = "framingham_general_cvd"
    FRAMINGHAM_GENERAL_CVD_BMI = "framingham_general_cvd_bmi"
    FRAMINGHAM_HARD_CHD_ATP3 = "framingham_hard_chd_atp3"
    GRACE_IN_HOSPITAL = "grace_in_hospital"
    GRACE_SIX_MONTH = "grace_six_month"


class RiskScore(CreatedAtMixin, Base):
    """A risk score computed for a report, with the exact inputs it used (or why it was not)."""

    __tablename__ = "risk_score"
    __table_args__ = table_args(UniqueConstraint("report_id", "model"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("ecg_report.id"))
    clinical_input_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinical_input.id"), index=True
    )
    model: Mapped[RiskModel] = mapped_column(enum_column(RiskModel, "risk_model"))
    value: Mapped[float | None] = mapped_column(Float)  # percent or points, see `unit`
    unit: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))  # in words, every band
    level: Mapped[RiskLevel | None] = mapped_column(enum_column(RiskLevel, "risk_level"))
    not_computed_reason: Mapped[str | None] = mapped_column(String(255))
    inputs_used: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    contributions: Mapped[dict[str, float] | None] = mapped_column(JSON)
    # The factors that raise the risk most, largest first, as the risk page ranks them:
    # [{"factor", "label", "change_percent_points"}] (models explained by what-if effects).
    raised_most_by: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    report: Mapped[EcgReport] = relationship(back_populates="risk_scores")


class ApiToken(CreatedAtMixin, Base):
    """A machine client's credential (the EHR, the order system): issued by an admin to a
    named client, acting for one account with that account's role rules, limited to scopes,
    expiring, revocable. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_token"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    client_name: Mapped[str] = mapped_column(String(120))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)

    account: Mapped[Account] = relationship(foreign_keys=[account_id])


class BulkExportJob(CreatedAtMixin, Base):
    """A FHIR Bulk Data export (`/fhir/r4/$export`): asked for by an API client, written as
    NDJSON files by the job worker (portal/services/bulk_export.py), readable by the same
    account until `expires_at`, then deleted with its files."""

    __tablename__ = "bulk_export_job"
    __table_args__ = table_args(
        CheckConstraint("progress_pct BETWEEN 0 AND 100", name="progress_pct_range"),
        Index(None, "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    client_name: Mapped[str | None] = mapped_column(String(120))
    request_url: Mapped[str] = mapped_column(String(2000))  # the kick-off URL, as sent
    base_url: Mapped[str] = mapped_column(String(255))  # this server's FHIR base, for references
    resource_types: Mapped[list[str]] = mapped_column(JSON)
    since: Mapped[dt.datetime | None]
    state: Mapped[JobState] = mapped_column(
        enum_column(JobState, "export_state"), default=JobState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    progress_pct: Mapped[float] = mapped_column(Float, default=0.0)
    progress_message: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    transaction_time: Mapped[dt.datetime | None]  # what the files hold is as of this time
    output: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # [{type, count}]
    expires_at: Mapped[dt.datetime | None]


class DocumentKind(enum.StrEnum):
    CLINICIAN = "clinician"
    PATIENT = "patient"


class ReportDocument(CreatedAtMixin, Base):
    """A rendered PDF of one report version, stored under its SHA-256."""

    __tablename__ = "report_document"
    __table_args__ = table_args(UniqueConstraint("report_version_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_version_id: Mapped[int] = mapped_column(ForeignKey("report_version.id"))
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "document_kind"))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    page_size: Mapped[str] = mapped_column(String(8))


# --------------------------------------------------------------------------- audit


class AuditEvent(Base):
    """Who did what to which patient, when, from where. Append-only and hash-chained: each row
    holds the SHA-256 of its own content and of the row before it (`portal/services/audit.py`
    writes the chain, `cardio audit-verify` walks it); on MySQL a trigger refuses UPDATE and
    DELETE."""

    __tablename__ = "audit_event"
    __table_args__ = table_args(
        Index(None, "patient_id", "occurred_at"),
        Index(None, "action", "occurred_at"),
        Index(None, "actor_username", "occurred_at"),  # the audit page's "user" filter
        UniqueConstraint("prev_hash"),  # the chain cannot fork: one successor per row
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    actor_username: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(BigInteger)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The previous row's `row_hash` (64 zeros for the first row) and this row's own hash.
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The newest link of the audit chain: one row (id 1). Every audit write locks it, so two
    requests never chain onto the same row; its last id and hash also reveal a deleted tail."""

    __tablename__ = "audit_chain_head"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ImmutableRowError(RuntimeError):
    """Raised when code tries to change a row that is written once (audit, report versions)."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
@event.listens_for(ReportVersion, "before_update")
@event.listens_for(ReportVersion, "before_delete")
@event.listens_for(ReportBeats, "before_update")
@event.listens_for(ReportBeats, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: Base) -> None:
    raise ImmutableRowError(
        f"{type(target).__name__} rows are written once; they are never updated or deleted."
    )
