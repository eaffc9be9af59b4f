"""ecg_report.urgency: ST elevation and complete heart block are emergencies (0)

The worklist ranked an acute ST elevation or a complete heart block "High" (3), below a
rate-controlled AF (1) and a pause (2); they now rank with VT and VF (0, "Emergency";
`portal.services.reports.EMERGENCY_CODES`). A report whose main finding is one of them at
rank 1-3 holds it at high risk (the main finding is the most urgent, by risk then severity:
beside AF or a pause it stayed 1 or 2), so it moves to 0; new reads and signatures rank so by
themselves. No schema change. The downgrade puts them at 3 (High), which 0019's code gives
them unless AF or a pause stood beside.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODES = "('ST_ELEVATION', 'AV_BLOCK_3')"


def upgrade() -> None:
    op.execute(
        f"UPDATE ecg_report SET urgency = 0 WHERE urgency IN (1, 2, 3) AND main_finding IN {CODES}"
    )


def downgrade() -> None:
    op.execute(f"UPDATE ecg_report SET urgency = 3 WHERE urgency = 0 AND main_finding IN {CODES}")
