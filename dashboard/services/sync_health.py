"""Sync health of a workspace: the Zoom connection, the outbox, and Zoom's webhook events.

Every query is an aggregate or has a LIMIT: the page costs the same with a million
operations as with ten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from dashboard.extensions import db
from dashboard.models import (
    Meeting,
    MeetingStatus,
    Operation,
    OperationState,
    WebhookEvent,
    Workspace,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services.connections import connection_of
from dashboard.services.retry_policy import PARKED_AFTER

LIST_LIMIT = 50


@dataclass(frozen=True)
class Waiting:
    for_connection: int  # operations parked until Zoom is connected again
    meetings_waiting: int  # meetings showing "Waiting for connection"
    parked: int  # held back by Zoom's daily cap
    parked_until: datetime | None  # when the first of them resumes
    retrying: int  # failed once, trying again after a backoff
    due: int  # queued and due now
    oldest_due_since: datetime | None  # how long the oldest due one has waited
    running: int


@dataclass(frozen=True)
class Webhooks:
    received_24h: int
    by_event: list[tuple[str, int]]
    unapplied: int
    unapplied_rows: list[WebhookEvent] = field(default_factory=list)


@dataclass(frozen=True)
class SyncHealth:
    connection: ZoomConnection | None
    counts: dict[str, int]  # operations by state, every state present
    problems: list[Operation]  # failed or dead, and still the booking's latest work
    problem_count: int
    waiting: Waiting
    webhooks: Webhooks
    checked_at: datetime


def _counts(workspace_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Operation.state, func.count()).where(
        Operation.workspace_id == workspace_id).group_by(Operation.state)).all()
    return {state.value: 0 for state in OperationState} | dict(rows)


def _unresolved_failures(workspace_id: int) -> tuple[list[Operation], int]:
    """Failed and dead operations that no later operation of their booking has replaced
    (a retry that worked takes a failure off this list; the booking keeps its history)."""
    later = aliased(Operation)
    unresolved = and_(
        Operation.workspace_id == workspace_id,
        Operation.state.in_(OperationState.GAVE_UP),
        ~select(later.id).where(later.booking_id == Operation.booking_id,
                                later.id > Operation.id).exists())
    total = db.session.scalar(select(func.count()).select_from(Operation).where(unresolved))
    rows = db.session.scalars(
        select(Operation).join(Operation.booking).options(contains_eager(Operation.booking))
        .where(unresolved).order_by(Operation.updated_at.desc(), Operation.id.desc())
        .limit(LIST_LIMIT)).unique()
    return list(rows), total or 0


def _waiting(workspace_id: int, by_state: dict[str, int], now: datetime) -> Waiting:
    queued = and_(Operation.workspace_id == workspace_id,
                  Operation.state == OperationState.QUEUED)
    parked_from = now + PARKED_AFTER

    def count_and(where: object, column: object) -> tuple[int, datetime | None]:
        row = db.session.execute(select(func.count(), func.min(column))
                                 .where(queued, where)).one()
        return row[0], row[1]

    parked, parked_until = count_and(Operation.next_attempt_at > parked_from,
                                     Operation.next_attempt_at)
    retrying, _ = count_and(and_(Operation.next_attempt_at > now,
                                 Operation.next_attempt_at <= parked_from),
                            Operation.next_attempt_at)
    due, oldest = count_and(Operation.next_attempt_at <= now, Operation.created_at)
    meetings_waiting = db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.workspace_id == workspace_id,
        Meeting.status == MeetingStatus.WAITING_FOR_CONNECTION)) or 0
    return Waiting(by_state[OperationState.WAITING], meetings_waiting, parked, parked_until,
                   retrying, due, oldest, by_state[OperationState.RUNNING])


def _webhooks(workspace: Workspace, connection: ZoomConnection | None,
              now: datetime) -> Webhooks:
    # Events carry Zoom's account id; one that was matched to this workspace has its id too.
    ours = WebhookEvent.workspace_id == workspace.id
    if connection is not None and connection.zoom_account_id:
        ours = or_(ours, WebhookEvent.zoom_account_id == connection.zoom_account_id)
    recent = and_(ours, WebhookEvent.received_at >= now - timedelta(hours=24))
    by_event = [tuple(row) for row in db.session.execute(
        select(WebhookEvent.event, func.count()).where(recent)
        .group_by(WebhookEvent.event).order_by(func.count().desc(), WebhookEvent.event))]
    pending = and_(ours, WebhookEvent.processed_at.is_(None))
    unapplied = db.session.scalar(select(func.count()).select_from(WebhookEvent)
                                  .where(pending)) or 0
    rows = list(db.session.scalars(select(WebhookEvent).where(pending)
                                   .order_by(WebhookEvent.id).limit(LIST_LIMIT)))
    return Webhooks(sum(count for _, count in by_event), by_event, unapplied, rows)


def summary(workspace: Workspace, now: datetime | None = None) -> SyncHealth:
    """Everything the sync health page shows for ``workspace``."""
    now = now or utcnow()
    connection = connection_of(workspace)
    counts = _counts(workspace.id)
    problems, problem_count = _unresolved_failures(workspace.id)
    return SyncHealth(connection, counts, problems, problem_count,
                      _waiting(workspace.id, counts, now), _webhooks(workspace, connection, now),
                      now)

