"""report version: the rhythm line holds 200 characters, not 80

The machine's headline names the dominant rhythm and the main finding's beside it, and runs
to 95 characters ("Complete AV block, escape rhythm (AV dissociation) with ventricular
flutter/fibrillation (10 s)"): 80 cut it mid-word. Widening keeps every stored line.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _resized_on_sqlite(length: int) -> bool:
    """On SQLite the column is replaced in place (SQLite 3.35+: add, copy, drop, rename):
    altering it in a batch copies the whole table, which the foreign keys of report_beats
    and report_document refuse. False elsewhere (nothing done)."""
    if op.get_bind().dialect.name != "sqlite":
        return False
    op.execute(f"ALTER TABLE report_version ADD COLUMN rhythm_label_resized VARCHAR({length})")
    op.execute("UPDATE report_version SET rhythm_label_resized = rhythm_label")
    op.execute("ALTER TABLE report_version DROP COLUMN rhythm_label")
    op.execute("ALTER TABLE report_version RENAME COLUMN rhythm_label_resized TO rhythm_label")
    return True


def _resize(old_length: int, new_length: int) -> None:
    if _resized_on_sqlite(new_length):
        return
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.alter_column(
            "rhythm_label",
            existing_type=sa.String(length=old_length),
            type_=sa.String(length=new_length),
            existing_nullable=True,
        )


def upgrade() -> None:
    _resize(80, 200)


def downgrade() -> None:
    # Lines over 80 characters are cut to 80 first: MariaDB would refuse them otherwise.
    op.execute("UPDATE report_version SET rhythm_label = SUBSTR(rhythm_label, 1, 80)")
    _resize(200, 80)
