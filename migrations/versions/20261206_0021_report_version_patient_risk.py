"""report_version.patient_risk: the risk figure the patient's summary gave at each signature

Signing and amending recompute the risk scores in place, so an amended summary could not say
that its risk figure had changed: a patient holding both pages read "About 32 of 100" and
"About 20 of 100" with nothing between them (an audit of the patient summaries). Versions
signed before this migration have none, and their amendments say nothing of it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_version", sa.Column("patient_risk", sa.String(length=400), nullable=True))


def _refuse_to_lose_signed_patient_risk() -> None:
    """Each signed version's `patient_risk` is kept nowhere else, and the upgrade cannot work
    it out again (signing recomputes the scores in place): a downgrade had dropped the column
    silently (an operations audit). Asked before any step, as 0016's and 0023's downgrades
    do; Alembic commits each revision apart, so a refusal leaves the database whole at 0021."""
    kept = list(op.get_bind().execute(sa.text(
        "SELECT id FROM report_version WHERE patient_risk IS NOT NULL ORDER BY id"
    )).scalars())  # fmt: skip
    if kept:
        shown = ", ".join(str(i) for i in kept[:10])
        more = f" and {len(kept) - 10} more" if len(kept) > 10 else ""
        raise CommandError(
            f"{len(kept)} signed report version(s) keep the risk figure their patient summary "
            f"gave; a downgrade past 0021 would lose it: version(s) {shown}{more}. Nothing of "
            "revision 0021 was changed and the database stays at 0021: run a version of the "
            "portal that has it, or restore a backup taken before the upgrade to 0021."
        )


def downgrade() -> None:
    _refuse_to_lose_signed_patient_risk()
    op.drop_column("report_version", "patient_risk")
