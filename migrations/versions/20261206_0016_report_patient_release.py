"""ecg_report.patient_release_at: when the patient may read a signed report

A ventricular fibrillation result reached the patient's portal the moment it was signed,
"dangerous rhythm" read alone at night before anyone had called (an audit of the patient
summaries). A report with a dangerous finding not yet discussed with the patient is held from
them for a while (`portal.services.reports.patient_release_at`); every report signed before
this keeps being theirs from its signature.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:40:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError
from sqlalchemy.dialects import mysql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_reports = sa.table(
    "ecg_report",
    sa.column("signed_at", sa.DateTime()),
    sa.column("patient_release_at", sa.DateTime()),
)


# Microseconds on MariaDB as every stored time (`portal.models.Timestamp`): a release time to
# the second sorted before its own signature.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column("ecg_report", sa.Column("patient_release_at", TIMESTAMP, nullable=True))
    op.execute(
        _reports.update()
        .where(_reports.c.signed_at.is_not(None))
        .values(patient_release_at=_reports.c.signed_at)
    )


def _refuse_to_release_held_reports() -> None:
    """The hold cannot be worked out again on the upgrade (it depends on the signed findings,
    "Discussed with the patient", `PATIENT_HOLD_HOURS` and any early release), which sets each
    report's release to its signature: a report still held would reach its patient at once."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # stored times are naive UTC
    held = list(op.get_bind().execute(
        sa.text("SELECT id FROM ecg_report WHERE patient_release_at > :now ORDER BY id")
        .bindparams(sa.bindparam("now", now, type_=sa.DateTime()))  # as SQLite stores it
    ).scalars())  # fmt: skip
    if held:
        shown = ", ".join(str(i) for i in held[:10])
        more = f" and {len(held) - 10} more" if len(held) > 10 else ""
        raise CommandError(
            f"{len(held)} report(s) are held from their patient for a talk first (a dangerous "
            f"finding); a downgrade past 0016 would lose the hold and show them to the patient "
            f"at once: report(s) {shown}{more}. Nothing of revision 0016 was changed and the "
            "database stays at 0016: release them on their review page, or wait until their "
            "holds end."
        )


def downgrade() -> None:
    _refuse_to_release_held_reports()
    # ALTER TABLE ... DROP COLUMN, also on SQLite (3.35+): a batch operation would copy the
    # table and drop the old one, which the foreign keys of its versions and scores refuse.
    op.drop_column("ecg_report", "patient_release_at")
