"""What happened to bookings and the Zoom link, told to the booking workflow: the event log
(also the pull feed) and the webhook endpoints it is delivered to."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.orm import utcnow


class EventType(enum.StrEnum):
    MEETING_READY = "meeting.ready"
    MEETING_CHANGED = "meeting.changed"
    MEETING_FAILED = "meeting.failed"
    MEETING_CANCELLED = "meeting.cancelled"
    MEETING_NEEDS_ATTENTION = "meeting.needs_attention"
    CONNECTION_NEEDS_REAUTHORIZATION = "connection.needs_reauthorization"
    CONNECTION_DISCONNECTED = "connection.disconnected"


def _event_key() -> str:
    return "evt_" + uuid.uuid4().hex


class Event(db.Model):
    """One fact, written in the transaction that made it. ``id`` is the feed's cursor:
    events of one workspace are written one after the other (``booking_events.record``
    holds a workspace lock), so a reader past an id never misses a later commit."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_workspace_cursor", "workspace_id", "id"),
        Index("ix_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the ``webhook-id`` of every delivery and replay of this event: receivers dedupe on it
    key: Mapped[str] = mapped_column(String(36), unique=True, default=_event_key)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(48))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EndpointState(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("state IN ('active', 'paused')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    #: space-separated event types it is subscribed to
    event_types: Mapped[str] = mapped_column(String(500))
    # Signing secrets, encrypted like Zoom's tokens; the previous one signs too until it expires.
    secret_enc: Mapped[str] = mapped_column(Text)
    previous_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default=EndpointState.ACTIVE.value)
    paused_reason: Mapped[str | None] = mapped_column(String(300))
    #: the first failed attempt since the last delivered one: failing for days pauses it
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def types(self) -> list[str]:
        return self.event_types.split()

    @property
    def active(self) -> bool:
        return self.state == EndpointState.ACTIVE


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the last attempt; Replay sends it again

    #: deliveries that hold back later ones of the same endpoint and booking
    OPEN = enum.nonmember(frozenset({"queued", "running"}))


class WebhookDelivery(db.Model):
    """One event to one endpoint (a replay adds another, with the same event key)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "booking_id", "id"),
        CheckConstraint("state IN ('queued', 'running', 'delivered', 'dead')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    #: the event's booking (0: none): deliveries of one endpoint and booking go in order
    booking_id: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()


class DeliveryAttempt(db.Model):
    """One POST to an endpoint, as the delivery log shows it."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    delivered: Mapped[bool]
    status_code: Mapped[int | None]
    latency_ms: Mapped[int]
    #: the first characters of the answer, as text
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    delivery: Mapped[WebhookDelivery] = relationship()
