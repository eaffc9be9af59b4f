"""report version: the doctor's comment for the patient, apart from the clinical conclusion

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.drop_column("patient_comment")
