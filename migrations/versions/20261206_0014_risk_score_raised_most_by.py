"""risk score: the factors that raise it most, as the risk page ranks them

The review page listed a Framingham score's "largest contributions" by the size of each
log-hazard term (age and blood pressure always first, whatever their level), while the risk
page ranks the factors by how much the risk would fall with each at a healthy level. The
stored ranking is the risk page's; rows stored before it have none (the page shows none).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("risk_score", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raised_most_by", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_score", schema=None) as batch_op:
        batch_op.drop_column("raised_most_by")
