"""ecg_report: the status "entered-in-error" and who withdrew it, when and why

A signed report of a recording uploaded to the wrong patient had no way out: it stayed on that
patient's portal, and the doctor could only amend it into a false read (a working-day audit).
A doctor now withdraws it as entered in error (`portal.services.entered_in_error`); it is kept
for the record, marked, and leaves the patient's portal.

The status's CHECK constraint takes the new value. On SQLite a constraint cannot be altered,
and copying the table (batch mode) is refused by the foreign keys of its versions and scores:
the constraint's text is widened in place, as SQLite's ALTER TABLE documentation describes for
a CHECK constraint ("writable_schema"; every stored row satisfies the wider one).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError
from sqlalchemy.dialects import mysql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_ecg_report_report_status"
FOREIGN_KEY = "fk_ecg_report_withdrawn_by_id_account"
BEFORE = ("preliminary", "final", "amended")
AFTER = (*BEFORE, "entered-in-error")
# Microseconds on MariaDB, as every stored time (`portal.models.Timestamp`).
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _values(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _status_check(values: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_status_check(values)
        return
    op.drop_constraint(op.f(CHECK), "ecg_report", type_="check")
    op.create_check_constraint(op.f(CHECK), "ecg_report", f"status IN ({_values(values)})")


def _sqlite_status_check(values: tuple[str, ...]) -> None:
    bind = op.get_bind()
    schema_version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    old, new = (f"status IN ({_values(v)})" for v in (AFTER if values == BEFORE else BEFORE, values))
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
            "WHERE type = 'table' AND name = 'ecg_report'"
        ),
        {"old": old, "new": new},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(schema_version or 0) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    _status_check(AFTER)
    op.add_column("ecg_report", sa.Column("withdrawn_at", TIMESTAMP, nullable=True))
    if op.get_bind().dialect.name == "sqlite":  # a column's own REFERENCES, as SQLite adds it
        op.execute(
            "ALTER TABLE ecg_report ADD COLUMN withdrawn_by_id INTEGER "
            f"CONSTRAINT {FOREIGN_KEY} REFERENCES account (id)"
        )
    else:
        op.add_column("ecg_report", sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f(FOREIGN_KEY), "ecg_report", "account", ["withdrawn_by_id"], ["id"]
        )
    op.add_column("ecg_report", sa.Column("withdrawn_reason", sa.String(length=500), nullable=True))
    op.create_index(op.f("ix_ecg_report_withdrawn_by_id"), "ecg_report", ["withdrawn_by_id"])


def _refuse_to_lose_withdrawals() -> None:
    """Asked before any step: DDL is not transactional on MariaDB, and this downgrade had
    dropped the three columns, then failed at the narrower CHECK, its revision left at 0023
    with the columns gone (an operations audit). Alembic commits each revision apart, so a
    refusal here leaves the database whole at 0023."""
    withdrawn = list(op.get_bind().execute(sa.text(
        "SELECT id FROM ecg_report WHERE status = 'entered-in-error' ORDER BY id"
    )).scalars())  # fmt: skip
    if withdrawn:
        shown = ", ".join(str(i) for i in withdrawn[:10])
        more = f" and {len(withdrawn) - 10} more" if len(withdrawn) > 10 else ""
        raise CommandError(
            f"{len(withdrawn)} report(s) are entered in error; a downgrade past 0023 would lose "
            f"why, who and when: report(s) {shown}{more}. Nothing of revision 0023 was changed "
            "and the database stays at 0023: run a version of the portal that has it, or "
            "restore a backup taken before the upgrade to 0023."
        )


def downgrade() -> None:
    _refuse_to_lose_withdrawals()
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f(FOREIGN_KEY), "ecg_report", type_="foreignkey")
    op.drop_index(op.f("ix_ecg_report_withdrawn_by_id"), table_name="ecg_report")
    # ALTER TABLE ... DROP COLUMN, also on SQLite (3.35+), as 0016's downgrade.
    op.drop_column("ecg_report", "withdrawn_reason")
    op.drop_column("ecg_report", "withdrawn_by_id")
    op.drop_column("ecg_report", "withdrawn_at")
    _status_check(BEFORE)
