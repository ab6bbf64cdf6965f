"""One booking's story: its outbox operations, Zoom's webhook events about its meeting, and
the audit trail, merged newest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, or_, select

from dashboard.extensions import db
from dashboard.models import AuditEvent, Booking, Operation, OperationState, WebhookEvent

LIMIT = 100  # per source: a booking's page stays fast even for a very busy booking


@dataclass(frozen=True)
class Entry:
    at: datetime
    source: str  # "operation", "zoom" or "audit"
    title: str
    state: str | None = None  # an operation's state, for its badge
    who: str | None = None
    details: dict[str, object] = field(default_factory=dict)


def _operations(booking: Booking) -> list[Entry]:
    rows = db.session.scalars(select(Operation).where(Operation.booking_id == booking.id)
                              .order_by(Operation.id.desc()).limit(LIMIT))
    return [Entry(op.created_at, "operation", f"{op.kind.capitalize()} meeting", op.state,
                  op.requested_by, {
                      "attempts": op.attempts,
                      "next attempt": (op.next_attempt_at
                                       if op.state == OperationState.QUEUED else None),
                      "finished": op.finished_at,
                      "error": op.last_error,
                      "outcome": op.outcome,
                  }) for op in rows]


def _webhooks(booking: Booking) -> list[Entry]:
    zoom_id = booking.meeting.zoom_meeting_id
    if not zoom_id:
        return []
    # Zoom sends the meeting id as a number in some events and a string in others; compared
    # as text, both match. Zoom's meeting ids are unique, and events stored for another
    # workspace are left out all the same.
    meeting_id = cast(WebhookEvent.payload[("object", "id")].as_string(), String)
    rows = db.session.scalars(
        select(WebhookEvent).where(
            meeting_id == str(zoom_id),
            or_(WebhookEvent.workspace_id.is_(None),
                WebhookEvent.workspace_id == booking.workspace_id))
        .order_by(WebhookEvent.id.desc()).limit(LIMIT))
    return [Entry(event.received_at, "zoom", event.event, who="Zoom", details={
        "applied": event.processed_at, "outcome": event.outcome or (
            None if event.processed_at else "not applied yet")}) for event in rows]


def _audit(booking: Booking) -> list[Entry]:
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.workspace_id == booking.workspace_id,
                                 AuditEvent.target_type == "booking",
                                 AuditEvent.target_id == str(booking.id))
        .order_by(AuditEvent.id.desc()).limit(LIMIT))
    return [Entry(event.created_at, "audit", event.action, who=event.actor_label,
                  details=dict(event.details or {})) for event in rows]


def timeline(booking: Booking) -> list[Entry]:
    """Everything known about ``booking``, newest first."""
    entries = _operations(booking) + _webhooks(booking) + _audit(booking)
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
