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

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_version", sa.Column("patient_risk", sa.String(length=400), nullable=True))


def downgrade() -> None:
    op.drop_column("report_version", "patient_risk")
