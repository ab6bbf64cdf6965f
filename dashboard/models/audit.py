"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.orm import utcnow

ACTOR_TYPES = ("user", "api_key", "zoom", "system")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_workspace_id_id", "workspace_id", "id"),
        CheckConstraint("actor_type IN ('user', 'api_key', 'zoom', 'system')", name="actor_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    # Kept as text so the trail still reads right after the actor is deleted.
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    target_label: Mapped[str | None] = mapped_column(String(254))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewriting_history(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise PermissionError("audit events are append-only")
