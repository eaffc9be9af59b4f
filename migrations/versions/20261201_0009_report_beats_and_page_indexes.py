"""report_beats: the machine read's beats apart from the read; indexes for the busy pages

The per-beat part of a machine read (`analysis.beats`: sample, class and probability of every
beat; ~1.5 MB of JSON for a 24-hour Holter) moves from `report_version.analysis` to its own
table, so the worklist, the review page and the searches never read it; the chart and the
PDF strips do. The move changes where the read is stored, not what it says: no version's
content changes (the downgrade puts the beats back in place).

Indexes, each chosen from MariaDB's EXPLAIN (tests/test_page_queries.py):
- ecg_report (status, urgency, report_date), replacing (status, urgency): the worklist's
  order within a status, read in index order instead of sorting every report of the status;
- ecg_report (urgency, report_date): the same order across every status (the worklist's
  "all"), instead of reading and sorting every report;
- ecg_report (patient_id, status), replacing (patient_id): a doctor's worklist counts and
  filters their patients' reports by status in the index, without reading the rows;
- patient (is_active, full_name, mrn): patient search matches a name fragment or an MRN
  prefix in the index, in name order, without reading the patient rows;
- audit_event (actor_username, occurred_at): the audit page's user filter, newest first.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200  # versions per round trip: a batch of 24-hour reads is ~300 MB of JSON at most

_versions = sa.table(
    "report_version", sa.column("id", sa.Integer()), sa.column("analysis", sa.JSON())
)
_beats = sa.table(
    "report_beats",
    sa.column("report_version_id", sa.Integer()),
    sa.column("n_beats", sa.Integer()),
    sa.column("beats", sa.JSON()),
)


def upgrade() -> None:
    op.create_table(
        "report_beats",
        sa.Column("report_version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n_beats", sa.Integer(), nullable=False),
        sa.Column("beats", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["report_version_id"], ["report_version.id"], name=op.f("fk_report_beats_report_version_id_report_version")),
        sa.PrimaryKeyConstraint("report_version_id", name=op.f("pk_report_beats")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    _move_beats_out()
    with op.batch_alter_table("ecg_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ecg_report_status_urgency_report_date"), ["status", "urgency", "report_date"], unique=False)
        batch_op.drop_index(batch_op.f("ix_ecg_report_status_urgency"))
        batch_op.create_index(batch_op.f("ix_ecg_report_patient_id_status"), ["patient_id", "status"], unique=False)
        batch_op.drop_index(batch_op.f("ix_ecg_report_patient_id"))  # the new one serves the FK
        batch_op.create_index(batch_op.f("ix_ecg_report_urgency_report_date"), ["urgency", "report_date"], unique=False)
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patient_is_active_full_name_mrn"), ["is_active", "full_name", "mrn"], unique=False)
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_actor_username_occurred_at"), ["actor_username", "occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_username_occurred_at"))
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_is_active_full_name_mrn"))
    with op.batch_alter_table("ecg_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecg_report_urgency_report_date"))
        batch_op.create_index(batch_op.f("ix_ecg_report_patient_id"), ["patient_id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_ecg_report_patient_id_status"))
        batch_op.create_index(batch_op.f("ix_ecg_report_status_urgency"), ["status", "urgency"], unique=False)
        batch_op.drop_index(batch_op.f("ix_ecg_report_status_urgency_report_date"))
    _move_beats_back()
    op.drop_table("report_beats")


def _move_beats_out() -> None:
    """Each version whose analysis holds `beats`: the beats to `report_beats`, the rest stays."""
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(_versions.c.id, _versions.c.analysis)
            .where(_versions.c.id > after, _versions.c.analysis.is_not(None))
            .order_by(_versions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        moved = [(row.id, _as_dict(row.analysis)) for row in rows]
        moved = [(i, doc) for i, doc in moved if isinstance(doc.get("beats"), dict)]
        if not moved:
            continue
        connection.execute(
            _beats.insert(),
            [
                {"report_version_id": i, "n_beats": len(doc["beats"].get("sample", [])), "beats": doc["beats"]}
                for i, doc in moved
            ],
        )
        for i, doc in moved:
            rest = {k: v for k, v in doc.items() if k != "beats"}
            connection.execute(_versions.update().where(_versions.c.id == i).values(analysis=rest))


def _move_beats_back() -> None:
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(_beats.c.report_version_id, _beats.c.beats, _versions.c.analysis)
            .join(_versions, _versions.c.id == _beats.c.report_version_id)
            .where(_beats.c.report_version_id > after)
            .order_by(_beats.c.report_version_id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].report_version_id
        for row in rows:
            document = {**_as_dict(row.analysis), "beats": _as_dict(row.beats)}
            connection.execute(
                _versions.update().where(_versions.c.id == row.report_version_id).values(analysis=document)
            )


def _as_dict(value: object) -> dict:
    """A JSON column's value (MariaDB's JSON is LONGTEXT: a string to some drivers)."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}
