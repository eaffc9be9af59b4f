"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:58:09.452440
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=72), nullable=False),
    sa.Column('role', sa.Enum('admin', 'staff', 'doctor', 'patient', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('last_login_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_account_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('username', name=op.f('uq_account_username')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_role'), ['role'], unique=False)

    op.create_table('doctor_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('specialty', sa.String(length=80), nullable=True),
    sa.Column('registration_number', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_doctor_profile_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doctor_profile')),
    sa.UniqueConstraint('account_id', name=op.f('uq_doctor_profile_account_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('staff_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('job_title', sa.String(length=80), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_staff_profile_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_profile')),
    sa.UniqueConstraint('account_id', name=op.f('uq_staff_profile_account_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mrn', sa.String(length=16), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('sex', sa.Enum('female', 'male', 'other', 'unknown', name='sex', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('emergency_contact_name', sa.String(length=120), nullable=True),
    sa.Column('emergency_contact_phone', sa.String(length=32), nullable=True),
    sa.Column('assigned_doctor_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_patient_account_id_account')),
    sa.ForeignKeyConstraint(['assigned_doctor_id'], ['doctor_profile.id'], name=op.f('fk_patient_assigned_doctor_id_doctor_profile')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_patient_created_by_id_account')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['account.id'], name=op.f('fk_patient_updated_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('account_id', name=op.f('uq_patient_account_id')),
    sa.UniqueConstraint('mrn', name=op.f('uq_patient_mrn')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_assigned_doctor_id'), ['assigned_doctor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_full_name'), ['full_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_updated_by_id'), ['updated_by_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_username', sa.String(length=64), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.BigInteger(), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['account.id'], name=op.f('fk_audit_event_actor_id_account')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_audit_event_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action_occurred_at'), ['action', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_patient_id_occurred_at'), ['patient_id', 'occurred_at'], unique=False)

    op.create_table('clinical_input',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('responsible_doctor_id', sa.Integer(), nullable=True),
    sa.Column('smoker', sa.Boolean(), nullable=True),
    sa.Column('diabetic', sa.Boolean(), nullable=True),
    sa.Column('total_cholesterol_mg_dl', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('hdl_mg_dl', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('systolic_bp_mmhg', sa.SmallInteger(), nullable=True),
    sa.Column('bp_treated', sa.Boolean(), nullable=True),
    sa.Column('bmi_kg_m2', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('heart_rate_bpm', sa.SmallInteger(), nullable=True),
    sa.Column('creatinine_mg_dl', sa.Numeric(precision=6, scale=3), nullable=True),
    sa.Column('killip_class', sa.SmallInteger(), nullable=True),
    sa.Column('cardiac_arrest_at_admission', sa.Boolean(), nullable=True),
    sa.Column('st_deviation', sa.Boolean(), nullable=True),
    sa.Column('st_depression', sa.Boolean(), nullable=True),
    sa.Column('elevated_cardiac_enzymes', sa.Boolean(), nullable=True),
    sa.Column('history_of_mi', sa.Boolean(), nullable=True),
    sa.Column('history_of_heart_failure', sa.Boolean(), nullable=True),
    sa.Column('in_hospital_pci', sa.Boolean(), nullable=True),
    sa.Column('other_issues', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.CheckConstraint('killip_class BETWEEN 1 AND 4', name=op.f('ck_clinical_input_killip_class_range')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['account.id'], name=op.f('fk_clinical_input_entered_by_id_account')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_clinical_input_patient_id_patient')),
    sa.ForeignKeyConstraint(['responsible_doctor_id'], ['doctor_profile.id'], name=op.f('fk_clinical_input_responsible_doctor_id_doctor_profile')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinical_input')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('clinical_input', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinical_input_entered_by_id'), ['entered_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinical_input_patient_id_recorded_at'), ['patient_id', 'recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinical_input_responsible_doctor_id'), ['responsible_doctor_id'], unique=False)

    op.create_table('ecg_recording',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('file_format', sa.Enum('wfdb', 'csv', 'edf', name='recording_format', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sampling_rate_hz', sa.Float(), nullable=False),
    sa.Column('lead_names', sa.JSON(), nullable=False),
    sa.Column('n_samples', sa.BigInteger(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('acquired_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('reference_record', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_ecg_recording_patient_id_patient')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['account.id'], name=op.f('fk_ecg_recording_uploaded_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ecg_recording')),
    sa.UniqueConstraint('patient_id', 'sha256', name=op.f('uq_ecg_recording_patient_id_sha256')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('ecg_recording', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ecg_recording_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ecg_recording_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_ecg_recording_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('analysis_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'succeeded', 'failed', name='job_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('max_attempts', sa.SmallInteger(), nullable=False),
    sa.Column('progress_pct', sa.Float(), nullable=False),
    sa.Column('progress_message', sa.String(length=255), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('worker_id', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('finished_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.CheckConstraint('progress_pct BETWEEN 0 AND 100', name=op.f('ck_analysis_job_progress_pct_range')),
    sa.ForeignKeyConstraint(['recording_id'], ['ecg_recording.id'], name=op.f('fk_analysis_job_recording_id_ecg_recording')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['account.id'], name=op.f('fk_analysis_job_requested_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_job')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('analysis_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_job_recording_id'), ['recording_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analysis_job_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analysis_job_state_created_at'), ['state', 'created_at'], unique=False)

    op.create_table('ecg_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('assigned_doctor_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('preliminary', 'final', 'amended', name='report_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('report_date', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['assigned_doctor_id'], ['doctor_profile.id'], name=op.f('fk_ecg_report_assigned_doctor_id_doctor_profile')),
    sa.ForeignKeyConstraint(['job_id'], ['analysis_job.id'], name=op.f('fk_ecg_report_job_id_analysis_job')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_ecg_report_patient_id_patient')),
    sa.ForeignKeyConstraint(['recording_id'], ['ecg_recording.id'], name=op.f('fk_ecg_report_recording_id_ecg_recording')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ecg_report')),
    sa.UniqueConstraint('job_id', name=op.f('uq_ecg_report_job_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('ecg_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ecg_report_assigned_doctor_id_status'), ['assigned_doctor_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_ecg_report_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ecg_report_recording_id'), ['recording_id'], unique=False)

    op.create_table('report_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.Enum('machine', 'physician', 'amendment', name='version_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('amendment_reason', sa.Text(), nullable=True),
    sa.Column('rhythm_label', sa.String(length=80), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.Column('conclusion', sa.Text(), nullable=True),
    sa.Column('predicted_class', sa.String(length=16), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('heart_rate_bpm', sa.Float(), nullable=True),
    sa.Column('pr_ms', sa.Float(), nullable=True),
    sa.Column('qrs_ms', sa.Float(), nullable=True),
    sa.Column('qt_ms', sa.Float(), nullable=True),
    sa.Column('qtc_bazett_ms', sa.Float(), nullable=True),
    sa.Column('qtc_fridericia_ms', sa.Float(), nullable=True),
    sa.Column('qrs_axis_deg', sa.Float(), nullable=True),
    sa.Column('beat_counts', sa.JSON(), nullable=True),
    sa.Column('class_probabilities', sa.JSON(), nullable=True),
    sa.Column('analysis', sa.JSON(), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['account.id'], name=op.f('fk_report_version_author_id_account')),
    sa.ForeignKeyConstraint(['report_id'], ['ecg_report.id'], name=op.f('fk_report_version_report_id_ecg_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_version')),
    sa.UniqueConstraint('report_id', 'version_no', name=op.f('uq_report_version_report_id_version_no')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_version_author_id'), ['author_id'], unique=False)

    op.create_table('risk_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('clinical_input_id', sa.Integer(), nullable=True),
    sa.Column('model', sa.Enum('framingham_general_cvd', 'framingham_general_cvd_bmi', 'framingham_hard_chd_atp3', 'grace_in_hospital', 'grace_six_month', name='risk_model', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('not_computed_reason', sa.String(length=255), nullable=True),
    sa.Column('inputs_used', sa.JSON(), nullable=True),
    sa.Column('contributions', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['clinical_input_id'], ['clinical_input.id'], name=op.f('fk_risk_score_clinical_input_id_clinical_input')),
    sa.ForeignKeyConstraint(['report_id'], ['ecg_report.id'], name=op.f('fk_risk_score_report_id_ecg_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_score')),
    sa.UniqueConstraint('report_id', 'model', name=op.f('uq_risk_score_report_id_model')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_score_clinical_input_id'), ['clinical_input_id'], unique=False)

    op.create_table('report_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_version_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('clinician', 'patient', name='document_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('page_size', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['report_version_id'], ['report_version.id'], name=op.f('fk_report_document_report_version_id_report_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_document')),
    sa.UniqueConstraint('report_version_id', 'kind', name=op.f('uq_report_document_report_version_id_kind')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; MySQL refuses to drop an index a foreign key needs.
    op.drop_table('report_document')
    op.drop_table('risk_score')
    op.drop_table('report_version')
    op.drop_table('ecg_report')
    op.drop_table('analysis_job')
    op.drop_table('ecg_recording')
    op.drop_table('clinical_input')
    op.drop_table('audit_event')
    op.drop_table('patient')
    op.drop_table('staff_profile')
    op.drop_table('doctor_profile')
    op.drop_table('account')
