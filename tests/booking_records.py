"""Bookings written straight to the database, in any state, for tests of the pages."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from dashboard.extensions import db
from dashboard.models import Booking, Meeting, Operation
from dashboard.orm import utcnow


def add_booking(workspace_id: int, ref: str = "ref-1", *, title: str = "Consultation with Ana",
                start: datetime | None = None, status: str = "scheduled",
                state: str = "active", customer: str = "Ana Silva",
                zoom_id: int | None = None, operation: str | None = None,
                op_kind: str = "create", **meeting: object) -> int:
    """A booking with its meeting (and optionally one operation in state ``operation``).

    Call inside an app context; returns the booking id.
    """
    start = start or (utcnow() + timedelta(days=2)).replace(microsecond=0)
    booking = Booking(
        workspace_id=workspace_id, external_ref=ref, title=title, start_at=start,
        duration_minutes=30, timezone="Europe/Lisbon", customer_name=customer,
        customer_email=f"{customer.split()[0].lower()}@example.test", state=state,
        fingerprint="0" * 64)
    if status in ("scheduled", "started", "ended") and zoom_id is None:
        zoom_id = 81200000000 + zlib.crc32(ref.encode()) % 10_000_000
    booking.meeting = Meeting(
        workspace_id=workspace_id, status=status, zoom_meeting_id=zoom_id,
        join_url=f"https://zoom.us/j/{zoom_id}" if zoom_id and status != "cancelled" else None,
        last_synced_at=utcnow() if zoom_id else None, **meeting)
    db.session.add(booking)
    db.session.flush()
    if operation:
        db.session.add(Operation(workspace_id=workspace_id, booking_id=booking.id, kind=op_kind,
                                 state=operation, requested_by="test"))
    db.session.commit()
    return booking.id
