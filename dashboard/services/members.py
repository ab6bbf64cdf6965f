"""Who belongs to a workspace, in which role. Every change is audited.

People join through an invitation they accept (``services.invitations``); the last-admin
rule holds under concurrency because every admin change takes the workspace's lock first.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from dashboard.extensions import db
from dashboard.models import Membership, Role, User, Workspace
from dashboard.services import NotFound, ServiceError, user_sessions
from dashboard.services.audit import Actor, record
from dashboard.services.unit_of_work import transaction

MIN_PASSWORD_LENGTH = 12


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, name: str, password: str) -> User:
    """Add a user account (not yet in any workspace); the caller commits."""
    email = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            f"Use at least {MIN_PASSWORD_LENGTH} characters for the password.", "password")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ServiceError("A user with this email already exists.", "email", status=409)
    user = User(email=email, name=name.strip() or email)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def list_members(workspace: Workspace) -> list[Membership]:
    query = (select(Membership).join(Membership.user)
             .where(Membership.workspace_id == workspace.id).order_by(User.email))
    return list(db.session.scalars(query))


def get_member(workspace: Workspace, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.workspace_id != workspace.id:
        raise NotFound("member")
    return membership


def lock_workspace(workspace_id: int) -> None:
    """Make changes to one workspace's members take turns, until the transaction ends.

    PostgreSQL locks the workspace row. SQLite has no row locks: writing the row takes the
    database's write lock first, so writers serialize, and what is read after it includes
    every commit before it.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(Workspace).where(Workspace.id == workspace_id)
                           .values(slug=Workspace.slug))
    else:
        db.session.execute(select(Workspace.id).where(Workspace.id == workspace_id)
                           .with_for_update())


def _locked_member(workspace: Workspace, actor: Actor, membership_id: int) -> Membership:
    """The member as stored now, with the workspace locked (not as read before the lock).

    The acting user must still be an admin here: another admin may have demoted or removed
    them while their request waited for the lock.
    """
    lock_workspace(workspace.id)
    if actor.type == "user" and not db.session.scalar(select(Membership.id).where(
            Membership.workspace_id == workspace.id, Membership.user_id == actor.id,
            Membership.role == Role.ADMIN)):
        raise ServiceError("You are no longer an admin of this workspace.", None, 403)
    membership = db.session.scalar(
        select(Membership).where(Membership.id == membership_id)
        .execution_options(populate_existing=True))
    if membership is None or membership.workspace_id != workspace.id:
        raise NotFound("member")
    return membership


def _admin_count(workspace: Workspace) -> int:
    query = select(func.count()).select_from(Membership).where(
        Membership.workspace_id == workspace.id, Membership.role == Role.ADMIN)
    return db.session.scalar(query) or 0


def change_role(workspace: Workspace, actor: Actor, membership_id: int, role: Role) -> Membership:
    with transaction():
        membership = _locked_member(workspace, actor, membership_id)
        old = Role(membership.role)
        if old is role:
            return membership
        if old is Role.ADMIN and _admin_count(workspace) <= 1:
            raise ServiceError("The workspace needs at least one admin.", "role", 409)
        membership.role = role.value
        if role is not Role.OPERATOR:
            membership.manages_integrations = False
        record(workspace.id, actor, "member.role_changed",
               ("member", membership.id, membership.user.email), old=old.value, new=role.value)
    return membership


def set_manages_integrations(
    workspace: Workspace, actor: Actor, membership_id: int, allowed: bool
) -> Membership:
    """Grant or withdraw 'manage integrations' for an operator (admins always have it)."""
    with transaction():
        membership = _locked_member(workspace, actor, membership_id)
        if membership.role != Role.OPERATOR:
            raise ServiceError(
                "Only operators are granted this; admins always have it, support never.",
                "manages_integrations", 409)
        if membership.manages_integrations != allowed:
            membership.manages_integrations = allowed
            action = ("member.integrations_granted" if allowed
                      else "member.integrations_withdrawn")
            record(workspace.id, actor, action, ("member", membership.id, membership.user.email))
    return membership


def remove_member(workspace: Workspace, actor: Actor, membership_id: int) -> None:
    """Remove the member and end all their sessions: they are signed out everywhere at once
    (their other workspaces too; signing in again brings those back)."""
    with transaction():
        membership = _locked_member(workspace, actor, membership_id)
        if membership.role == Role.ADMIN and _admin_count(workspace) <= 1:
            raise ServiceError("The last admin cannot be removed.", None, 409)
        ended = user_sessions.end_all(membership.user_id)
        record(workspace.id, actor, "member.removed",
               ("member", membership.id, membership.user.email), role=membership.role,
               sessions_ended=ended)
        db.session.delete(membership)
