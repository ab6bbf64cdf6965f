"""Bookings from the Lakesis workflow, and the Zoom meeting each one has."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.models import booking_search
from dashboard.models.accounts import Workspace
from dashboard.orm import utcnow


class BookingState(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class MeetingStatus(enum.StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    STARTED = "started"
    ENDED = "ended"
    CANCELLED = "cancelled"
    FAILED = "failed"
    WAITING_FOR_CONNECTION = "waiting_for_connection"
    DELETED_IN_ZOOM = "deleted_in_zoom"


def _public_id() -> str:
    return uuid.uuid4().hex


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_ref"),
        Index("ix_bookings_workspace_start", "workspace_id", "start_at", "id"),
        CheckConstraint("state IN ('active', 'cancelled')", name="state"),
        CheckConstraint("kind IN ('booking', 'consultation')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_ref: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="booking")
    title: Mapped[str] = mapped_column(String(200))
    start_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    host_email: Mapped[str | None] = mapped_column(String(254))
    customer_name: Mapped[str] = mapped_column(String(120))
    customer_email: Mapped[str] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(16), default=BookingState.ACTIVE.value)
    # sha256 of the creating request's canonical fields: the same body again is idempotent.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The customer's invitation (.ics): its SEQUENCE, and a digest of what it said when
    # that SEQUENCE was given (services.invitation); None until a join link existed.
    invitation_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    invitation_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    workspace: Mapped[Workspace] = relationship()
    meeting: Mapped[Meeting] = relationship(back_populates="booking", uselist=False,
                                            lazy="joined", innerjoin=True)


booking_search.install(db.metadata, Booking.__table__)


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_workspace_status", "workspace_id", "status"),
        # One Zoom meeting never belongs to two bookings (NULLs, no meeting yet, are many).
        # Per workspace: two Zoom accounts may reuse an id; zoom_meeting_id first serves the
        # webhooks' lookup by id alone.
        Index("ix_meetings_zoom_meeting_id", "zoom_meeting_id", "workspace_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(24), default=MeetingStatus.PENDING.value)
    zoom_meeting_id: Mapped[int | None] = mapped_column(BigInteger)
    zoom_uuid: Mapped[str | None] = mapped_column(String(64))
    join_url: Mapped[str | None] = mapped_column(String(500))
    # The host's key to the meeting: encrypted, never listed, never shown.
    start_url_enc: Mapped[str | None] = mapped_column(Text)
    synced_start_at: Mapped[datetime | None]
    synced_duration: Mapped[int | None]
    last_synced_at: Mapped[datetime | None]
    last_event_ts: Mapped[int | None] = mapped_column(BigInteger)  # newest webhook applied
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Zoom's code and x-zm-trackingid of the last failure: error_causes explains the code,
    # and the tracking id is what Zoom's support asks for.
    error_code: Mapped[str | None] = mapped_column(String(32))
    tracking_id: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(500))  # drift, recreation, parking
    recreated_count: Mapped[int] = mapped_column(default=0)
    # A recreation gives the meeting a new join link: the old one, and when it changed.
    previous_join_url: Mapped[str | None] = mapped_column(String(500))
    join_url_changed_at: Mapped[datetime | None]
    # Set before a create is sent; cleared once Zoom refused it, or once the meeting is
    # settled and later looks found no late copy (meeting_sync). While set, the next
    # attempt looks for the meeting (by its agenda marker) before creating another, and
    # copies carrying the marker that are not the booking's meeting are deleted.
    create_unconfirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="meeting")
