"""A bulk action an operator started (from the sync health page, or on the bookings they
ticked in the bookings table), and how far it has got."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.orm import utcnow


class BulkJobKind(enum.StrEnum):
    RETRY_FAILED = "retry_failed"
    RESYNC_UPCOMING = "resync_upcoming"
    # The bookings an operator ticked in the bookings table.
    RETRY_SELECTED = "retry_selected"
    RESYNC_SELECTED = "resync_selected"
    CANCEL_SELECTED = "cancel_selected"


class BulkJob(db.Model):
    """The bookings it covers are fixed when it starts (``booking_ids``): it never does more
    than the operator was shown before confirming."""

    __tablename__ = "bulk_jobs"
    __table_args__ = (
        Index("ix_bulk_jobs_workspace_id_id", "workspace_id", "id"),
        Index("ix_bulk_jobs_unfinished", "finished_at", "id"),
        CheckConstraint("kind IN ('retry_failed', 'resync_upcoming', 'retry_selected', "
                        "'resync_selected', 'cancel_selected')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    booking_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(default=0)
    # Items handed to a worker (a compare-and-set on it claims the next chunk) and how
    # those ended: done + errors reaches total when the job is over.
    claimed: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # What the confirmation showed: {host label: [uses, remaining]} of Zoom's daily cap.
    budget: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def processed(self) -> int:
        return self.done + self.errors

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.processed * 100 // self.total
