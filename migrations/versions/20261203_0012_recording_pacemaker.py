"""ecg recording: the pacemaker flag staff set at upload (paced rhythm possible)

The analysis of a recording with the flag is a paced read (`ml.paced`: no rhythm, beat types
or intervals asserted). Recordings uploaded before it had no such flag: false.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ecg_recording", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pacemaker", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, also on SQLite (3.35+): a batch operation would copy the
    # table and drop the old one, which the foreign keys of its jobs and reports refuse.
    op.drop_column("ecg_recording", "pacemaker")
