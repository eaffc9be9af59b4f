"""The audit trail: one append-only row per access or change, in the caller's transaction.

Tamper evidence: the rows form a hash chain. Each row stores `prev_hash` (the previous row's
hash; 64 zeros for the first row) and `row_hash`, the SHA-256 of its own canonical content
(`content_hash`: every column but the hashes, plus `prev_hash`). `verify_chain` (the
`cardio audit-verify` command) walks the chain and names the first edited, inserted or
deleted row.

How rows join the chain, safely under concurrent requests: `record()` adds the event to the
session as before, but it is held back from every flush (`_defer_unchained`) and written at
commit (`_chain_pending`): the transaction's other changes are flushed first, then the
one-row `audit_chain_head` is locked (`SELECT ... FOR UPDATE` on MySQL/MariaDB; on SQLite an
UPDATE of it takes the database's write lock before the head is read), the events get the
next ids and hashes, the head moves on, and the commit releases the lock. Two transactions
therefore never chain onto the same row (a unique index on `prev_hash` refuses a fork should
anything else try), and the head is the last lock a transaction takes, so it cannot join a
deadlock cycle (on MySQL the rows the audit row's foreign keys point to are share-locked
before the head, for the same reason).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import g, has_request_context, request
from sqlalchemy import Table, event, func, select, text
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, SessionTransaction

from portal.local_time import UTC_ZONE, day_start_utc
from portal.models import (
    Account,
    AnalysisJob,
    AuditChainHead,
    AuditEvent,
    EcgRecording,
    EcgReport,
    Patient,
    utcnow,
)
from portal.services.paging import capped_count, page_count

log = logging.getLogger(__name__)

GENESIS = "0" * 64  # the `prev_hash` of the first row
HEAD_ID = 1  # the one row of `audit_chain_head`
CHAIN_VERSION = 1  # part of the hashed content: a future canonical form can say which it is
# Every column but the two hashes, in the hashed content.
CHAINED_COLUMNS = (
    "id", "occurred_at", "actor_id", "actor_username", "actor_role", "action", "patient_id",
    "object_type", "object_id", "ip_address", "user_agent", "details",
)  # fmt: skip
MYSQL_TRIGGERS = ("audit_event_no_update", "audit_event_no_delete")  # migration 0006
_HEAD = cast(Table, AuditChainHead.__table__)
_EVENTS = cast(Table, AuditEvent.__table__)
_PENDING = "audit_chain_pending"  # session.info key: events waiting for the commit
# Route arguments that name a record, for refused-access rows.
_OBJECT_TYPES = {
    "patient_id": "patient",
    "report_id": "ecg_report",
    "job_id": "analysis_job",
    "account_id": "account",
    "export_id": "bulk_export",  # a FHIR bulk export (`fhir.export.*` rows name it so too)
}
# FHIR's ids of a report's PDFs and observations start with the report's id ("1-v2-clinician",
# "1-ecg"): a refusal of one names that report.
_REPORT_PREFIXED_IDS = ("binary_id", "observation_id")
_REPORT_PREFIX = re.compile(r"([1-9][0-9]{0,17})-")


def patient_of(account: Account) -> int | None:
    """The patient whose portal login `account` is, else None: a change to that login is on
    their own access list ("Who has looked at my record"), as its deactivation was; an
    unlock or a new temporary password had named no patient (a review)."""
    return account.patient.id if account.patient is not None else None


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
    """Add an audit event to `session`; it is written, at the end of the hash chain, when the
    caller commits its change (a rollback discards it with the change)."""
    details = _naming_the_token(details)
    event = AuditEvent(
        occurred_at=utcnow(),
        action=action[:48],
        actor_id=actor.id if actor else None,
        actor_username=(actor.username if actor else actor_username or "")[:64] or None,
        actor_role=actor.role.value if actor else None,
        patient_id=patient_id,
        object_type=object_type[:32] if object_type else None,
        object_id=object_id,
        # Stored as JSON and hashed as read back: normalise now (tuples -> lists, keys -> str).
        details=json.loads(json.dumps(details)) if details is not None else None,
    )
    if has_request_context():
        event.ip_address = (request.remote_addr or "")[:45] or None
        event.user_agent = (request.user_agent.string or "")[:255] or None
    session.add(event)
    return event


def _naming_the_token(details: dict[str, Any] | None) -> dict[str, Any] | None:
    """`details`, naming the API token (and its client) a request made with one was made
    through, when the caller did not: a patient registered or changed, a recording uploaded or
    a measurement entered through the REST API read on the patient's list as the token
    owner's own doing (a review), where FHIR's named the client."""
    token = g.get("api_token") if has_request_context() else None
    if token is None or {"token_id", "api_token_id"} & set(details or {}):
        return details
    return {**(details or {}), "token_id": token.id, "client": token.client_name}


def refused_access(session: Session, actor: Account, status: int) -> None:
    """Record a refused request of a logged-in account: 403 (not for this role), 404 (no
    such record, or not this account's) or 409 (a signature refused as the patient was
    assigned to another doctor meanwhile, `reports.assigned_away_while_reviewing`). Committed
    at once: the caller rolled back the request's own work first. Never raises: the refusal
    is answered even if this fails. A FHIR PDF or observation refused names its report (and
    patient): `Binary/1-v2-clinician` and `Observation/1-ecg` had named nothing but the path
    (an access audit)."""
    view_args = dict(request.view_args or {}) if has_request_context() else {}
    object_type = object_id = None
    for name, value in view_args.items():
        if name in _OBJECT_TYPES and isinstance(value, int) and 0 <= value < 2**63:
            object_type, object_id = _OBJECT_TYPES[name], value
            break
        if name in _REPORT_PREFIXED_IDS and (report := _REPORT_PREFIX.match(str(value))):
            object_type, object_id = "ecg_report", int(report[1])
            break
    details: dict[str, Any] = {"status": status}
    if has_request_context():
        details |= {
            "method": request.method,
            "path": request.path[:200],
            "endpoint": request.endpoint,
        }
    try:
        record(
            session, "access.refused", actor=actor, object_type=object_type,
            object_id=object_id, details=details,
            patient_id=_patient_of(session, object_type, object_id),
        )  # fmt: skip
        session.commit()
    except Exception:  # the database may be down: the refusal still stands
        session.rollback()
        log.exception("could not write the audit row of a refused access")


def _patient_of(session: Session, object_type: str | None, object_id: int | None) -> int | None:
    """The patient whose record a refused request asked for (their patient, report or job),
    so a search by patient finds the attempt: refusals had kept only the record's id (a
    records audit). The patient's own access page leaves refusals out: nothing was read."""
    if object_id is None:
        return None
    query = {
        "patient": select(Patient.id).where(Patient.id == object_id),
        "ecg_report": select(EcgReport.patient_id).where(EcgReport.id == object_id),
        "analysis_job": select(EcgRecording.patient_id)
        .join(AnalysisJob, AnalysisJob.recording_id == EcgRecording.id)
        .where(AnalysisJob.id == object_id),
    }.get(object_type or "")
    return None if query is None else session.scalar(query)


