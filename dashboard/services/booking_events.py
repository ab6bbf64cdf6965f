"""The event log: the one way a fact about a booking or the Zoom link is told onwards.

``record`` writes the event in the caller's transaction (never commits), so the event
exists exactly when the change it reports does; it fans out one delivery per active
endpoint subscribed to the type (the worker sends them, ``webhook_delivery``), and the pull
feed reads the same rows. Payloads never carry the host's start_url or any token.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    EndpointState,
    Event,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)

#: Called with each recorded event, inside the same transaction (e.g. the customer's email).
#: A subscriber may still set ``event.data`` (a new dict): deliveries read it when sent.
SUBSCRIBERS: list[Callable[[Event], None]] = []
# A payload that names one of these would hand a host's key or a credential onwards.
_FORBIDDEN = ("start_url", "token", "secret", "password_hash")
_LOCK_SPACE = zlib.crc32(b"lakesis.events") & 0x7FFFFFFF


def _check_safe(value: Any, path: str = "data") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if any(word in str(key).lower() for word in _FORBIDDEN):
                raise ValueError(f"event payloads must not carry secrets: {path}.{key}")
            _check_safe(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for item in value:
            _check_safe(item, path)


def _serialize_workspace(workspace_id: int) -> None:
    """One workspace's events are written one after the other (PostgreSQL: a transaction
    lock; SQLite has one writer anyway), so ids commit in order and a feed cursor never
    skips an event that commits late. Not a row lock on the workspace: inserting a booking
    holds a key-share lock there, and waiting for it would deadlock two such writers."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(_LOCK_SPACE, workspace_id)))


def record(workspace_id: int, event_type: str, data: dict[str, Any],
           booking: Booking | None = None) -> Event:
    """Add an event (and its webhook deliveries) to the caller's transaction."""
    event_type = EventType(event_type).value
    payload = dict(data)
    if booking is not None:
        payload = {"booking_id": booking.public_id, "external_ref": booking.external_ref,
                   **payload}
    _check_safe(payload)
    _serialize_workspace(workspace_id)
    event = Event(workspace_id=workspace_id, type=event_type, data=payload,
                  booking_id=booking.id if booking is not None else None)
    db.session.add(event)
    db.session.flush()
    for endpoint in db.session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id == workspace_id,
            WebhookEndpoint.state == EndpointState.ACTIVE).order_by(WebhookEndpoint.id)):
        if event_type in endpoint.types:
            db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id,
                                           booking_id=event.booking_id or 0))
    for subscriber in SUBSCRIBERS:
        subscriber(event)
    return event


def record_once(event_type: str, data: dict[str, Any], booking: Booking) -> Event | None:
    """``record``, unless the booking's latest event already says exactly this (a retry
    that fails the same way again, a re-sync that changed nothing)."""
    last = db.session.scalar(select(Event).where(Event.booking_id == booking.id)
                             .order_by(Event.id.desc()).limit(1))
    if last is not None and last.type == event_type and last.data == _with_booking(
            data, booking):
        return None
    return record(booking.workspace_id, event_type, data, booking)


def _with_booking(data: dict[str, Any], booking: Booking) -> dict[str, Any]:
    return {"booking_id": booking.public_id, "external_ref": booking.external_ref, **data}


def envelope(event: Event) -> dict[str, Any]:
    """The event as webhooks and the feed show it (the same shape in both)."""
    return {"id": event.key, "cursor": str(event.id), "type": event.type,
            "created_at": timestamp(event.created_at), "data": event.data}


def timestamp(at: datetime | None) -> str | None:
    """UTC to the second with a ``Z``, as the API writes every time."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def moment(at: datetime | None, zone: str) -> dict[str, str | None]:
    """A time in UTC and in the booking's own zone (as the booking workflow shows it)."""
    if at is None:
        return {"utc": None, "local": None, "timezone": zone}
    try:
        local = at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
    except (ZoneInfoNotFoundError, ValueError):
        local = None
    return {"utc": timestamp(at), "local": local, "timezone": zone}
