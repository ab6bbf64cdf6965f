"""Users and their memberships: the reads that signing in and every access check need."""

from __future__ import annotations

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Membership, User, Workspace
from dashboard.orm import utcnow
from dashboard.services.unit_of_work import transaction


def user_by_id(user_id: str) -> User | None:
    """The user a session cookie names (``user_id`` as the cookie holds it), or None."""
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def user_by_email(email: str) -> User | None:
    """The user with this (already normalized) email, or None."""
    return db.session.scalar(select(User).where(User.email == email))


def note_sign_in(user: User) -> None:
    with transaction():
        user.last_login_at = utcnow()


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships, by workspace name."""
    query = (select(Membership).join(Membership.workspace)
             .where(Membership.user_id == user.id).order_by(Workspace.name))
    return list(db.session.scalars(query))


def membership_in(user: User, workspace_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.workspace_id == workspace_id))
