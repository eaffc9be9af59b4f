"""report_version.risk_figures: each risk score as that signature computed it

Signing and amending recompute the risk scores in place, so a score an amendment could no
longer compute (an acute coronary syndrome recorded since) vanished from FHIR: its Observation
answered 404, with its earlier versions, where an EHR that had imported 51.1 % must be told
it is withdrawn (an interoperability audit, 2026-12-07). Each signed version now keeps its
figures; versions signed before this migration have none (their scores' earlier versions stay
unreadable, as before).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_version", sa.Column("risk_figures", sa.JSON(), nullable=True))


def _refuse_to_lose_signed_risk_figures() -> None:
    """Each signed version's `risk_figures` is kept nowhere else, and the upgrade cannot work
    it out again (signing recomputes the scores in place): a downgrade had dropped the column
    silently (an operations audit). Asked before any step, as 0016's and 0023's downgrades
    do; Alembic commits each revision apart, so a refusal leaves the database whole at 0025."""
    kept = list(op.get_bind().execute(sa.text(
        "SELECT id FROM report_version WHERE risk_figures IS NOT NULL "
        "AND risk_figures != 'null' ORDER BY id"  # a JSON null holds nothing
    )).scalars())  # fmt: skip
    if kept:
        shown = ", ".join(str(i) for i in kept[:10])
        more = f" and {len(kept) - 10} more" if len(kept) > 10 else ""
        raise CommandError(
            f"{len(kept)} signed report version(s) keep their risk scores as their signature "
            f"computed them; a downgrade past 0025 would lose them: version(s) {shown}{more}. "
            "Nothing of revision 0025 was changed and the database stays at 0025: run a version "
            "of the portal that has it, or restore a backup taken before the upgrade to 0025."
        )


def downgrade() -> None:
    _refuse_to_lose_signed_risk_figures()
    op.drop_column("report_version", "risk_figures")
