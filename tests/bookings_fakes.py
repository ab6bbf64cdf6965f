"""Builders and readers for tests of bookings and their Zoom meetings.

Bookings are made through the service (``bookings.create``), the way the API makes them,
so each one comes with its meeting row and its queued create operation. Readers return
detached copies, safe to inspect outside the app context.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Booking, Meeting, Operation, Workspace
from dashboard.orm import utcnow
from dashboard.services import bookings, meeting_sync
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
    with app.app_context():
        return meeting_sync.drain()


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
