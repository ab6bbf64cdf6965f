"""What Zoom holds that the booking does not: drift noticed, and what Lakesis last sent.

A drift is open until an operator picks a fix (or Zoom comes back in line by itself); an
open one flags its booking "needs attention". The sends let a ``meeting.updated`` that only
echoes our own change be told from a change someone made in Zoom.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.models.booking import Booking
from dashboard.orm import utcnow


class DriftKind(enum.StrEnum):
    CHANGED = "changed"  # time, duration, topic or passcode changed in Zoom
    DELETED = "deleted"  # the meeting was deleted in Zoom


class DriftSource(enum.StrEnum):
    WEBHOOK = "webhook"
    RECONCILE = "reconcile"


class DriftResolution(enum.StrEnum):
    KEPT_ZOOM = "kept_zoom"  # the booking took Zoom's values
    RESTORED = "restored"  # the booking's values pushed back to Zoom
    RECREATED = "recreated"  # a new meeting for a deleted one
    IN_LINE = "in_line"  # Zoom came back to the booking's values by itself
    SUPERSEDED = "superseded"  # the booking changed or was cancelled since


class MeetingDrift(db.Model):
    __tablename__ = "meeting_drifts"
    __table_args__ = (
        Index("ix_meeting_drifts_booking", "booking_id", "resolved_at"),
        Index("ix_meeting_drifts_workspace_open", "workspace_id", "resolved_at"),
        CheckConstraint("kind IN ('changed', 'deleted')", name="kind"),
        CheckConstraint("detected_by IN ('webhook', 'reconcile')", name="detected_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    zoom_meeting_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    #: field -> {"old": the booking's value, "new": Zoom's}; times as ISO text. A passcode
    #: is never kept: {"old": null, "new": "changed"}.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    detected_by: Mapped[str] = mapped_column(String(16))
    zoom_operator: Mapped[str | None] = mapped_column(String(64))  # Zoom user id, if told
    #: the join link the deleted meeting had (a recreation gets a new one)
    old_join_url: Mapped[str | None] = mapped_column(String(500))
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by: Mapped[str | None] = mapped_column(String(254))

    booking: Mapped[Booking] = relationship()

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class MeetingSend(db.Model):
    """The values of one create or update Lakesis sent, and when (kept for the echo window)."""

    __tablename__ = "meeting_sends"
    __table_args__ = (Index("ix_meeting_sends_meeting", "meeting_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: start_time (Zoom's UTC text), duration, topic, timezone, as in the request body
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
