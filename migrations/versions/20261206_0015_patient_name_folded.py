"""patient.name_folded: names searched without case or accents on every database

SQLite's LIKE folds only ASCII letters, so "сергей" missed "Сергей Иванов" and "jose" missed
"José Núñez"; a name stored decomposed missed its composed spelling everywhere. Each patient
keeps its name folded (`portal.name_search.folded`), filled here for the patients already
registered; the search index holds it beside the name.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.name_search import FOLDED_CHARS, folded

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

_patients = sa.table(
    "patient",
    sa.column("id", sa.Integer()),
    sa.column("full_name", sa.String()),
    sa.column("name_folded", sa.String()),
)


def upgrade() -> None:
    op.add_column(
        "patient",
        sa.Column("name_folded", sa.String(length=FOLDED_CHARS), server_default="", nullable=False),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(_patients.c.id, _patients.c.full_name)).all()
    fill = (
        _patients.update()
        .where(_patients.c.id == sa.bindparam("patient_id"))
        .values(name_folded=sa.bindparam("folded"))
    )
    for start in range(0, len(rows), BATCH):  # one round trip per batch (executemany)
        batch = rows[start : start + BATCH]
        connection.execute(fill, [{"patient_id": i, "folded": folded(n)} for i, n in batch])
    # Indexes outside a batch: SQLite's batch would copy the table, which rows refer to.
    op.drop_index(op.f("ix_patient_is_active_full_name_mrn"), table_name="patient")
    op.create_index(
        op.f("ix_patient_is_active_name_folded_full_name_mrn"),
        "patient",
        ["is_active", "name_folded", "full_name", "mrn"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_patient_is_active_name_folded_full_name_mrn"), table_name="patient")
    op.create_index(
        op.f("ix_patient_is_active_full_name_mrn"),
        "patient",
        ["is_active", "full_name", "mrn"],
        unique=False,
    )
    op.drop_column("patient", "name_folded")  # ALTER TABLE, also on SQLite 3.35+ (no copy)