def record_at_most_every(
    session: Session,
    window: dt.timedelta,
    action: str,
    *,
    actor: Account,
    patient_id: int | None,
    object_type: str,
    object_id: int,
    details: dict[str, Any] | None = None,
) -> bool:
    """`record`, unless this account's `action` on this object is already audited within
    `window` through the same API token (`details["token_id"]`, None on the web): for reads
    a page repeats many times a minute (the review page's waveform requests as the doctor
    pans and zooms). A second client's waveform read, acting for the same doctor, had left
    no row (a security audit). Whether it recorded."""
    token_id = (details or {}).get("token_id")
    recent = session.scalars(
        select(AuditEvent.details)
        .where(
            AuditEvent.action == action,
            AuditEvent.occurred_at >= utcnow() - window,
            AuditEvent.actor_id == actor.id,
            AuditEvent.object_type == object_type,
            AuditEvent.object_id == object_id,
        )
        .limit(50)
    )
    if any((seen or {}).get("token_id") == token_id for seen in recent):
        return False
    record(
        session, action, actor=actor, patient_id=patient_id, object_type=object_type,
        object_id=object_id, details=details,
    )  # fmt: skip
    return True


# --------------------------------------------------------------------------- the chain


def content_hash(values: Mapping[Any, Any], prev_hash: str) -> str:
    """SHA-256 (hex) of a row's canonical content: its columns (JSON, sorted keys, times in ISO
    format with microseconds) and the previous row's hash."""
    document: dict[str, Any] = {"v": CHAIN_VERSION, "prev_hash": prev_hash}
    for name in CHAINED_COLUMNS:
        value = values[name]
        if isinstance(value, dt.datetime):
            value = value.replace(tzinfo=None).isoformat(timespec="microseconds")
        document[name] = value
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _values(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in CHAINED_COLUMNS}


