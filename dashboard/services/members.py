"""Who belongs to a workspace, in which role. Every change is audited."""

from __future__ import annotations

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Membership, Role, User, Workspace
from dashboard.services import NotFound, ServiceError
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


def _admin_count(workspace: Workspace) -> int:
    query = select(func.count()).select_from(Membership).where(
        Membership.workspace_id == workspace.id, Membership.role == Role.ADMIN)
    return db.session.scalar(query) or 0


def add_member(
    workspace: Workspace, actor: Actor, email: str, name: str, role: Role, password: str | None
) -> Membership:
    """Add an existing user, or a new one with a first password, to ``workspace``."""
    email = normalize_email(email)
    with transaction():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            if not password:
                raise ServiceError(
                    "This person has no Lakesis account yet: give them a first password.",
                    "password")
            user = create_user(email, name, password)
        elif db.session.scalar(select(Membership.id).where(
                Membership.user_id == user.id, Membership.workspace_id == workspace.id)):
            raise ServiceError("This person is already a member of the workspace.", "email",
                               409)
        membership = Membership(user=user, workspace=workspace, role=role.value)
        db.session.add(membership)
        db.session.flush()
        record(workspace.id, actor, "member.added", ("member", membership.id, email),
               role=role.value)
    return membership


def change_role(workspace: Workspace, actor: Actor, membership_id: int, role: Role) -> Membership:
    with transaction():
        membership = get_member(workspace, membership_id)
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
        membership = get_member(workspace, membership_id)
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
    with transaction():
        membership = get_member(workspace, membership_id)
        if membership.role == Role.ADMIN and _admin_count(workspace) <= 1:
            raise ServiceError("The last admin cannot be removed.", None, 409)
        record(workspace.id, actor, "member.removed",
               ("member", membership.id, membership.user.email), role=membership.role)
        db.session.delete(membership)
