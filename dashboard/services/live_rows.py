"""Which rows of a bookings page still have Zoom work on its way (so the table keeps asking
about them), which have work a worker may hold (so Retry is not offered), and where that
work stands (attempt and next try, for the sync signal); and what changed since a poll."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from dashboard.extensions import db
from dashboard.models import Booking, Meeting, MeetingStatus, Operation, OperationState
from dashboard.orm import utcnow
from dashboard.services.retry_policy import PARKED_AFTER

# A change commits some time after it stamps updated_at: a poll looks back this far, so a
# transaction that was still open at the previous poll is not missed.
POLL_OVERLAP = timedelta(seconds=5)


@dataclass(frozen=True)
class Work:
    """A booking's open Zoom work: the one due first, if it has several."""

    state: str
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True)
class LiveRows:
    polling: frozenset[int]  # rows to watch: a pending meeting or claimable work due soon
    working: frozenset[int]  # rows with claimable work at all, however far off
    work: Mapping[int, Work] = field(default_factory=dict)


def live_rows(bookings: Iterable[Booking], now: datetime | None = None) -> LiveRows:
    """One query for the whole page, however many rows it has."""
    bookings = list(bookings)
    if not bookings:
        return LiveRows(frozenset(), frozenset())
    now = now or utcnow()
    work: dict[int, Work] = {}
    for booking_id, state, attempts, next_at in db.session.execute(
            select(Operation.booking_id, Operation.state, Operation.attempts,
                   Operation.next_attempt_at)
            .where(Operation.booking_id.in_([b.id for b in bookings]),
                   Operation.state.in_(OperationState.CLAIMABLE))):
        known = work.get(booking_id)
        if known is None or next_at < known.next_attempt_at:
            work[booking_id] = Work(state, attempts, next_at)
    polling = set()
    for booking in bookings:
        open_work = work.get(booking.id)
        if open_work is not None:
            if open_work.next_attempt_at <= now + PARKED_AFTER:
                polling.add(booking.id)
        elif booking.meeting.status == MeetingStatus.PENDING:
            polling.add(booking.id)
    return LiveRows(frozenset(polling), frozenset(work), work)


def changed_since(workspace_id: int, ids: Iterable[int], since: datetime) -> list[int]:
    """Of the rows ``ids`` on an open table, those whose booking, meeting or Zoom work
    changed after ``since`` (less the overlap): what one poll of the table sends back."""
    ids = list(ids)
    if not ids:
        return []
    after = since - POLL_OVERLAP
    touched_work = select(Operation.booking_id).where(
        Operation.booking_id.in_(ids), Operation.updated_at > after)
    return list(db.session.scalars(
        select(Booking.id).join(Meeting, Meeting.booking_id == Booking.id)
        .where(Booking.workspace_id == workspace_id, Booking.id.in_(ids),
               or_(Booking.updated_at > after, Meeting.updated_at > after,
                   Booking.id.in_(touched_work)))
        .order_by(Booking.id)))


def in_flight(ids: Iterable[int]) -> bool:
    """Whether any of the rows ``ids`` has Zoom work on its way (the table polls faster)."""
    ids = list(ids)
    if not ids:
        return False
    work = select(Operation.id).where(Operation.booking_id.in_(ids),
                                      Operation.state.in_(OperationState.CLAIMABLE))
    pending = select(Meeting.id).where(Meeting.booking_id.in_(ids),
                                       Meeting.status == MeetingStatus.PENDING)
    return bool(db.session.scalar(select(work.exists() | pending.exists())))


def newest_id() -> int:
    """The highest booking id of any workspace: the table's mark for "new since"."""
    return db.session.scalar(select(func.max(Booking.id))) or 0


def new_after(workspace_id: int, after_id: int, cap: int = 99) -> int:
    """How many bookings the workspace got after the one numbered ``after_id`` (ids only
    grow), at most ``cap``: a range of the primary key, never a scan of the table."""
    recent = (select(Booking.id).where(Booking.id > after_id,
                                       Booking.workspace_id == workspace_id)
              .limit(cap).subquery())
    return db.session.scalar(select(func.count()).select_from(recent)) or 0