@event.listens_for(Session, "before_flush")
def _defer_unchained(session: Session, _context: Any, _instances: Any) -> None:
    """Audit rows are not written by ordinary flushes: they wait for the commit's chaining."""
    unchained = [o for o in session.new if isinstance(o, AuditEvent) and o.row_hash is None]
    if unchained:
        pending = session.info.setdefault(_PENDING, [])
        for audit_event in unchained:
            session.expunge(audit_event)
            pending.append(audit_event)


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    """Append the transaction's audit rows to the chain, as its very last writes."""
    if not session.info.get(_PENDING) and not any(isinstance(o, AuditEvent) for o in session.new):
        return
    session.flush()  # every other change first: the head is the last lock taken
    events: list[AuditEvent] = session.info.pop(_PENDING, [])
    if events:
        _append(session, events)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended: committed or rolled back
        session.info.pop(_PENDING, None)


def _append(session: Session, events: list[AuditEvent]) -> None:
    dialect = session.connection().dialect.name
    if dialect in {"mysql", "mariadb"}:
        _share_lock_referenced_rows(session, events)
    last_id, last_hash = _lock_head(session, dialect)
    # Ids come from the chain (the hash covers the id); MAX(id) only guards against a row
    # inserted by hand, which would otherwise take the next id.
    next_id = max(last_id, session.scalar(select(func.max(AuditEvent.id))) or 0) + 1
    for audit_event in events:
        audit_event.id = next_id
        next_id += 1
        if audit_event.occurred_at is None:
            audit_event.occurred_at = utcnow()
        audit_event.prev_hash = last_hash
        audit_event.row_hash = last_hash = content_hash(_values(audit_event), last_hash)
    session.execute(
        _HEAD.update()
        .where(_HEAD.c.id == HEAD_ID)
        .values(last_event_id=events[-1].id, last_hash=last_hash, updated_at=utcnow())
    )
    session.add_all(events)  # inserted by the commit's flush, with their hashes


def _share_lock_referenced_rows(session: Session, events: list[AuditEvent]) -> None:
    """InnoDB share-locks the account and patient rows an inserted audit row points to. Taken
    here, before the head, a transaction that updated one of them and waits for the head
    makes this one wait for it, instead of a deadlock."""
    for model, ids in (
        (Account, {e.actor_id for e in events if e.actor_id is not None}),
        (Patient, {e.patient_id for e in events if e.patient_id is not None}),
    ):
        if ids:
            session.execute(
                select(model.id).where(model.id.in_(sorted(ids))).with_for_update(read=True)
            ).all()


def lock_chain_head(session: Session) -> tuple[int, str]:
    """`_lock_head` for writers of many rows at once (`portal/seed_load.py`): the chain head
    locked until the commit, and (last event id, last hash) to chain after."""
    return _lock_head(session, session.connection().dialect.name)


