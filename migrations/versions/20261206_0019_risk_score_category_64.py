"""risk_score.category: 64 characters

A GRACE score gives each band in words when the ACS type is not known: "NSTE-ACS intermediate,
STEMI intermediate" is 41 characters, and MariaDB refused to store it in the 32 the column
had (`Data too long for column 'category'`), failing the report's analysis job or signature
(SQLite, which keeps any length, had hidden it; a test under MariaDB found it).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _resize(old_length: int, new_length: int) -> None:
    # A batch operation: on SQLite it copies the table, which no other table refers to.
    with op.batch_alter_table("risk_score", schema=None) as batch_op:
        batch_op.alter_column(
            "category",
            existing_type=sa.String(length=old_length),
            type_=sa.String(length=new_length),
            existing_nullable=True,
        )


def upgrade() -> None:
    _resize(32, 64)


def downgrade() -> None:
    # Categories over 32 characters are cut to 32 first: MariaDB would refuse them otherwise.
    op.execute("UPDATE risk_score SET category = SUBSTR(category, 1, 32)")
    _resize(64, 32)
