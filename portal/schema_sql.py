"""MySQL DDL generated from the models; `cardio schema-sql` writes it to schema.sql."""

from __future__ import annotations

from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateIndex, CreateTable

from portal.models import Base

HEADER = """\
-- CardioPortal schema for MySQL 8 / MariaDB 10.6+ (utf8mb4, InnoDB).
-- Generated from portal/models.py by `cardio schema-sql`; do not edit by hand.
-- Deployments should use `cardio init-db` (Alembic) instead, which also records the version.
"""


def mysql_ddl() -> str:
    dialect = mysql.dialect()
    statements = []
    for table in Base.metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            statements.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return HEADER + "\n" + ";\n\n".join(statements) + ";\n"
