"""The outbox of Zoom work: enqueue with a booking change, claim with a lease, finish.

Claims are safe with any number of workers on PostgreSQL: candidate bookings are locked
with ``FOR UPDATE SKIP LOCKED`` and the operation is taken with a compare-and-set, so one
booking's operations run one at a time, in order. A worker killed mid-run leaves its lease
to expire; the next claim takes the operation over (creates then look for the meeting
first, so nothing is created twice).
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, or_, select, update

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    Meeting,
    MeetingStatus,
    Operation,
    OperationKind,
    OperationState,
)
from dashboard.models.operation import SUPERSEDED_PREFIX
from dashboard.orm import utcnow


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]


def lock(booking_id: int) -> None:
    """Hold the booking's row lock until the caller's transaction ends: changes of one
    booking's work (two Retry clicks, a click and a worker's result) then happen one after
    the other, each seeing what the other committed.

    PostgreSQL: ``SELECT ... FOR UPDATE``; under READ COMMITTED every later statement sees
    what the lock's previous holder committed. SQLite has no row locks, but its one writer
    holds the database until commit, and a transaction only takes that lock at its first
    write: so a write that changes nothing, first.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(Booking).where(Booking.id == booking_id)
                           .values(updated_at=Booking.updated_at)
                           .execution_options(synchronize_session=False))
    else:
        db.session.execute(select(Booking.id).where(Booking.id == booking_id).with_for_update())


def enqueue(booking: Booking, kind: OperationKind, requested_by: str, *,
            due: datetime | None = None) -> Operation | None:
    """Add work for ``booking`` to the caller's transaction, collapsing what can be collapsed.

    A create or update still waiting its turn already reads the booking's latest values
    when it runs, so another create/update/resync is not added, and a re-sync waiting
    gives way to a new create/update (which reads the meeting back too); a cancel
    supersedes them all, and a second cancel adds nothing. Takes the booking's lock
    first, so two requests at once cannot both find nothing pending.
    """
    lock(booking.id)
    pending = list(db.session.scalars(select(Operation).where(
        Operation.booking_id == booking.id, Operation.state.in_(OperationState.PENDING))))
    if kind is OperationKind.CANCEL:
        if any(op.kind == OperationKind.CANCEL for op in pending):
            return None
        _supersede([op for op in pending if op.kind != OperationKind.CANCEL], kind)
    else:
        covering = {OperationKind.CREATE, OperationKind.UPDATE}
        if kind is OperationKind.RESYNC:
            covering.add(OperationKind.RESYNC)
        if any(op.kind in covering for op in pending):
            return None
        _supersede([op for op in pending if op.kind == OperationKind.RESYNC], kind)
    op = Operation(workspace_id=booking.workspace_id, booking_id=booking.id, kind=kind.value,
                   requested_by=requested_by[:254], next_attempt_at=due or utcnow())
    db.session.add(op)
    return op


def _supersede(ops: list[Operation], by: OperationKind) -> None:
    for op in ops:
        op.state = OperationState.SUCCEEDED.value
        op.outcome = f"{SUPERSEDED_PREFIX}{by.value}"
        op.finished_at = utcnow()


def lease() -> timedelta:
    """How long a claim holds before another worker may take the operation over: longer
    than any one operation's Zoom calls (tests that kill workers shorten it)."""
    return timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def _due(columns: Any, now: datetime) -> ColumnElement[bool]:
    """Queued work whose time has come, or running work whose claim has lapsed."""
    return or_(and_(columns.state == OperationState.QUEUED, columns.next_attempt_at <= now),
               and_(columns.state == OperationState.RUNNING, columns.lease_until < now))


