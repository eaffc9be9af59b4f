"""bulk_export_job: FHIR Bulk Data exports, written as NDJSON by the job worker

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TIMESTAMP = (  # the models' Timestamp: microseconds on MySQL/MariaDB
    sa.DateTime()
    .with_variant(mysql.DATETIME(fsp=6), "mariadb")
    .with_variant(mysql.DATETIME(fsp=6), "mysql")
)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("client_name", sa.String(length=120), nullable=True),
        sa.Column("request_url", sa.String(length=2000), nullable=False),
        sa.Column("base_url", sa.String(length=255), nullable=False),
        sa.Column("resource_types", sa.JSON(), nullable=False),
        sa.Column("since", TIMESTAMP, nullable=True),
        sa.Column(
            "state",
            sa.Enum("queued", "running", "succeeded", "failed", name="export_state",
                    native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("progress_pct", sa.Float(), nullable=False),
        sa.Column("progress_message", sa.String(length=255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("worker_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("transaction_time", TIMESTAMP, nullable=True),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("progress_pct BETWEEN 0 AND 100",
                           name=op.f("ck_bulk_export_job_progress_pct_range")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["account.id"],
                                name=op.f("fk_bulk_export_job_requested_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_export_job")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("bulk_export_job", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulk_export_job_requested_by_id"), ["requested_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bulk_export_job_state_created_at"), ["state", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("bulk_export_job")  # its indexes go with it (MySQL refuses to drop an FK's index)
