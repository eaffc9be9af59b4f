"""report version: the next steps the signing doctor orders (codes) and a free-text step

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_steps", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("next_steps_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.drop_column("next_steps_note")
        batch_op.drop_column("next_steps")
