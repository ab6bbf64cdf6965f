"""Workspaces, the people who sign in, and what each may do in each workspace."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.extensions import db
from dashboard.orm import utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    SUPPORT = "support"


class Permission(enum.StrEnum):
    """What a route needs; ``Membership.can`` is the one place that maps roles to these."""

    VIEW = "view"  # bookings, sync health, integration state
    OPERATE = "operate"  # fix bookings: retry, reschedule, cancel, re-sync
    MANAGE_INTEGRATIONS = "manage_integrations"  # connect and disconnect Zoom, meeting defaults
    MANAGE_WORKSPACE = "manage_workspace"  # members and API keys
    VIEW_AUDIT = "view_audit"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset({Permission.VIEW, Permission.OPERATE}),
    Role.SUPPORT: frozenset({Permission.VIEW, Permission.VIEW_AUDIT}),
}


class Workspace(db.Model):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="workspace", cascade="all, delete-orphan")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan")

    # The server-side session this request runs under (``services.user_sessions`` sets it):
    # Flask-Login keeps its token in the cookies instead of the user id, so that ending the
    # session on the server signs a copied cookie out too. Not a column.
    session_token = None
    session_id = None

    def get_id(self) -> str:
        """What the session and remember cookies carry: the session's token, never the id."""
        if not self.session_token:
            raise RuntimeError("sign users in through services.user_sessions.start")
        return self.session_token

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.active

    def set_password(self, password: str) -> None:
        """Store a scrypt hash (Werkzeug's default KDF) of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "workspace_id"),
        CheckConstraint("role IN ('admin', 'operator', 'support')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # Only meaningful for operators: admins always manage integrations, support never does.
    manages_integrations: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    workspace: Mapped[Workspace] = relationship(back_populates="memberships")

    def can(self, permission: Permission) -> bool:
        """Whether this member may do what ``permission`` names in this workspace."""
        role = Role(self.role)
        if permission is Permission.MANAGE_INTEGRATIONS and role is Role.OPERATOR:
            return self.manages_integrations
        return permission in ROLE_PERMISSIONS[role]
