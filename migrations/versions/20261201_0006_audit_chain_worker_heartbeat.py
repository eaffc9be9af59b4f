"""audit hash chain (prev_hash, row_hash, audit_chain_head; MySQL triggers refusing UPDATE and
DELETE of audit_event) and worker_heartbeat (crash recovery of analysis jobs)

Existing audit rows are chained here, in id order, from the genesis hash (64 zeros), with the
same canonical content the portal hashes (`portal.services.audit.content_hash`), so
`cardio audit-verify` checks them like any later row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:00:00
"""

import datetime as dt
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
TIMESTAMP = (
    sa.DateTime()
    .with_variant(mysql.DATETIME(fsp=6), "mariadb")
    .with_variant(mysql.DATETIME(fsp=6), "mysql")
)
TABLE_OPTIONS = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
TRIGGERS = {
    "audit_event_no_update": "UPDATE",
    "audit_event_no_delete": "DELETE",
}
# MySQL errors that mean "this account may not create triggers": 1419 (binary logging on and no
# SUPER: set log_bin_trust_function_creators=1), 1142 (no TRIGGER privilege), 1227 (no SUPER).
PRIVILEGE_ERRORS = {1419, 1142, 1227}

# The audit table as it is read for hashing (the ORM's types, so values hash alike).
audit_event = sa.table(
    "audit_event",
    sa.column("id", sa.BigInteger()),
    sa.column("occurred_at", sa.DateTime()),
    sa.column("actor_id", sa.Integer()),
    sa.column("actor_username", sa.String()),
    sa.column("actor_role", sa.String()),
    sa.column("action", sa.String()),
    sa.column("patient_id", sa.Integer()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.BigInteger()),
    sa.column("ip_address", sa.String()),
    sa.column("user_agent", sa.String()),
    sa.column("details", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("beat_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeat")),
        **TABLE_OPTIONS,
    )
    with op.batch_alter_table("worker_heartbeat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_heartbeat_beat_at"), ["beat_at"], unique=False)

    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
        **TABLE_OPTIONS,
    )

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    last_id, last_hash = _chain_existing_rows(op.get_bind())
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_prev_hash"), ["prev_hash"])

    op.bulk_insert(
        sa.table(
            "audit_chain_head",
            sa.column("id", sa.SmallInteger()),
            sa.column("last_event_id", sa.BigInteger()),
            sa.column("last_hash", sa.String()),
            sa.column("updated_at", sa.DateTime()),
        ),
        [{"id": 1, "last_event_id": last_id, "last_hash": last_hash, "updated_at": _now()}],
    )
    if op.get_bind().dialect.name in {"mysql", "mariadb"}:
        _create_triggers()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _chain_existing_rows(connection: sa.Connection, batch_size: int = 1000) -> tuple[int, str]:
    """Hash every existing audit row in id order; return the newest id and hash."""
    from portal.services.audit import CHAINED_COLUMNS, GENESIS, content_hash

    last_id, last_hash = 0, GENESIS
    update = (
        audit_event.update()
        .where(audit_event.c.id == sa.bindparam("_id"))
        .values(prev_hash=sa.bindparam("_prev"), row_hash=sa.bindparam("_row"))
    )
    while True:
        rows = connection.execute(
            sa.select(*(audit_event.c[name] for name in CHAINED_COLUMNS))
            .where(audit_event.c.id > last_id)
            .order_by(audit_event.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return last_id, last_hash
        changes = []
        for row in rows:
            row_hash = content_hash(row._mapping, last_hash)
            changes.append({"_id": row.id, "_prev": last_hash, "_row": row_hash})
            last_id, last_hash = row.id, row_hash
        connection.execute(update, changes)


def _create_triggers() -> None:
    for name, statement in TRIGGERS.items():
        try:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {statement} ON audit_event FOR EACH ROW "
                "SIGNAL SQLSTATE '45000' "
                f"SET MESSAGE_TEXT = 'audit_event rows are append-only: {statement} refused'"
            )
        except sa.exc.DBAPIError as problem:
            code = problem.orig.args[0] if problem.orig and problem.orig.args else None
            if code not in PRIVILEGE_ERRORS:
                raise
            log.warning(
                "Could not create trigger %s (MySQL error %s: %s). The audit hash chain still "
                "reveals any change; to refuse UPDATE and DELETE as well, run migration 0006's "
                "CREATE TRIGGER statements as a privileged user (or set "
                "log_bin_trust_function_creators=1). `cardio audit-verify` reports it.",
                name,
                code,
                problem.orig,
            )


def downgrade() -> None:
    if op.get_bind().dialect.name in {"mysql", "mariadb"}:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_prev_hash"), type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("worker_heartbeat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeat_beat_at"))
    op.drop_table("worker_heartbeat")
