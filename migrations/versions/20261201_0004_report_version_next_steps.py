"""report version: the next steps the signing doctor orders (codes) and a free-text step

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_steps", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("next_steps_note", sa.Text(), nullable=True))


def _refuse_to_lose_next_steps() -> None:
    """The next steps a signing doctor ordered are kept nowhere else: a downgrade had dropped
    both columns silently (an operations audit). Asked before any step, as 0016's and 0023's
    downgrades do; Alembic commits each revision apart, so a refusal leaves the database whole
    at 0004. None ordered (a JSON null or an empty list) holds nothing."""
    kept = list(op.get_bind().execute(sa.text(
        "SELECT id FROM report_version WHERE (next_steps IS NOT NULL "
        "AND next_steps NOT IN ('null', '[]')) "
        "OR (next_steps_note IS NOT NULL AND next_steps_note != '') ORDER BY id"
    )).scalars())  # fmt: skip
    if kept:
        shown = ", ".join(str(i) for i in kept[:10])
        more = f" and {len(kept) - 10} more" if len(kept) > 10 else ""
        raise CommandError(
            f"{len(kept)} report version(s) keep the next steps their doctor ordered; a "
            f"downgrade past 0004 would lose them: version(s) {shown}{more}. Nothing of "
            "revision 0004 was changed and the database stays at 0004: run a version of the "
            "portal that has it, or restore a backup taken before the upgrade to 0004."
        )


def downgrade() -> None:
    _refuse_to_lose_next_steps()
    with op.batch_alter_table("report_version", schema=None) as batch_op:
        batch_op.drop_column("next_steps_note")
        batch_op.drop_column("next_steps")
