"""Which rows of a bookings page still have Zoom work on its way (so only they poll), and
which have work a worker may hold (so Retry is not offered)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Booking, MeetingStatus, Operation, OperationState
from dashboard.orm import utcnow
from dashboard.services.retry_policy import PARKED_AFTER


@dataclass(frozen=True)
class LiveRows:
    polling: frozenset[int]  # rows to poll: a pending meeting or claimable work due soon
    working: frozenset[int]  # rows with claimable work at all, however far off


def live_rows(bookings: Iterable[Booking], now: datetime | None = None) -> LiveRows:
    """One query for the whole page, however many rows it has."""
    bookings = list(bookings)
    if not bookings:
        return LiveRows(frozenset(), frozenset())
    now = now or utcnow()
    due = dict(db.session.execute(
        select(Operation.booking_id, func.min(Operation.next_attempt_at))
        .where(Operation.booking_id.in_([b.id for b in bookings]),
               Operation.state.in_(OperationState.CLAIMABLE))
        .group_by(Operation.booking_id)).all())
    polling = set()
    for booking in bookings:
        next_at = due.get(booking.id)
        if next_at is not None:
            if next_at <= now + PARKED_AFTER:
                polling.add(booking.id)
        elif booking.meeting.status == MeetingStatus.PENDING:
            polling.add(booking.id)
    return LiveRows(frozenset(polling), frozenset(due))
