"""Builders and readers of bookings, for tests of bookings and their Zoom meetings.

Two ways to make a booking:

- ``new_booking(app, ...)`` goes through the service (``bookings.create``), the way the API
  makes them, so each one comes with its meeting row and its queued create operation.
- ``add_booking(workspace_id, ...)`` writes the rows straight to the database, in any state
  (for tests of the pages); call it inside an app context.

Readers return detached copies, safe to inspect outside the app context.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Booking, Meeting, Operation, Workspace
from dashboard.orm import utcnow
from dashboard.services import bookings, meeting_sync, webhook_events
from dashboard.services.audit import Actor
from dashboard.services.booking_input import parse_new_booking
from dashboard.services.zoom_tokens import TokenProvider


def new_booking(app: Flask, workspace_id: int, ref: str = "ext-1", hours: int = 48,
                **fields: Any) -> int:
    """A booking made through the service, ``hours`` from now; returns its id.

    ``fields`` override the API fields (``duration_minutes``, ``host_email``...).
    """
    start = (utcnow() + timedelta(hours=hours)).replace(microsecond=0)
    with app.app_context():
        body = {
            "external_ref": ref, "title": "Consultation with Ana", "kind": "consultation",
            "start_time": start.isoformat(), "duration_minutes": 30,
            "timezone": "Europe/Lisbon",
            "customer": {"name": "Ana Silva", "email": "ana@example.test"}, **fields}
        booking, _ = bookings.create(db.session.get(Workspace, workspace_id), Actor.system(),
                                     parse_new_booking(body, utcnow()))
        return booking.id


def reschedule(app: Flask, booking_id: int, **changes: Any) -> None:
    """Change ``start_at``, ``duration_minutes``... of a booking through the service."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        bookings.reschedule(booking.workspace, Actor.system(), booking, changes)


def cancel(app: Flask, booking_id: int) -> None:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        bookings.cancel(booking.workspace, Actor.system(), booking)


def retry(app: Flask, booking_id: int) -> Operation | None:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        op = bookings.retry(booking.workspace, Actor.system(), booking)
        if op is not None:
            db.session.refresh(op)
        db.session.expunge_all()
        return op


def meeting_of(app: Flask, booking_id: int) -> Meeting:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        meeting = booking.meeting
        db.session.expunge_all()
        return meeting


def booking_of(app: Flask, booking_id: int) -> Booking:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        db.session.expunge_all()
        return booking


def operations_of(app: Flask, booking_id: int | None = None) -> list[Operation]:
    """Operations (of one booking, or all), oldest first."""
    with app.app_context():
        query = select(Operation).order_by(Operation.id)
        if booking_id is not None:
            query = query.where(Operation.booking_id == booking_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def make_due(app: Flask, when: datetime | None = None) -> None:
    """Every queued operation is due now (skips the backoff a test is not about)."""
    with app.app_context():
        db.session.execute(update(Operation).where(Operation.state == "queued")
                           .values(next_attempt_at=when or utcnow()))
        db.session.commit()


def drain(app: Flask) -> int:
    """What the worker does until nothing is left: Zoom's webhook events (the route only
    stores them) and every due operation, until neither has more (an operation's Zoom call
    may bring webhooks back). Returns how many operations ran."""
    ran = 0
    while True:
        applied = apply_webhooks(app)
        with app.app_context():
            done = meeting_sync.drain()
        ran += done
        if not (applied or done):
            return ran


def apply_webhooks(app: Flask) -> int:
    """Apply the stored Zoom webhook events, as the worker's next loop would."""
    applied = 0
    with app.app_context():
        while settled := webhook_events.apply_pending():
            applied += settled
    return applied


def run_once(app: Flask) -> bool:
    with app.app_context():
        return meeting_sync.run_once()


def zoom_meeting(sandbox, app: Flask, meeting_id: int) -> dict:
    """The meeting as Zoom (the sandbox) holds it, read with the acme workspace's tokens."""
    with app.app_context():
        tokens = TokenProvider(zoom_extension.client_of(app))
        client = zoom_extension.client_of(app)
        workspace_id = db.session.scalars(db.select(Workspace.id).filter_by(slug="acme")).one()
        return tokens.call(workspace_id, lambda t: client.get_meeting(t, meeting_id))


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
