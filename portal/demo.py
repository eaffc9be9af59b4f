"""Demo data for a first look: accounts of every role, patients, clinical inputs.

Passwords are random per installation (never a default in the repository); they are written to
instance/demo-credentials.txt so the person who started the demo can log in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Account, Role, Sex, utcnow
from portal.passwords import generate_temporary_password
from portal.services import accounts, clinical_inputs, patients


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    username: str
    full_name: str


DEMO_ACCOUNTS = (
    DemoAccount(Role.ADMIN, "demo-admin", "Alex Admin"),
    DemoAccount(Role.STAFF, "demo-staff", "Sam Staff"),
    DemoAccount(Role.DOCTOR, "demo-doctor", "Dr. Dana Doctor"),
    DemoAccount(Role.DOCTOR, "demo-doctor2", "Dr. Lee Second"),
)

DEMO_PATIENTS = (
    ("Maria Garcia", dt.date(1958, 3, 14), Sex.FEMALE),
    ("John Smith", dt.date(1969, 11, 2), Sex.MALE),
    ("Aisha Khan", dt.date(1975, 6, 21), Sex.FEMALE),
    ("Robert Müller", dt.date(1949, 1, 30), Sex.MALE),
    ("Chen Wei", dt.date(1982, 9, 9), Sex.MALE),
    ("Fatima Okafor", dt.date(1961, 12, 17), Sex.FEMALE),
)


def seed_demo(session: Session) -> dict[str, str]:
    """Create the demo data once; return {username: password} for accounts created now."""
    if session.scalar(select(Account.id).where(Account.username == "demo-admin")):
        return {}
    credentials: dict[str, str] = {}
    created: dict[str, Account] = {}
    for demo in DEMO_ACCOUNTS:
        password = generate_temporary_password()
        created[demo.username] = accounts.create_account(
            session,
            role=demo.role,
            username=demo.username,
            password=password,
            full_name=demo.full_name,
            actor=None,
            must_change_password=False,
        )
        credentials[demo.username] = password
    staff = created["demo-staff"]
    doctors = [created["demo-doctor"].doctor_profile, created["demo-doctor2"].doctor_profile]
    today = dt.date.today()
    for number, (name, born, sex) in enumerate(DEMO_PATIENTS):
        doctor = doctors[number % 2]
        assert doctor is not None
        patient = patients.register_patient(
            session,
            patients.PatientDetails(
                full_name=name,
                date_of_birth=born,
                sex=sex,
                address=f"{10 + number} Demo Street, Springfield",
                phone=f"+1 555 02{number:02d}",  # not the clinic's own number (+1 555 0100)
                email=f"patient{number}@example.org",
                emergency_contact_name="Next of kin",
                emergency_contact_phone="+1 555 0199",
                assigned_doctor_id=doctor.id,
            ),
            actor=staff,
            today=today,
        )
        clinical_inputs.record_clinical_input(
            session,
            patient,
            clinical_inputs.ClinicalInputForm(
                total_cholesterol=180 + 10 * number,
                hdl=45 + number,
                systolic_bp_mmhg=120 + 5 * number,
                heart_rate_bpm=70 + number,
                bmi_kg_m2=24 + number,
                creatinine=1.0,
                booleans={
                    "smoker": number % 2 == 0,
                    "diabetic": number % 3 == 0,
                    "bp_treated": number % 2 == 1,
                },
            ),
            actor=staff,
            now=utcnow(),
        )
        if number == 1:  # one patient admitted with an acute coronary syndrome: GRACE's inputs
            clinical_inputs.record_clinical_input(
                session,
                patient,
                clinical_inputs.ClinicalInputForm(
                    systolic_bp_mmhg=105,
                    heart_rate_bpm=96,
                    creatinine=1.3,
                    killip_class=2,
                    booleans={
                        "cardiac_arrest_at_admission": False,
                        "st_deviation": True,
                        "st_depression": True,
                        "elevated_cardiac_enzymes": True,
                        "in_hospital_pci": True,
                        "history_of_mi": False,
                        "history_of_heart_failure": False,
                    },
                ),
                actor=staff,
                now=utcnow(),
            )
        if number == 0:
            login = patients.create_portal_account(session, patient, actor=staff)
            login.account.must_change_password = False
            credentials[login.account.username] = login.temporary_password
    return credentials


def write_credentials(path: Path, credentials: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{username} {password}" for username, password in credentials.items()]
    path.write_text("# CardioPortal demo logins (username password)\n" + "\n".join(lines) + "\n")
    path.chmod(0o600)


def write_demo_recordings(folder: Path) -> Path:
    """Synthetic ECG files (CSV and WFDB) a newcomer can upload; written once."""
    from ml.research.synthetic import BeatTruth, synthetic_recording

    folder.mkdir(parents=True, exist_ok=True)
    normal = folder / "normal-12-lead-60s.csv"
    if not normal.exists():
        recording, _ = synthetic_recording(BeatTruth(hr_bpm=68), duration_s=60, fs_hz=500, seed=1)
        _write_csv(normal, recording)
    fast = folder / "tachycardia-3-lead-60s.csv"
    if not fast.exists():
        recording, _ = synthetic_recording(
            BeatTruth(hr_bpm=118, qt_ms=300), duration_s=60, fs_hz=250, leads=("I", "II", "III"),
            seed=2,
        )  # fmt: skip
        _write_csv(fast, recording)
    return folder


def _write_csv(path: Path, recording: Any) -> None:
    import numpy as np

    times = np.arange(recording.signal_mv.shape[0]) / recording.fs_hz
    header = ",".join(["time", *recording.lead_names])
    data = np.column_stack([times, recording.signal_mv])
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt="%.4f")
