"""One reconciliation pass of a workspace: when, how long, what it found, how it ended."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.orm import utcnow


class RunState(enum.StrEnum):
    QUEUED = "queued"  # asked for (the button); a worker runs it
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    STOPPED = "stopped"  # Zoom's rate limit, or no connection: the pass stopped early
    FAILED = "failed"

    OPEN = enum.nonmember(frozenset({"queued", "running"}))


class ReconcileRun(db.Model):
    __tablename__ = "reconcile_runs"
    __table_args__ = (
        Index("ix_reconcile_runs_workspace", "workspace_id", "id"),
        Index("ix_reconcile_runs_state", "state"),
        CheckConstraint("state IN ('queued', 'running', 'succeeded', 'stopped', 'failed')",
                        name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default=RunState.QUEUED.value)
    trigger: Mapped[str] = mapped_column(String(16))  # cli, worker, button
    requested_by: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    hosts_total: Mapped[int] = mapped_column(default=0)
    hosts_done: Mapped[int] = mapped_column(default=0)
    meetings_checked: Mapped[int] = mapped_column(default=0)
    zoom_calls: Mapped[int] = mapped_column(default=0)
    drift_found: Mapped[int] = mapped_column(default=0)
    deleted_found: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
