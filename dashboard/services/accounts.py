"""Users and their memberships: the reads that signing in and every access check need, and
what a person does to their own account (password, sessions)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from dashboard.extensions import db
from dashboard.models import Membership, User, Workspace
from dashboard.orm import utcnow
from dashboard.services import ServiceError, user_sessions
from dashboard.services.audit import Actor, record
from dashboard.services.members import MIN_PASSWORD_LENGTH
from dashboard.services.unit_of_work import transaction


def user_by_email(email: str) -> User | None:
    """The user with this (already normalized) email, or None."""
    return db.session.scalar(select(User).where(User.email == email))


def note_sign_in(user: User) -> None:
    with transaction():
        user.last_login_at = utcnow()


# Built once, as the session's query is: every signed-in request runs it. Each workspace's
# data version comes with it, for the page cache (``models.workspace_change``).
_MEMBERSHIPS = (select(Membership).join(Membership.workspace)
                .options(contains_eager(Membership.workspace).undefer(Workspace.data_version))
                .where(Membership.user_id == bindparam("user_id")).order_by(Workspace.name))


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships, by workspace name, each with its workspace (every page shows
    it: loading it in the same query spares a query a membership on every request)."""
    return list(db.session.scalars(_MEMBERSHIPS, {"user_id": user.id}))


def membership_in(user: User, workspace_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.workspace_id == workspace_id))


def change_password(user: User, current: str, new: str, this_session_id: int | None) -> int:
    """Set a new password when ``current`` is right; every other session of the user ends
    (whoever knew the old password is signed out). Returns how many sessions ended."""
    if not user.check_password(current):
        raise ServiceError("Your current password is not right.", "current_password", 401)
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            f"Use at least {MIN_PASSWORD_LENGTH} characters for the password.", "new_password")
    with transaction():
        user.set_password(new)
        ended = user_sessions.end_all(user.id, keep_id=this_session_id)
        record(None, Actor.of_user(user), "account.password_changed",
               ("user", user.id, user.email), sessions_ended=ended)
    return ended


def sign_out_everywhere(user: User) -> int:
    """End every session of ``user``, this one too; returns how many ended."""
    with transaction():
        ended = user_sessions.end_all(user.id)
        record(None, Actor.of_user(user), "account.signed_out_everywhere",
               ("user", user.id, user.email), sessions_ended=ended)
    return ended
