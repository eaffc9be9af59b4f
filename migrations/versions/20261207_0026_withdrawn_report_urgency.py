"""ecg_report.urgency: a report withdrawn as entered in error ranks last (6, "Withdrawn")

A withdrawn report kept the urgency of its signed read: on the worklist's "all" a withdrawn ST
elevation, no true record of this patient's ECG, topped the doctor's list as an emergency (an
audit, 2026-12-07). A withdrawal now sets 6 (`portal.services.reports.WITHDRAWN_URGENCY`),
after routine (5), so the worklist's index order puts it last; reports withdrawn before this
move there. No schema change. The downgrade puts them at 5 (Routine), the last rank the code before
this knows: the rank they were signed with is not kept (the signed read still says it).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE ecg_report SET urgency = 6 WHERE status = 'entered-in-error'")


def downgrade() -> None:
    op.execute("UPDATE ecg_report SET urgency = 5 WHERE urgency = 6")