def _lock_head(session: Session, dialect: str) -> tuple[int, str]:
    """Lock the chain head until the commit and return (last event id, last hash)."""
    head = _HEAD
    if dialect == "sqlite":  # one writer at a time: hold SQLite's write lock before reading
        session.execute(head.update().where(head.c.id == HEAD_ID).values(id=head.c.id))
    row = session.execute(
        select(head.c.last_event_id, head.c.last_hash).where(head.c.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if row is not None:
        return int(row.last_event_id), str(row.last_hash)
    # No head row: a database emptied by hand. Continue from the newest chained row.
    newest = session.execute(
        select(AuditEvent.id, AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).one_or_none()
    last_id, last_hash = (int(newest.id), str(newest.row_hash)) if newest else (0, GENESIS)
    log.warning("audit chain head missing; rebuilt from audit row %s", last_id or "none")
    session.execute(
        head.insert().values(
            id=HEAD_ID, last_event_id=last_id, last_hash=last_hash, updated_at=utcnow()
        )
    )
    return last_id, last_hash


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain does not hold."""

    kind: str  # "edited", "inserted", "deleted" or "head"
    event_id: int | None
    message: str


@dataclass(frozen=True)
class ChainCheck:
    rows: int  # rows verified before the break (all of them when intact)
    last_id: int | None
    broken: ChainBreak | None
    notes: tuple[str, ...] = ()
    last_hash: str | None = None  # the newest row's hash: kept outside, a rewrite shows

    @property
    def ok(self) -> bool:
        return self.broken is None


def _rows_after(session: Session, after_id: int, batch_size: int) -> Iterator[Row[Any]]:
    table = _EVENTS
    while True:
        batch = session.execute(
            select(table).where(table.c.id > after_id).order_by(table.c.id).limit(batch_size)
        ).all()
        yield from batch
        if len(batch) < batch_size:
            return
        after_id = batch[-1].id


def _before_first_id(session: Session) -> int:
    """Below the smallest id in the table: the walk starts there, so a row inserted by hand
    with id 0 or -7 is checked too (it had started above 0, and such a row, shown on the
    audit page and the patient's access page, left the chain "intact": an audit)."""
    smallest = session.scalar(select(func.min(AuditEvent.id)))
    return min(smallest, 1) - 1 if smallest is not None else 0


def verify_chain(session: Session, *, batch_size: int = 2000) -> ChainCheck:
    """Walk the chain from the first row; stop at the first edited, inserted or deleted row."""
    expected, before_expected = GENESIS, GENESIS  # the last row's hash and its prev_hash
    last_id: int | None = None
    count = 0
    head: Row[Any] | None = None

    def broken(kind: str, event_id: int | None, message: str) -> ChainCheck:
        return ChainCheck(count, last_id, ChainBreak(kind, event_id, message), _notes(session))

    before_first = _before_first_id(session)
    for _round in range(100):  # rows written while walking are walked too
        walked_to = before_first if last_id is None else last_id
        for row in _rows_after(session, walked_to, batch_size):
            if row.prev_hash is None or row.row_hash is None:
                why = f"row {row.id} has no chain hashes: it was inserted outside the portal"
                return broken("inserted", row.id, why)
            if content_hash(row._mapping, row.prev_hash) != row.row_hash:
                why = f"row {row.id} was edited: its content no longer matches its hash"
                return broken("edited", row.id, why)
            if row.prev_hash != expected:
                return broken(*_link_break(session, row, last_id, expected, before_expected))
            before_expected, expected, last_id = row.prev_hash, row.row_hash, row.id
            count += 1
        head = session.execute(select(_HEAD).where(_HEAD.c.id == HEAD_ID)).one_or_none()
        if head is None or head.last_event_id <= (last_id or 0):
            break
        walked_to = before_first if last_id is None else last_id
        if not session.scalar(select(func.count()).where(AuditEvent.id > walked_to)):
            break  # the head names rows that are not there
    newest = last_id or 0
    if head is None:
        if count:
            return broken("head", None, "the chain head row (audit_chain_head) is missing")
    elif head.last_event_id > newest:
        where = f"after row {newest}" if newest else "from the start"
        why = (
            f"rows {where} up to row {head.last_event_id} (the newest the chain head "
            "records) were deleted"
        )
        return broken("deleted", head.last_event_id, why)
    elif head.last_event_id < newest:
        first = session.scalar(
            select(func.min(AuditEvent.id)).where(AuditEvent.id > head.last_event_id)
        )
        why = (
            f"row {first} was inserted after the newest row the chain head records "
            f"({head.last_event_id})"
        )
        return broken("inserted", first, why)
    elif head.last_hash != expected:
        why = f"row {last_id} was replaced: its hash is not the one the chain head records"
        return broken("edited", last_id, why)
    return ChainCheck(count, last_id, None, _notes(session), expected if count else None)


def _link_break(
    session: Session, row: Row[Any], last_id: int | None, expected: str, before_expected: str
) -> tuple[str, int | None, str]:
    """A row whose own hash holds but whose prev_hash is not the previous row's hash: say
    whether the previous row or this one was inserted, or rows between them deleted."""
    if last_id is not None and row.prev_hash == before_expected:
        why = f"row {last_id} was inserted: row {row.id} follows straight from the row before it"
        return "inserted", last_id, why
    table = _EVENTS
    following = session.execute(
        select(table.c.id, table.c.prev_hash)
        .where(table.c.id > row.id)
        .order_by(table.c.id)
        .limit(1)
    ).one_or_none()
    if following is not None and following.prev_hash == expected:
        after = f"row {last_id}" if last_id is not None else "the start of the chain"
        why = f"row {row.id} was inserted: row {following.id} follows straight from {after}"
        return "inserted", row.id, why
    if last_id is None:
        return "deleted", row.id, f"the first rows of the chain, before row {row.id}, were deleted"
    why = (
        f"a row between row {last_id} and row {row.id} was deleted (or row {last_id} was "
        f"rewritten together with its hash): row {row.id} does not follow from the row before it"
    )
    return "deleted", row.id, why


def _notes(session: Session) -> tuple[str, ...]:
    """Warnings that do not break the chain: on MySQL/MariaDB, missing refusal triggers."""
    if session.connection().dialect.name not in {"mysql", "mariadb"}:
        return ()
    found = set(
        session.scalars(
            text(
                "SELECT trigger_name FROM information_schema.triggers "
                "WHERE event_object_schema = DATABASE() AND event_object_table = 'audit_event'"
            )
        )
    )
    missing = [name for name in MYSQL_TRIGGERS if name not in found]
    if not missing:
        return ()
    return (
        f"the triggers that refuse UPDATE and DELETE on audit_event are missing "
        f"({', '.join(missing)}): create them as a privileged user (see migration 0006)",
    )


# --------------------------------------------------------------------------- the admin page


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int
    # The MRN of each patient the page's events name: the page showed internal ids, which an
    # admin cannot look up (an audit; the filter asked for an MRN).
    mrns: dict[int, str] = field(default_factory=dict)
    upto_id: int | None = None  # the newest row the pages list, carried by the pager's links


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
    zone: ZoneInfo | None = None,
    upto_id: int | None = None,
) -> AuditPage:
    """Audit events, newest first, filtered for the admin's audit page (read only). The dates
    are the hospital's days (`zone`), as the page shows the times: they had been UTC days.

    The pages list the rows up to `upto_id` (none given: the newest row now), so rows written
    since the first page was read, its own `audit.view` first, do not shift the later pages:
    page 1's last row had been page 2's first (a records audit)."""
    if upto_id is None:
        upto_id = session.scalar(select(func.max(AuditEvent.id)))
    query = select(AuditEvent)
    if upto_id is not None:
        query = query.where(AuditEvent.id <= upto_id)
    if username:
        query = query.where(AuditEvent.actor_username == username.strip())
    if action:
        query = query.where(AuditEvent.action.startswith(action.strip()))
    if patient_mrn:
        query = query.join(Patient, AuditEvent.patient_id == Patient.id).where(
            Patient.mrn == patient_mrn.strip().upper()
        )
    zone = zone or UTC_ZONE
    if date_from:
        query = query.where(AuditEvent.occurred_at >= day_start_utc(date_from, zone))
    if date_to:
        end = day_start_utc(date_to + dt.timedelta(days=1), zone)
        query = query.where(AuditEvent.occurred_at < end)
    total = capped_count(session, query)  # up to paging.COUNT_CAP: not a million rows a view
    pages = page_count(total, per_page)
    page = min(max(page, 1), pages)
    events = session.scalars(
        query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    ids = {e.patient_id for e in events if e.patient_id is not None}
    rows = session.execute(select(Patient.id, Patient.mrn).where(Patient.id.in_(ids))).all()
    mrns = {row.id: row.mrn for row in rows}
    return AuditPage(list(events), total, page, pages, mrns, upto_id)
