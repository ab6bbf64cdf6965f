"""Signed-in sessions, kept on the server so that signing out (anywhere) really ends them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.models.accounts import User
from dashboard.orm import utcnow


class UserSession(db.Model):
    """One sign-in on one device. The cookies carry a random token naming it; this row keeps
    only the token's hash, so a copy of the table signs nobody in."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 suffices: tokens are 256-bit random, so there is nothing to brute-force.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remembered: Mapped[bool] = mapped_column(default=False)
    # "Firefox on Linux": enough to tell one's devices apart, not a fingerprint.
    device: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()
