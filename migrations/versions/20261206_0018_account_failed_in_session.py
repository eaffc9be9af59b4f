"""account.failed_in_session: wrong passwords typed while logged in, counted apart

An outsider's four wrong passwords at the login page and one typo of the on-call doctor's
signing password made five "in a row": the doctor was logged out mid-read and locked out for
15 minutes (an audit). Wrong passwords typed inside a session (to sign, to change the
password) now keep their own count (`portal.services.accounts.count_wrong_own_password`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "account",
        sa.Column("failed_in_session", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, also on SQLite (3.35+): a batch operation would copy the
    # table and drop the old one, which the foreign keys of every table naming an account
    # refuse.
    op.drop_column("account", "failed_in_session")
