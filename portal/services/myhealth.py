"""What a patient may see of their own record: signed reports only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Account, EcgReport, ReportStatus


def signed_reports(session: Session, account: Account) -> list[EcgReport]:
    if account.patient is None:
        return []
    return list(
        session.scalars(
            select(EcgReport)
            .where(
                EcgReport.patient_id == account.patient.id,
                EcgReport.status.in_([ReportStatus.FINAL, ReportStatus.AMENDED]),
            )
            .order_by(EcgReport.report_date.desc())
        )
    )
