"""report_version.previous_release_at: whether the patient saw the version it replaced

A report signed with ST elevation and held from the patient, then amended without it before
anyone had talked with them, was released with "It no longer says: Part of the trace was
raised ...", and the patient's app could read the held version through FHIR `_history` (an
audit of the patient hold). Each signed version now keeps when the version it replaced was
released, as it stood at its signature (`portal.services.reports.shown_to_patient`); version
rows are written once, so the release a doctor gives later lives on the report. Versions
signed before this: the one they replaced was released at its signature.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError
from sqlalchemy.dialects import mysql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_versions = sa.table(
    "report_version",
    sa.column("id", sa.Integer()),
    sa.column("report_id", sa.Integer()),
    sa.column("version_no", sa.SmallInteger()),
    sa.column("signed_at", sa.DateTime()),
    sa.column("previous_release_at", sa.DateTime()),
)

# Microseconds on MariaDB as every stored time (`portal.models.Timestamp`).
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column("report_version", sa.Column("previous_release_at", TIMESTAMP, nullable=True))
    # Read, then written: MariaDB refuses an UPDATE whose subquery reads the table it updates.
    bind = op.get_bind()
    signed = {
        (row.report_id, row.version_no): row
        for row in bind.execute(
            sa.select(_versions.c.id, _versions.c.report_id, _versions.c.version_no,
                      _versions.c.signed_at).where(_versions.c.signed_at.is_not(None))
        )
    }  # fmt: skip
    updates = [
        {"version_id": row.id, "released": before.signed_at}
        for (report_id, number), row in signed.items()
        if (before := signed.get((report_id, number - 1))) is not None
    ]
    if updates:
        bind.execute(
            _versions.update()
            .where(_versions.c.id == sa.bindparam("version_id"))
            .values(previous_release_at=sa.bindparam("released")),
            updates,
        )


def _refuse_to_lose_releases() -> None:
    """The upgrade sets each amendment's `previous_release_at` to the signature of the version
    it replaced; one that says otherwise (that version was held from the patient, released
    later or never) cannot be worked out again, and a downgrade had dropped it silently (an
    operations audit): up again, a held version read as seen at its signature. Asked before
    any step, as 0016's and 0023's downgrades do; values the upgrade gives back go down."""
    rows = op.get_bind().execute(
        sa.select(_versions.c.id, _versions.c.report_id, _versions.c.version_no,
                  _versions.c.signed_at, _versions.c.previous_release_at)
        .order_by(_versions.c.id)
    ).all()  # fmt: skip
    signed = {(row.report_id, row.version_no): row.signed_at for row in rows if row.signed_at}
    kept = [
        row.id
        for row in rows
        if row.previous_release_at
        != (signed.get((row.report_id, row.version_no - 1)) if row.signed_at else None)
    ]
    if kept:
        shown = ", ".join(str(i) for i in kept[:10])
        more = f" and {len(kept) - 10} more" if len(kept) > 10 else ""
        raise CommandError(
            f"{len(kept)} report version(s) keep when the version they replaced reached the "
            f"patient, other than at its signature; a downgrade past 0017 would lose it: "
            f"version(s) {shown}{more}. Nothing of revision 0017 was changed and the database "
            "stays at 0017: run a version of the portal that has it, or restore a backup taken "
            "before the upgrade to 0017."
        )


def downgrade() -> None:
    _refuse_to_lose_releases()
    # ALTER TABLE ... DROP COLUMN, also on SQLite (3.35+): a batch operation would copy the
    # table and drop the old one, which the foreign keys of its scores refuse.
    op.drop_column("report_version", "previous_release_at")
