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

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_version", sa.Column("risk_figures", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("report_version", "risk_figures")
