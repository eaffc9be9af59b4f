"""risk score: the typed level (the highest band of its category), which the worklist reads

The category stays in words ("NSTE-ACS high, STEMI intermediate" when the ACS type is not
known); the level is its highest band, so a high GRACE band in either column escalates the
report without anyone parsing words. Existing rows take the highest band their words name.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVEL = sa.Enum(
    "low",
    "intermediate",
    "high",
    name="risk_level",
    native_enum=False,
    create_constraint=True,
    length=32,
)


def upgrade() -> None:
    with op.batch_alter_table("risk_score", schema=None) as batch_op:
        batch_op.add_column(sa.Column("level", LEVEL, nullable=True))
    op.execute(
        "UPDATE risk_score SET level = CASE "
        "WHEN category LIKE '%high%' THEN 'high' "
        "WHEN category LIKE '%intermediate%' THEN 'intermediate' "
        "WHEN category LIKE '%low%' THEN 'low' END "
        "WHERE category IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("risk_score", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_risk_score_risk_level"), type_="check")
        batch_op.drop_column("level")
