"""Zoom's webhook events as received: stored first (deduplicated), applied after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.orm import utcnow


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"
    __table_args__ = (
        # The sync health page's window of recent events: matched to the workspace, or
        # (not applied yet) carrying its Zoom account's id. Only matched events: they
        # arrive unmatched, so the insert Zoom waits for does not write this index.
        # (Its leading column also serves the foreign key's ON DELETE SET NULL.)
        Index("ix_webhook_events_workspace_received", "workspace_id", "received_at",
              sqlite_where=text("workspace_id IS NOT NULL"),
              postgresql_where=text("workspace_id IS NOT NULL")),
        Index("ix_webhook_events_account_received", "zoom_account_id", "received_at"),
        # The worker's queue, oldest first: only the events not applied yet, so the index
        # stays the size of the queue and applying one takes it out.
        Index("ix_webhook_events_pending", "id", sqlite_where=text("processed_at IS NULL"),
              postgresql_where=text("processed_at IS NULL")),
    )
    # No other index: each one is written by every insert while Zoom waits for the answer.

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    event_ts: Mapped[int | None] = mapped_column(BigInteger)  # Zoom's, in milliseconds
    # sha256 of the raw body: Zoom's retries resend the same bytes.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    zoom_account_id: Mapped[str | None] = mapped_column(String(64))
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL"))
    # Only what applying needs: ids, times and statuses, never hosts' keys or user data.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(200))
