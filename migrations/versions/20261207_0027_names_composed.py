"""patient names in Unicode's composed form (NFC), as the portal stores them since 2026-12-07

Since 2026-12-07 a name sent decomposed ("Rene\u0301e") is stored composed
(`portal.services.patients.composed`), and FHIR's `name:exact` compares composed names; rows
stored before kept their decomposed form, so an exact search for "Renée Dubois" still missed
such a patient (the known gap of that change). This rewrites the patient's and the emergency
contact's names of those rows. No schema change; `name_folded` was already composed. The
downgrade keeps the composed names (the same text to a reader; the decomposed bytes are not
kept).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 14:00:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES = ("full_name", "emergency_contact_name")


def upgrade() -> None:
    connection = op.get_bind()
    patient = sa.table("patient", sa.column("id"), *(sa.column(name) for name in NAMES))
    for row in connection.execute(sa.select(patient)).mappings():
        changed = {
            name: unicodedata.normalize("NFC", row[name])
            for name in NAMES
            if row[name] and unicodedata.normalize("NFC", row[name]) != row[name]
        }
        if changed:
            connection.execute(patient.update().where(patient.c.id == row["id"]).values(changed))


def downgrade() -> None:
    pass
