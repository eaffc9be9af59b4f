"""The audit trail: one append-only row per access or change, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Account, AuditEvent, Patient


def record(
    session: Session,
    action: str,
    *,
    actor: Account | None,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor_username: str | None = None,
) -> AuditEvent:
    """Add an audit event to `session`; it is written when the caller commits its change."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_username=actor.username if actor else actor_username,
        actor_role=actor.role.value if actor else None,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )
    if has_request_context():
        event.ip_address = (request.remote_addr or "")[:45] or None
        event.user_agent = (request.user_agent.string or "")[:255] or None
    session.add(event)
    return event


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int


def search(
    session: Session,
    *,
    username: str = "",
    action: str = "",
    patient_mrn: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Audit events, newest first, filtered for the admin's audit page (read only)."""
    query = select(AuditEvent)
    if username:
        query = query.where(AuditEvent.actor_username == username.strip())
    if action:
        query = query.where(AuditEvent.action.startswith(action.strip()))
    if patient_mrn:
        query = query.join(Patient, AuditEvent.patient_id == Patient.id).where(
            Patient.mrn == patient_mrn.strip().upper()
        )
    if date_from:
        query = query.where(AuditEvent.occurred_at >= dt.datetime.combine(date_from, dt.time()))
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time())
        query = query.where(AuditEvent.occurred_at < end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    events = session.scalars(
        query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return AuditPage(list(events), total, page, pages)
