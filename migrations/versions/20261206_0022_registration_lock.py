"""named_lock (one row per kind of work serialised across accounts: patient registration) and
an index on patient.date_of_birth

Two staff registering two different patients at the same moment on MariaDB deadlocked: each
registration's twin check share-locked every patient row (no index on the date of birth) and
then inserted, and one was told the database was down (a working-day audit). Registrations now
take the `named_lock` row 1 in turn, and the check reads one day's patients.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE_OPTIONS = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    named_lock = op.create_table(
        "named_lock",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_named_lock")),
        sa.UniqueConstraint("name", name=op.f("uq_named_lock_name")),
        **TABLE_OPTIONS,
    )
    op.bulk_insert(named_lock, [{"id": 1, "name": "patient registration"}])
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patient_date_of_birth"), ["date_of_birth"])


def downgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_date_of_birth"))
    op.drop_table("named_lock")