def claim(worker: str, now: datetime | None = None) -> int | None:
    """Take the next due operation for this worker, or None. Commits."""
    now = now or utcnow()
    # An operation behind an earlier open one of its booking cannot run yet: leave it out,
    # or enough of them would fill the candidate list and starve everyone else's work.
    # Said with row_number() over the open operations, one scan whatever the statistics:
    # a join of each candidate to "the first open operation of its booking" (NOT EXISTS,
    # then IN an aggregate) was planned from the statistics of a table still empty when a
    # burst arrived, as a nested loop reading all open work once per candidate (151 ms a
    # claim at 1,000 queued; the drain ran at 1.2x the rate limits' bound).
    ranked = select(
        Operation.id, Operation.booking_id, Operation.state, Operation.next_attempt_at,
        Operation.lease_until,
        func.row_number().over(partition_by=Operation.booking_id, order_by=Operation.id)
        .label("place")).where(Operation.state.in_(OperationState.CLAIMABLE)).subquery()
    candidates = db.session.execute(
        select(ranked.c.id, ranked.c.booking_id).where(ranked.c.place == 1, _due(ranked.c, now))
        .order_by(ranked.c.next_attempt_at, ranked.c.id).limit(20)).all()
    due = _due(Operation, now)
    for op_id, booking_id in candidates:
        locked = db.session.scalar(select(Booking.id).where(Booking.id == booking_id)
                                   .with_for_update(skip_locked=True))
        if locked is None:
            continue  # another worker is claiming for this booking right now
        first = db.session.execute(
            select(Operation.id, Operation.state, Operation.lease_until)
            .where(Operation.booking_id == booking_id,
                   Operation.state.in_(OperationState.CLAIMABLE))
            .order_by(Operation.id).limit(1)).first()
        if first is None or first.id != op_id:
            continue  # an earlier operation of this booking goes first
        taken = db.session.execute(
            update(Operation).where(Operation.id == op_id, due).values(
                state=OperationState.RUNNING.value, locked_by=worker, lease_until=now + lease(),
                attempts=Operation.attempts + 1, updated_at=now))
        if taken.rowcount == 1:
            db.session.commit()
            return op_id
    db.session.commit()
    return None


def still_mine(op: Operation, worker: str) -> bool:
    return op.state == OperationState.RUNNING and op.locked_by == worker


def release(op: Operation, state: OperationState, *, next_attempt_at: datetime | None = None,
            error: str | None = None, outcome: str | None = None) -> None:
    """Record how a claimed operation ended; the caller commits."""
    op.state = state.value
    op.locked_by = None
    op.lease_until = None
    op.last_error = error[:500] if error else None
    if outcome:
        op.outcome = outcome[:300]
    if next_attempt_at is not None:
        op.next_attempt_at = next_attempt_at
    if state in OperationState.FINISHED:
        op.finished_at = utcnow()


def resume_waiting(workspace_id: int) -> int:
    """Zoom is connected again: everything parked for the connection runs now.

    Joins the caller's transaction (the reconnect that makes it possible)."""
    result = db.session.execute(
        update(Operation).where(Operation.workspace_id == workspace_id,
                                Operation.state == OperationState.WAITING)
        .values(state=OperationState.QUEUED.value, next_attempt_at=utcnow()))
    db.session.execute(
        update(Meeting).where(Meeting.workspace_id == workspace_id,
                              Meeting.status == MeetingStatus.WAITING_FOR_CONNECTION)
        .values(status=MeetingStatus.PENDING.value, note=None))
    return result.rowcount


def park_until(workspace_id: int, until: datetime, kinds: tuple[str, ...],
               note: str | None = None, *, host: Host | None = None) -> int:
    """Hold back queued work of these kinds (a rate limit) instead of hammering Zoom;
    ``note`` tells each held-back booking's meeting why it waits. With ``host``, only the
    work of meetings of that Zoom host is held (Zoom's daily cap counts per host)."""
    parked = [Operation.workspace_id == workspace_id, Operation.state == OperationState.QUEUED,
              Operation.kind.in_(kinds), Operation.next_attempt_at < until]
    if host is not None:
        parked.append(Operation.booking_id.in_(
            select(Booking.id).where(Booking.workspace_id == workspace_id, host.of(Booking))))
    if note:
        db.session.execute(
            update(Meeting).where(Meeting.booking_id.in_(
                select(Operation.booking_id).where(*parked))).values(note=note[:500]))
    result = db.session.execute(update(Operation).where(*parked).values(next_attempt_at=until))
    return result.rowcount


@dataclass(frozen=True)
class Host:
    """The Zoom user who hosts a booking's meeting: its host, or the connected user (for a
    booking without a host, or whose host is the connected user)."""

    email: str | None  # None: the connected user
    connected_email: str | None

    @classmethod
    def of_booking(cls, booking: Booking, connected_email: str | None) -> Host:
        host = (booking.host_email or "").lower() or None
        connected = (connected_email or "").lower() or None
        return cls(None if host == connected else host, connected)

    def of(self, booking: type[Booking]) -> ColumnElement[bool]:
        """SQL: the booking's meeting has this host."""
        host = func.lower(booking.host_email)
        if self.email is not None:
            return host == self.email
        if self.connected_email is None:
            return booking.host_email.is_(None)
        return or_(booking.host_email.is_(None), host == self.connected_email)
