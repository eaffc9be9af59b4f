"""account: failed-login lockout and TOTP multi-factor authentication

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TIMESTAMP = (  # the models' Timestamp: microseconds on MySQL/MariaDB
    sa.DateTime()
    .with_variant(mysql.DATETIME(fsp=6), "mariadb")
    .with_variant(mysql.DATETIME(fsp=6), "mysql")
)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("mfa_recovery_hashes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("mfa_enabled_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        for name in (
            "mfa_enabled_at",
            "mfa_recovery_hashes",
            "totp_last_step",
            "totp_secret",
            "locked_until",
            "failed_logins",
        ):
            batch_op.drop_column(name)
