"""A workspace's link to one Zoom user: who, which scopes, and its (encrypted) tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.models.accounts import User, Workspace
from dashboard.orm import utcnow


class ConnectionStatus(enum.StrEnum):
    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"
    DISCONNECTED = "disconnected"


class ZoomConnection(db.Model):
    """One row per workspace; reconnecting reuses it, the audit log keeps the history."""

    __tablename__ = "zoom_connections"
    __table_args__ = (
        CheckConstraint("status IN ('connected', 'needs_reauth', 'disconnected')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ConnectionStatus.DISCONNECTED.value)
    zoom_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    zoom_account_id: Mapped[str | None] = mapped_column(String(64))
    zoom_email: Mapped[str | None] = mapped_column(String(254))
    # The Zoom user's name as Zoom shows it (display name, else first and last): what the
    # Integrations page calls the connection; forgotten with the email.
    zoom_name: Mapped[str | None] = mapped_column(String(120))
    scopes: Mapped[str | None] = mapped_column(String(500))
    # Scopes Zoom refused a call for (4711): the app registration lacks them, so only adding
    # them there and then reconnecting helps.
    missing_scopes: Mapped[str | None] = mapped_column(String(500))
    # Fernet tokens (dashboard.token_cipher); never shown, never logged.
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None]
    last_refreshed_at: Mapped[datetime | None]
    connected_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    connected_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    workspace: Mapped[Workspace] = relationship()
    connected_by: Mapped[User | None] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return (self.scopes or "").split()

    @property
    def missing_scope_list(self) -> list[str]:
        return (self.missing_scopes or "").split()

    def __repr__(self) -> str:  # tokens stay out of reprs and logs
        return f"<ZoomConnection workspace={self.workspace_id} {self.status}>"


class OAuthState(db.Model):
    """A Connect in progress: one-time, bound to who started it and where, short-lived."""

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    code_verifier_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
