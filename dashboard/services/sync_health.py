"""Sync health of a workspace for a chosen window: the Zoom connection, the outbox, the
failures by cause, Zoom's webhook events, and what needs a hand now.

Every query is an aggregate or has a LIMIT, and reads either what finished inside the window
(``ix_operations_workspace_finished``, ``ix_webhook_events_*_received``) or the work still
open (queued, running, waiting: the backlog, however old the history): the page costs the
same with a million operations as with ten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select, union
from sqlalchemy.orm import contains_eager

from dashboard.extensions import db
from dashboard.models import (
    Meeting,
    MeetingDrift,
    MeetingStatus,
    Operation,
    OperationState,
    Workspace,
    ZoomConnection,
)
from dashboard.models.operation import superseded
from dashboard.orm import utcnow
from dashboard.services import daily_budget
from dashboard.services.connections import connection_of
from dashboard.services.failure_causes import FailureGroup, group_failures
from dashboard.services.retry_policy import PARKED_AFTER
from dashboard.services.sync_windows import DEFAULT_WINDOW, Window, bucket, not_before
from dashboard.services.webhook_health import Webhooks, webhooks

LIST_LIMIT = 50
#: Distinct error texts read per window; more (each naming its own meeting) fold into one
#: "other causes" group, so the groups still add up to the tiles.
CAUSE_ROWS = 500
ATTENTION = (MeetingStatus.FAILED.value, MeetingStatus.DELETED_IN_ZOOM.value)


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
    oldest_waiting_since: datetime | None  # the oldest queued or parked one, whatever for


@dataclass(frozen=True)
class Bar:
    """One bucket of the chart: Zoom work that succeeded and that failed in it."""

    start: datetime
    succeeded: int
    failed: int


@dataclass(frozen=True)
class SyncHealth:
    window: Window
    connection: ZoomConnection | None
    #: operations by state: open ones as they stand now, finished ones in the window
    counts: dict[str, int]
    failures: list[FailureGroup]  # failed + dead in the window, by cause
    chart: list[Bar]
    waiting: Waiting
    budget: list[daily_budget.HostBudget]
    webhooks: Webhooks
    attention: list[Meeting]  # meetings whose booking needs an operator now
    attention_count: int
    checked_at: datetime

    @property
    def chart_peak(self) -> int:
        """The tallest bar (at least 1): the chart's scale."""
        return max([bar.succeeded + bar.failed for bar in self.chart] + [1])

    @property
    def failed_in_window(self) -> int:
        return self.counts[OperationState.FAILED] + self.counts[OperationState.DEAD]


def _ours(workspace_id: int) -> ColumnElement[bool]:
    return Operation.workspace_id == workspace_id


def _finished_since(workspace_id: int, since: datetime) -> tuple[ColumnElement[bool], ...]:
    """The workspace's operations finished in the window, read through the window's index."""
    return (_ours(workspace_id),
            not_before(db.session.get_bind().dialect.name, Operation.finished_at, since))


def _counts(workspace_id: int, since: datetime) -> dict[str, int]:
    open_rows = db.session.execute(
        select(Operation.state, func.count()).where(
            _ours(workspace_id), Operation.state.in_(OperationState.UNFINISHED))
        .group_by(Operation.state)).all()
    finished_rows = db.session.execute(
        select(Operation.state, func.count()).where(
            *_finished_since(workspace_id, since), Operation.state.in_(OperationState.FINISHED))
        .group_by(Operation.state)).all()
    return {state.value: 0 for state in OperationState} | dict(open_rows) | dict(finished_rows)


def _failures(workspace_id: int, since: datetime, total: int) -> list[FailureGroup]:
    rows = db.session.execute(
        select(Operation.last_error, Operation.error_code, Operation.state, func.count(),
               func.min(Operation.finished_at), func.max(Operation.finished_at))
        .where(*_finished_since(workspace_id, since),
               Operation.state.in_(OperationState.GAVE_UP))
        .group_by(Operation.last_error, Operation.error_code, Operation.state)
        .order_by(func.count().desc()).limit(CAUSE_ROWS)).all()
    return group_failures([tuple(row) for row in rows], total)


