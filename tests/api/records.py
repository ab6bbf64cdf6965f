"""Request bodies and row counts for the API tests."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import AuditEvent, Booking, Meeting, Operation
from dashboard.orm import utcnow

PLUS_ONE = timezone(timedelta(hours=1))


def booking_body(ref: str = "ext-1", days: int = 3, **overrides: Any) -> dict[str, Any]:
    """A valid create request starting ``days`` from now, on a whole minute, at +01:00."""
    start = (utcnow() + timedelta(days=days)).replace(second=0, microsecond=0)
    body = {
        "external_ref": ref,
        "title": "Consultation with Ana",
        "start_time": start.astimezone(PLUS_ONE).isoformat(),
        "duration_minutes": 30,
        "timezone": "Europe/Lisbon",
        "customer": {"name": "Ana Silva", "email": "ana@example.test"},
        "host_email": None,
        "kind": "consultation",
    }
    body.update(overrides)
    return body


def counts(app: Flask) -> dict[str, int]:
    """Rows in each table a booking change writes: proof that a refusal wrote nothing."""
    with app.app_context():
        result = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                  for model in (Booking, Meeting, Operation)}
        # Issuing the test keys is audited too; only the bookings' events count here.
        result["audit_events"] = db.session.scalar(select(func.count()).select_from(
            AuditEvent).where(AuditEvent.action.startswith("booking.")))
        db.session.remove()
        return result


def snapshot(app: Flask, public_id: str) -> dict[str, Any]:
    """A booking's stored fields, meeting status and operation count."""
    with app.app_context():
        booking = db.session.scalars(select(Booking).filter_by(public_id=public_id)).one()
        fields = {column.key: getattr(booking, column.key)
                  for column in Booking.__mapper__.column_attrs}
        fields["meeting_status"] = booking.meeting.status
        fields["operations"] = db.session.scalar(
            select(func.count()).select_from(Operation).filter_by(booking_id=booking.id))
        db.session.remove()
        return fields


def operations(app: Flask, public_id: str) -> list[tuple[str, str]]:
    """``(kind, state)`` of a booking's operations, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(Operation.kind, Operation.state).join(Booking, Operation.booking_id
                                                         == Booking.id)
            .where(Booking.public_id == public_id).order_by(Operation.id)).all()
        db.session.remove()
        return [tuple(row) for row in rows]
