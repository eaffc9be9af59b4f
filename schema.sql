-- CardioPortal schema for MySQL 8 / MariaDB 10.6+ (utf8mb4, InnoDB).
-- Generated from portal/models.py by `cardio schema-sql`; do not edit by hand.
-- For DBAs to read. Deployments use `cardio init-db` (Alembic) instead, which also records
-- the version: a database made from this file has no alembic_version table, so
-- `cardio init-db` refuses it (its tables exist) and no upgrade can run on it.

CREATE TABLE account (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	username VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(72) NOT NULL, 
	`role` VARCHAR(32) NOT NULL, 
	is_active BOOL NOT NULL, 
	must_change_password BOOL NOT NULL, 
	session_epoch INTEGER NOT NULL, 
	last_login_at DATETIME(6), 
	created_by_id INTEGER, 
	failed_logins INTEGER NOT NULL DEFAULT '0', 
	locked_until DATETIME(6), 
	failed_in_session INTEGER NOT NULL DEFAULT '0', 
	totp_secret VARCHAR(64), 
	totp_last_step BIGINT, 
	mfa_recovery_hashes JSON, 
	mfa_enabled_at DATETIME(6), 
	updated_at DATETIME(6) NOT NULL, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_account PRIMARY KEY (id), 
	CONSTRAINT uq_account_username UNIQUE (username), 
	CONSTRAINT ck_account_role CHECK (`role` IN ('admin', 'staff', 'doctor', 'patient')), 
	CONSTRAINT fk_account_created_by_id_account FOREIGN KEY(created_by_id) REFERENCES account (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_account_created_by_id ON account (created_by_id);

CREATE INDEX ix_account_role ON account (`role`);

CREATE TABLE audit_chain_head (
	id SMALLINT NOT NULL, 
	last_event_id BIGINT NOT NULL, 
	last_hash VARCHAR(64) NOT NULL, 
	updated_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_audit_chain_head PRIMARY KEY (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE named_lock (
	id SMALLINT NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	CONSTRAINT pk_named_lock PRIMARY KEY (id), 
	CONSTRAINT uq_named_lock_name UNIQUE (name)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE rate_limit_counter (
	`key` VARCHAR(255) NOT NULL, 
	count INTEGER NOT NULL, 
	expires_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_rate_limit_counter PRIMARY KEY (`key`)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_rate_limit_counter_expires_at ON rate_limit_counter (expires_at);

CREATE TABLE worker_heartbeat (
	worker_id VARCHAR(64) NOT NULL, 
	host VARCHAR(255) NOT NULL, 
	pid INTEGER NOT NULL, 
	started_at DATETIME(6) NOT NULL, 
	beat_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_worker_heartbeat PRIMARY KEY (worker_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_worker_heartbeat_beat_at ON worker_heartbeat (beat_at);

CREATE TABLE api_token (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	account_id INTEGER NOT NULL, 
	client_name VARCHAR(120) NOT NULL, 
	token_sha256 VARCHAR(64) NOT NULL, 
	scopes JSON NOT NULL, 
	expires_at DATETIME(6) NOT NULL, 
	revoked_at DATETIME(6), 
	last_used_at DATETIME(6), 
	created_by_id INTEGER, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_api_token PRIMARY KEY (id), 
	CONSTRAINT fk_api_token_account_id_account FOREIGN KEY(account_id) REFERENCES account (id), 
	CONSTRAINT uq_api_token_token_sha256 UNIQUE (token_sha256), 
	CONSTRAINT fk_api_token_created_by_id_account FOREIGN KEY(created_by_id) REFERENCES account (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_api_token_account_id ON api_token (account_id);

CREATE INDEX ix_api_token_created_by_id ON api_token (created_by_id);

CREATE TABLE bulk_export_job (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	requested_by_id INTEGER NOT NULL, 
	client_name VARCHAR(120), 
	request_url VARCHAR(2000) NOT NULL, 
	base_url VARCHAR(255) NOT NULL, 
	resource_types JSON NOT NULL, 
	since DATETIME(6), 
	state VARCHAR(32) NOT NULL, 
	attempts SMALLINT NOT NULL, 
	progress_pct FLOAT NOT NULL, 
	progress_message VARCHAR(255), 
	error_message TEXT, 
	worker_id VARCHAR(64), 
	started_at DATETIME(6), 
	heartbeat_at DATETIME(6), 
	finished_at DATETIME(6), 
	transaction_time DATETIME(6), 
	output JSON, 
	expires_at DATETIME(6), 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_bulk_export_job PRIMARY KEY (id), 
	CONSTRAINT ck_bulk_export_job_progress_pct_range CHECK (progress_pct BETWEEN 0 AND 100), 
	CONSTRAINT fk_bulk_export_job_requested_by_id_account FOREIGN KEY(requested_by_id) REFERENCES account (id), 
	CONSTRAINT ck_bulk_export_job_export_state CHECK (state IN ('queued', 'running', 'succeeded', 'failed'))
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_bulk_export_job_requested_by_id ON bulk_export_job (requested_by_id);

CREATE INDEX ix_bulk_export_job_state_created_at ON bulk_export_job (state, created_at);

CREATE TABLE doctor_profile (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	account_id INTEGER NOT NULL, 
	full_name VARCHAR(120) NOT NULL, 
	specialty VARCHAR(80), 
	registration_number VARCHAR(40), 
	email VARCHAR(254), 
	phone VARCHAR(32), 
	updated_at DATETIME(6) NOT NULL, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_doctor_profile PRIMARY KEY (id), 
	CONSTRAINT uq_doctor_profile_account_id UNIQUE (account_id), 
	CONSTRAINT fk_doctor_profile_account_id_account FOREIGN KEY(account_id) REFERENCES account (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE staff_profile (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	account_id INTEGER NOT NULL, 
	full_name VARCHAR(120) NOT NULL, 
	job_title VARCHAR(80), 
	email VARCHAR(254), 
	phone VARCHAR(32), 
	updated_at DATETIME(6) NOT NULL, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_staff_profile PRIMARY KEY (id), 
	CONSTRAINT uq_staff_profile_account_id UNIQUE (account_id), 
	CONSTRAINT fk_staff_profile_account_id_account FOREIGN KEY(account_id) REFERENCES account (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE patient (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	mrn VARCHAR(16) NOT NULL, 
	full_name VARCHAR(120) NOT NULL, 
	name_folded VARCHAR(240) NOT NULL DEFAULT '', 
	date_of_birth DATE NOT NULL, 
	sex VARCHAR(32) NOT NULL, 
	address VARCHAR(255), 
	email VARCHAR(254), 
	phone VARCHAR(32), 
	emergency_contact_name VARCHAR(120), 
	emergency_contact_phone VARCHAR(32), 
	assigned_doctor_id INTEGER, 
	account_id INTEGER, 
	is_active BOOL NOT NULL, 
	created_by_id INTEGER NOT NULL, 
	updated_by_id INTEGER, 
	updated_at DATETIME(6) NOT NULL, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_patient PRIMARY KEY (id), 
	CONSTRAINT uq_patient_mrn UNIQUE (mrn), 
	CONSTRAINT ck_patient_sex CHECK (sex IN ('female', 'male', 'other', 'unknown')), 
	CONSTRAINT fk_patient_assigned_doctor_id_doctor_profile FOREIGN KEY(assigned_doctor_id) REFERENCES doctor_profile (id), 
	CONSTRAINT uq_patient_account_id UNIQUE (account_id), 
	CONSTRAINT fk_patient_account_id_account FOREIGN KEY(account_id) REFERENCES account (id), 
	CONSTRAINT fk_patient_created_by_id_account FOREIGN KEY(created_by_id) REFERENCES account (id), 
	CONSTRAINT fk_patient_updated_by_id_account FOREIGN KEY(updated_by_id) REFERENCES account (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_patient_assigned_doctor_id ON patient (assigned_doctor_id);

CREATE INDEX ix_patient_created_by_id ON patient (created_by_id);

CREATE INDEX ix_patient_date_of_birth ON patient (date_of_birth);

CREATE INDEX ix_patient_full_name ON patient (full_name);

CREATE INDEX ix_patient_is_active_name_folded_full_name_mrn ON patient (is_active, name_folded, full_name, mrn);

CREATE INDEX ix_patient_updated_by_id ON patient (updated_by_id);

CREATE TABLE audit_event (
	id BIGINT NOT NULL AUTO_INCREMENT, 
	occurred_at DATETIME(6) NOT NULL, 
	actor_id INTEGER, 
	actor_username VARCHAR(64), 
	actor_role VARCHAR(16), 
	action VARCHAR(48) NOT NULL, 
	patient_id INTEGER, 
	object_type VARCHAR(32), 
	object_id BIGINT, 
	ip_address VARCHAR(45), 
	user_agent VARCHAR(255), 
	details JSON, 
	prev_hash VARCHAR(64) NOT NULL, 
	row_hash VARCHAR(64) NOT NULL, 
	CONSTRAINT pk_audit_event PRIMARY KEY (id), 
	CONSTRAINT uq_audit_event_prev_hash UNIQUE (prev_hash), 
	CONSTRAINT fk_audit_event_actor_id_account FOREIGN KEY(actor_id) REFERENCES account (id), 
	CONSTRAINT fk_audit_event_patient_id_patient FOREIGN KEY(patient_id) REFERENCES patient (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_audit_event_action_occurred_at ON audit_event (action, occurred_at);

CREATE INDEX ix_audit_event_actor_id ON audit_event (actor_id);

CREATE INDEX ix_audit_event_actor_username_occurred_at ON audit_event (actor_username, occurred_at);

CREATE INDEX ix_audit_event_occurred_at ON audit_event (occurred_at);

CREATE INDEX ix_audit_event_patient_id_occurred_at ON audit_event (patient_id, occurred_at);

CREATE TABLE clinical_input (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	patient_id INTEGER NOT NULL, 
	recorded_at DATETIME(6) NOT NULL, 
	entered_by_id INTEGER NOT NULL, 
	responsible_doctor_id INTEGER, 
	smoker BOOL, 
	diabetic BOOL, 
	total_cholesterol_mg_dl NUMERIC(7, 2), 
	hdl_mg_dl NUMERIC(7, 2), 
	systolic_bp_mmhg SMALLINT, 
	bp_treated BOOL, 
	bmi_kg_m2 NUMERIC(4, 1), 
	heart_rate_bpm SMALLINT, 
	creatinine_mg_dl NUMERIC(6, 3), 
	killip_class SMALLINT, 
	cardiac_arrest_at_admission BOOL, 
	st_deviation BOOL, 
	st_depression BOOL, 
	elevated_cardiac_enzymes BOOL, 
	history_of_mi BOOL, 
	history_of_heart_failure BOOL, 
	in_hospital_pci BOOL, 
	other_issues TEXT, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_clinical_input PRIMARY KEY (id), 
	CONSTRAINT ck_clinical_input_killip_class_range CHECK (killip_class BETWEEN 1 AND 4), 
	CONSTRAINT fk_clinical_input_patient_id_patient FOREIGN KEY(patient_id) REFERENCES patient (id), 
	CONSTRAINT fk_clinical_input_entered_by_id_account FOREIGN KEY(entered_by_id) REFERENCES account (id), 
	CONSTRAINT fk_clinical_input_responsible_doctor_id_doctor_profile FOREIGN KEY(responsible_doctor_id) REFERENCES doctor_profile (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_clinical_input_entered_by_id ON clinical_input (entered_by_id);

CREATE INDEX ix_clinical_input_patient_id_recorded_at ON clinical_input (patient_id, recorded_at);

CREATE INDEX ix_clinical_input_responsible_doctor_id ON clinical_input (responsible_doctor_id);

CREATE TABLE ecg_recording (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	patient_id INTEGER NOT NULL, 
	uploaded_by_id INTEGER NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	original_filename VARCHAR(255) NOT NULL, 
	file_format VARCHAR(32) NOT NULL, 
	size_bytes BIGINT NOT NULL, 
	sampling_rate_hz FLOAT NOT NULL, 
	lead_names JSON NOT NULL, 
	n_samples BIGINT NOT NULL, 
	duration_s FLOAT NOT NULL, 
	acquired_at DATETIME(6), 
	declared_units VARCHAR(8), 
	reference_record VARCHAR(64), 
	pacemaker BOOL NOT NULL DEFAULT '0', 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_ecg_recording PRIMARY KEY (id), 
	CONSTRAINT uq_ecg_recording_patient_id_sha256 UNIQUE (patient_id, sha256), 
	CONSTRAINT fk_ecg_recording_patient_id_patient FOREIGN KEY(patient_id) REFERENCES patient (id), 
	CONSTRAINT fk_ecg_recording_uploaded_by_id_account FOREIGN KEY(uploaded_by_id) REFERENCES account (id), 
	CONSTRAINT ck_ecg_recording_recording_format CHECK (file_format IN ('wfdb', 'csv', 'edf'))
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_ecg_recording_patient_id ON ecg_recording (patient_id);

CREATE INDEX ix_ecg_recording_sha256 ON ecg_recording (sha256);

CREATE INDEX ix_ecg_recording_uploaded_by_id ON ecg_recording (uploaded_by_id);

CREATE TABLE analysis_job (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	recording_id INTEGER NOT NULL, 
	requested_by_id INTEGER NOT NULL, 
	state VARCHAR(32) NOT NULL, 
	attempts SMALLINT NOT NULL, 
	max_attempts SMALLINT NOT NULL, 
	progress_pct FLOAT NOT NULL, 
	progress_message VARCHAR(255), 
	error_message TEXT, 
	worker_id VARCHAR(64), 
	started_at DATETIME(6), 
	heartbeat_at DATETIME(6), 
	finished_at DATETIME(6), 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_analysis_job PRIMARY KEY (id), 
	CONSTRAINT ck_analysis_job_progress_pct_range CHECK (progress_pct BETWEEN 0 AND 100), 
	CONSTRAINT fk_analysis_job_recording_id_ecg_recording FOREIGN KEY(recording_id) REFERENCES ecg_recording (id), 
	CONSTRAINT fk_analysis_job_requested_by_id_account FOREIGN KEY(requested_by_id) REFERENCES account (id), 
	CONSTRAINT ck_analysis_job_job_state CHECK (state IN ('queued', 'running', 'succeeded', 'failed'))
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_analysis_job_recording_id ON analysis_job (recording_id);

CREATE INDEX ix_analysis_job_requested_by_id ON analysis_job (requested_by_id);

CREATE INDEX ix_analysis_job_state_created_at ON analysis_job (state, created_at);

CREATE TABLE ecg_report (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	patient_id INTEGER NOT NULL, 
	recording_id INTEGER NOT NULL, 
	job_id INTEGER NOT NULL, 
	assigned_doctor_id INTEGER, 
	status VARCHAR(32) NOT NULL, 
	report_date DATETIME(6) NOT NULL, 
	urgency SMALLINT NOT NULL DEFAULT '5', 
	main_finding VARCHAR(32), 
	signed_at DATETIME(6), 
	patient_release_at DATETIME(6), 
	withdrawn_at DATETIME(6), 
	withdrawn_by_id INTEGER, 
	withdrawn_reason VARCHAR(500), 
	withdrawn_kind VARCHAR(32), 
	read_at_hz FLOAT, 
	read_in_units VARCHAR(8), 
	row_version INTEGER NOT NULL, 
	updated_at DATETIME(6) NOT NULL, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_ecg_report PRIMARY KEY (id), 
	CONSTRAINT fk_ecg_report_patient_id_patient FOREIGN KEY(patient_id) REFERENCES patient (id), 
	CONSTRAINT fk_ecg_report_recording_id_ecg_recording FOREIGN KEY(recording_id) REFERENCES ecg_recording (id), 
	CONSTRAINT uq_ecg_report_job_id UNIQUE (job_id), 
	CONSTRAINT fk_ecg_report_job_id_analysis_job FOREIGN KEY(job_id) REFERENCES analysis_job (id), 
	CONSTRAINT fk_ecg_report_assigned_doctor_id_doctor_profile FOREIGN KEY(assigned_doctor_id) REFERENCES doctor_profile (id), 
	CONSTRAINT ck_ecg_report_report_status CHECK (status IN ('preliminary', 'final', 'amended', 'entered-in-error')), 
	CONSTRAINT fk_ecg_report_withdrawn_by_id_account FOREIGN KEY(withdrawn_by_id) REFERENCES account (id), 
	CONSTRAINT ck_ecg_report_withdrawn_kind CHECK (withdrawn_kind IN ('wrong-patient', 'misread'))
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_ecg_report_assigned_doctor_id_status ON ecg_report (assigned_doctor_id, status);

CREATE INDEX ix_ecg_report_patient_id_status ON ecg_report (patient_id, status);

CREATE INDEX ix_ecg_report_recording_id ON ecg_report (recording_id);

CREATE INDEX ix_ecg_report_status_urgency_report_date ON ecg_report (status, urgency, report_date);

CREATE INDEX ix_ecg_report_urgency_report_date ON ecg_report (urgency, report_date);

CREATE INDEX ix_ecg_report_withdrawn_by_id ON ecg_report (withdrawn_by_id);

CREATE TABLE report_version (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	report_id INTEGER NOT NULL, 
	version_no SMALLINT NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	author_id INTEGER, 
	signed_at DATETIME(6), 
	previous_release_at DATETIME(6), 
	amendment_reason TEXT, 
	rhythm_label VARCHAR(200), 
	findings JSON, 
	conclusion TEXT, 
	patient_comment TEXT, 
	next_steps JSON, 
	next_steps_note TEXT, 
	patient_risk VARCHAR(400), 
	risk_figures JSON, 
	predicted_class VARCHAR(16), 
	confidence FLOAT, 
	heart_rate_bpm FLOAT, 
	pr_ms FLOAT, 
	qrs_ms FLOAT, 
	qt_ms FLOAT, 
	qtc_bazett_ms FLOAT, 
	qtc_fridericia_ms FLOAT, 
	qrs_axis_deg FLOAT, 
	beat_counts JSON, 
	class_probabilities JSON, 
	analysis JSON, 
	model_version VARCHAR(64), 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_report_version PRIMARY KEY (id), 
	CONSTRAINT uq_report_version_report_id_version_no UNIQUE (report_id, version_no), 
	CONSTRAINT fk_report_version_report_id_ecg_report FOREIGN KEY(report_id) REFERENCES ecg_report (id), 
	CONSTRAINT ck_report_version_version_kind CHECK (kind IN ('machine', 'physician', 'amendment')), 
	CONSTRAINT fk_report_version_author_id_account FOREIGN KEY(author_id) REFERENCES account (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_report_version_author_id ON report_version (author_id);

CREATE TABLE risk_score (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	report_id INTEGER NOT NULL, 
	clinical_input_id INTEGER, 
	model VARCHAR(32) NOT NULL, 
	value FLOAT, 
	unit VARCHAR(16), 
	category VARCHAR(64), 
	level VARCHAR(32), 
	not_computed_reason VARCHAR(255), 
	inputs_used JSON, 
	contributions JSON, 
	raised_most_by JSON, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_risk_score PRIMARY KEY (id), 
	CONSTRAINT uq_risk_score_report_id_model UNIQUE (report_id, model), 
	CONSTRAINT fk_risk_score_report_id_ecg_report FOREIGN KEY(report_id) REFERENCES ecg_report (id), 
	CONSTRAINT fk_risk_score_clinical_input_id_clinical_input FOREIGN KEY(clinical_input_id) REFERENCES clinical_input (id), 
	CONSTRAINT ck_risk_score_risk_model CHECK (model IN ('framingham_general_cvd', 'framingham_general_cvd_bmi', 'framingham_hard_chd_atp3', 'grace_in_hospital', 'grace_six_month')), 
	CONSTRAINT ck_risk_score_risk_level CHECK (level IN ('low', 'intermediate', 'high'))
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_risk_score_clinical_input_id ON risk_score (clinical_input_id);

CREATE TABLE report_beats (
	report_version_id INTEGER NOT NULL, 
	n_beats INTEGER NOT NULL, 
	beats JSON NOT NULL, 
	CONSTRAINT pk_report_beats PRIMARY KEY (report_version_id), 
	CONSTRAINT fk_report_beats_report_version_id_report_version FOREIGN KEY(report_version_id) REFERENCES report_version (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE report_document (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	report_version_id INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	size_bytes BIGINT NOT NULL, 
	page_size VARCHAR(8) NOT NULL, 
	created_at DATETIME(6) NOT NULL, 
	CONSTRAINT pk_report_document PRIMARY KEY (id), 
	CONSTRAINT uq_report_document_report_version_id_kind UNIQUE (report_version_id, kind), 
	CONSTRAINT fk_report_document_report_version_id_report_version FOREIGN KEY(report_version_id) REFERENCES report_version (id), 
	CONSTRAINT ck_report_document_document_kind CHECK (kind IN ('clinician', 'patient'))
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_event rows are append-only: UPDATE refused';

CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_event rows are append-only: DELETE refused';