def _chart(workspace_id: int, window: Window, now: datetime) -> list[Bar]:
    """Successes and failures per bucket. Counted by state from the window's index alone;
    the few operations Lakesis settled without a Zoom call are not successes, and are
    counted apart through their own index (a filter on ``outcome`` would read the table
    for every operation of the window: 76 ms of 7 days at a million operations)."""
    step = window.bucket_seconds
    since = window.since(now)
    slot = bucket(db.session.get_bind().dialect.name, Operation.finished_at, step)
    by_slot: dict[int, list[int]] = {}
    for n, state, count in db.session.execute(
            select(slot, Operation.state, func.count())
            .where(*_finished_since(workspace_id, since),
                   Operation.state.in_(OperationState.FINISHED))
            .group_by(slot, Operation.state)):
        bar = by_slot.setdefault(int(n), [0, 0])  # succeeded, failed
        bar[1 if state in OperationState.GAVE_UP else 0] += count
    for n, count in db.session.execute(
            # A plain bound: the partial index is the one to read, on both databases.
            select(slot, func.count()).where(_ours(workspace_id), Operation.finished_at >= since,
                                             superseded()).group_by(slot)):
        by_slot.setdefault(int(n), [0, 0])[0] -= count
    first = int(since.timestamp()) // step
    last = int(now.timestamp()) // step
    return [Bar(datetime.fromtimestamp(n * step, now.tzinfo), *by_slot.get(n, (0, 0)))
            for n in range(first, last + 1)]


def _waiting(workspace_id: int, by_state: dict[str, int], now: datetime) -> Waiting:
    queued = and_(_ours(workspace_id), Operation.state == OperationState.QUEUED)
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
    oldest_waiting = db.session.scalar(select(func.min(Operation.created_at)).where(
        _ours(workspace_id), Operation.state.in_(OperationState.PENDING)))
    meetings_waiting = db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.workspace_id == workspace_id,
        Meeting.status == MeetingStatus.WAITING_FOR_CONNECTION)) or 0
    return Waiting(by_state[OperationState.WAITING], meetings_waiting, parked, parked_until,
                   retrying, due, oldest, by_state[OperationState.RUNNING], oldest_waiting)


def _attention(workspace_id: int) -> tuple[list[Meeting], int]:
    """Meetings whose Zoom work gave up, that someone deleted in Zoom, or that Zoom holds
    with other values than the booking (an open drift): the meeting's status and the drift
    are the current truth (a retry or a fix settles them), so this reads the open problems,
    never the history of failures."""
    # Two index lookups joined, not one OR: "status in ... or a drift exists" made
    # PostgreSQL read every meeting of the workspace (1,000,000 operations: 180 ms). The
    # union carries the order's column, so it is counted and paged as it stands and only
    # the page's rows are read again: as "meetings.id IN (union)" it was hashed against
    # every meeting of the workspace, twice (57 ms).
    by_status = select(Meeting.id, Meeting.updated_at).where(
        Meeting.workspace_id == workspace_id, Meeting.status.in_(ATTENTION))
    by_drift = (select(Meeting.id, Meeting.updated_at)
                .join(MeetingDrift, MeetingDrift.booking_id == Meeting.booking_id)
                .where(MeetingDrift.workspace_id == workspace_id,
                       MeetingDrift.resolved_at.is_(None)))
    needs = union(by_status, by_drift).subquery()
    total = db.session.scalar(select(func.count()).select_from(needs)) or 0
    shown = (select(needs.c.id).order_by(needs.c.updated_at.desc(), needs.c.id.desc())
             .limit(LIST_LIMIT))
    rows = db.session.scalars(
        select(Meeting).join(Meeting.booking).options(contains_eager(Meeting.booking))
        .where(Meeting.id.in_(shown))
        .order_by(Meeting.updated_at.desc(), Meeting.id.desc())).unique()
    return list(rows), total


def summary(workspace: Workspace, window: Window = DEFAULT_WINDOW, now: datetime | None = None, *,
            outcome: str | None = None, before: int | None = None) -> SyncHealth:
    """Everything the sync health page shows for ``workspace`` over ``window``;
    ``outcome`` and ``before`` filter and page the webhook events."""
    now = now or utcnow()
    since = window.since(now)
    connection = connection_of(workspace)
    counts = _counts(workspace.id, since)
    failed_total = counts[OperationState.FAILED] + counts[OperationState.DEAD]
    attention, attention_count = _attention(workspace.id)
    return SyncHealth(
        window, connection, counts, _failures(workspace.id, since, failed_total),
        _chart(workspace.id, window, now), _waiting(workspace.id, counts, now),
        daily_budget.use_today(workspace.id, connection, now),
        webhooks(workspace, connection, since, outcome=outcome, before=before),
        attention, attention_count, now)

