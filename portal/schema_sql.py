"""MySQL DDL generated from the models; `cardio schema-sql` writes it to schema.sql."""

from __future__ import annotations

from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateIndex, CreateTable

from portal.models import Base

HEADER = """\
-- CardioPortal schema for MySQL 8 / MariaDB 10.6+ (utf8mb4, InnoDB).
-- Generated from portal/models.py by `cardio schema-sql`; do not edit by hand.
-- For DBAs to read. Deployments use `cardio init-db` (Alembic) instead, which also records
-- the version: a database made from this file has no alembic_version table, so
-- `cardio init-db` refuses it (its tables exist) and no upgrade can run on it.
"""


# The audit trail is append-only: the same triggers migration 0006 creates (creating them
# needs SUPER, or log_bin_trust_function_creators=1, when binary logging is on).
AUDIT_TRIGGERS = tuple(
    f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event FOR EACH ROW "
    f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_event rows are append-only: {verb} refused'"
    for verb in ("UPDATE", "DELETE")
)


def mysql_ddl() -> str:
    dialect = mysql.dialect()
    statements = []
    for table in Base.metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            statements.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    statements.extend(AUDIT_TRIGGERS)
    return HEADER + "\n" + ";\n\n".join(statements) + ";\n"
