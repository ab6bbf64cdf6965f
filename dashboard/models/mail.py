"""Mail Lakesis sends: the outbox of messages, and each workspace's mail settings."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.orm import utcnow


class MailKind(enum.StrEnum):
    INVITATION = "invitation"  # the customer's invitation, or its update
    CANCELLATION = "cancellation"  # the customer's invitation, cancelled
    CONNECTION_ALERT = "connection_alert"  # admins: Zoom stopped working
    ENDPOINT_PAUSED = "endpoint_paused"  # admins: a webhook receiver was paused


class MailState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # leased by a worker; taken over once the lease expires
    SENT = "sent"
    FAILED = "failed"  # the SMTP server refused it for good
    DEAD = "dead"  # gave up after the last attempt

    FINISHED = enum.nonmember(frozenset({"sent", "failed", "dead"}))


class MailMessage(db.Model):
    """One email, written in the transaction of the change it tells of and sent by the
    worker. ``message_id`` is fixed here: a send whose outcome was lost goes again under
    the same Message-ID, so the receiving side can tell it is the same message."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        Index("ix_mail_messages_due", "state", "next_attempt_at"),
        CheckConstraint("kind IN ('invitation', 'cancellation', 'connection_alert', "
                        "'endpoint_paused')", name="kind"),
        CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed', 'dead')",
                        name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    #: what makes a second copy of this mail a duplicate (e.g. an invitation's SEQUENCE)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    #: the .ics attached, as it was when the mail was written
    calendar: Mapped[str | None] = mapped_column(Text)
    calendar_method: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=MailState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class WorkspaceMailSettings(db.Model):
    """A workspace's mail switches; no row means the defaults (customer email off)."""

    __tablename__ = "workspace_mail_settings"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    email_customers: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: when admins were last told Zoom stopped working (at most once a day)
    connection_alert_sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
