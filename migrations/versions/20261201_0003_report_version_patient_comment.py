"""report version: the doctor's comment for the patient, apart from the clinical conclusion

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_comment", sa.Text(), nullable=True))


def _refuse_to_lose_patient_comments() -> None:
    """Each signed version's comment for the patient is kept nowhere else: a downgrade had
    dropped the column silently (an operations audit). Asked before any step, as 0016's and
    0023's downgrades do; Alembic commits each revision apart, so a refusal leaves the
    database whole at 0003."""
    kept = list(op.get_bind().execute(sa.text(
        "SELECT id FROM report_version WHERE patient_comment IS NOT NULL "
        "AND patient_comment != '' ORDER BY id"
    )).scalars())  # fmt: skip
    if kept:
        shown = ", ".join(str(i) for i in kept[:10])
        more = f" and {len(kept) - 10} more" if len(kept) > 10 else ""
        raise CommandError(
            f"{len(kept)} report version(s) keep their doctor's comment for the patient; a "
            f"downgrade past 0003 would lose it: version(s) {shown}{more}. Nothing of revision "
            "0003 was changed and the database stays at 0003: run a version of the portal that "
            "has it, or restore a backup taken before the upgrade to 0003."
        )


def downgrade() -> None:
    _refuse_to_lose_patient_comments()
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.drop_column("patient_comment")
