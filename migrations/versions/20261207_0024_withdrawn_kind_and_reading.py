"""ecg_report: why a report was withdrawn (`withdrawn_kind`) and the reading it was made at

A CSV signed at a wrong sampling rate was withdrawn as entered in error to be read again, and
its patient was told "filed under your name by mistake and is not about your heart", FHIR
"Not a report of this patient's ECG" (a review, 2026-12-07). The withdrawal now says which:
another person's ECG (`wrong-patient`, every earlier withdrawal) or this patient's, misread
(`misread`). And reading the recording again at the right rate redrew the withdrawn report's
chart at that rate under its old beats: the report keeps the reading it was made at
(`read_at_hz`, `read_in_units`; NULL while it is the recording's own).

The kind's CHECK constraint comes with its column: on SQLite in the column's own definition
(ALTER TABLE ADD COLUMN takes one; batch mode's table copy is refused by the foreign keys).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_ecg_report_withdrawn_kind"
KINDS = "withdrawn_kind IN ('wrong-patient', 'misread')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE ecg_report ADD COLUMN withdrawn_kind VARCHAR(32) "
            f"CONSTRAINT {CHECK} CHECK ({KINDS})"
        )
    else:
        op.add_column("ecg_report", sa.Column("withdrawn_kind", sa.String(32), nullable=True))
        op.create_check_constraint(op.f(CHECK), "ecg_report", KINDS)
    op.execute(
        "UPDATE ecg_report SET withdrawn_kind = 'wrong-patient' "
        "WHERE status = 'entered-in-error'"
    )
    op.add_column("ecg_report", sa.Column("read_at_hz", sa.Float(), nullable=True))
    op.add_column("ecg_report", sa.Column("read_in_units", sa.String(8), nullable=True))


def _refuse_to_lose_misreadings() -> None:
    """The upgrade says every withdrawal was of another person's ECG, and no report keeps a
    reading of its own: a report withdrawn as misread, or one made at a reading its recording
    no longer has, cannot be worked out again, and a downgrade had dropped both silently (an
    operations audit): up again, the patient of a misread ECG read "not about your heart".
    Asked before any step, as 0016's and 0023's downgrades do; Alembic commits each revision
    apart, so a refusal leaves the database whole at 0024."""
    kept = list(op.get_bind().execute(sa.text(
        "SELECT id FROM ecg_report WHERE withdrawn_kind = 'misread' "
        "OR read_at_hz IS NOT NULL OR read_in_units IS NOT NULL ORDER BY id"
    )).scalars())  # fmt: skip
    if kept:
        shown = ", ".join(str(i) for i in kept[:10])
        more = f" and {len(kept) - 10} more" if len(kept) > 10 else ""
        raise CommandError(
            f"{len(kept)} report(s) keep that they were withdrawn as misread or the reading "
            f"they were made at; a downgrade past 0024 would lose it: report(s) {shown}{more}. "
            "Nothing of revision 0024 was changed and the database stays at 0024: run a "
            "version of the portal that has it, or restore a backup taken before the upgrade "
            "to 0024."
        )


def downgrade() -> None:
    _refuse_to_lose_misreadings()
    op.drop_column("ecg_report", "read_in_units")
    op.drop_column("ecg_report", "read_at_hz")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f(CHECK), "ecg_report", type_="check")
    op.drop_column("ecg_report", "withdrawn_kind")
