"""The audit trail: one append-only row per access or change, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from portal.models import Account, AuditEvent


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
