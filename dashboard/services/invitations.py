"""Invitations: how people join a workspace. The admin gets a one-time link to share; the
person accepts it (signing in, or choosing a name and password if they are new).

An admin learns nothing about an address outside the workspace: inviting answers the same
whether or not it has an account, and no one's name is shown before they accept. A token
is stored only as a hash, works once, for ``INVITATION_LASTS``, and is never logged.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.extensions import db
from dashboard.models import Invitation, Membership, Role, User, Workspace
from dashboard.orm import utcnow
from dashboard.services import NotFound, ServiceError
from dashboard.services.audit import Actor, record
from dashboard.services.members import create_user, normalize_email
from dashboard.services.unit_of_work import transaction

INVITATION_LASTS = timedelta(days=7)
_MAX_TOKEN = 100
ALREADY_INVITED = ("This address is already invited. Revoke the waiting invitation to make "
                   "a new link.")


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # goes into the link, shown to the admin once, never stored


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _open_for(workspace_id: int, email: str) -> tuple[ColumnElement[bool], ...]:
    return (Invitation.workspace_id == workspace_id, Invitation.email == email,
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))


def invite(workspace: Workspace, actor: Actor, email: str, role: Role,
           invited_by_id: int | None) -> IssuedInvitation:
    """Make an invitation for ``email``; the caller shows ``token``'s link once.

    Refused when the address is already a member here or already invited (one open
    invitation per address: parallel adds make one, the others get this refusal).
    """
    email = normalize_email(email)
    already_member = db.session.scalar(select(Membership.id).join(Membership.user).where(
        Membership.workspace_id == workspace.id, User.email == email))
    if already_member:
        raise ServiceError("This person is already a member of the workspace.", "email", 409)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    try:
        with transaction():
            # An expired invitation waits for nobody: close it, so a new one may be made.
            db.session.execute(update(Invitation).where(
                *_open_for(workspace.id, email), Invitation.expires_at <= now)
                .values(revoked_at=now))
            invitation = Invitation(
                workspace_id=workspace.id, email=email, role=role.value,
                token_hash=_hash(token), invited_by_id=invited_by_id, created_at=now,
                expires_at=now + INVITATION_LASTS)
            db.session.add(invitation)
            db.session.flush()  # the open-invitation index refuses a second one here
            record(workspace.id, actor, "member.invited", ("invitation", invitation.id, email),
                   role=role.value)
    except IntegrityError:
        raise ServiceError(ALREADY_INVITED, "email", 409) from None
    return IssuedInvitation(invitation, token)


def waiting(workspace: Workspace) -> list[Invitation]:
    """Invitations of ``workspace`` neither accepted nor revoked (expired ones too), newest
    first."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.workspace_id == workspace.id,
                                 Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())))


def revoke(workspace: Workspace, actor: Actor, invitation_id: int) -> Invitation:
    """Revoke a waiting invitation: its link stops working."""
    with transaction():
        invitation = db.session.get(Invitation, invitation_id)
        if (invitation is None or invitation.workspace_id != workspace.id
                or invitation.accepted_at is not None):
            raise NotFound("invitation")
        if invitation.revoked_at is None:
            invitation.revoked_at = utcnow()
            record(workspace.id, actor, "invitation.revoked",
                   ("invitation", invitation.id, invitation.email))
    return invitation


def open_invitation(token: str | None) -> Invitation | None:
    """The invitation ``token`` names, if it may still be accepted."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.token_hash == _hash(token)))
    return invitation if invitation is not None and invitation.is_open(utcnow()) else None


def _claim(token: str, now: datetime) -> Invitation:
    """Mark the invitation accepted, if it is still open: one conditional update, so that a
    token is used once even by parallel requests. The caller's transaction commits it."""
    if not token or len(token) > _MAX_TOKEN:
        raise NotFound("invitation")
    claimed = db.session.scalar(
        update(Invitation).where(Invitation.token_hash == _hash(token),
                                 Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None),
                                 Invitation.expires_at > now)
        .values(accepted_at=now).returning(Invitation.id))
    if claimed is None:
        raise NotFound("invitation")
    return db.session.get_one(Invitation, claimed, populate_existing=True)


def _join(invitation: Invitation, user: User, actor: Actor) -> Membership:
    record(invitation.workspace_id, actor, "invitation.accepted",
           ("invitation", invitation.id, invitation.email))
    membership = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.workspace_id == invitation.workspace_id))
    if membership is None:  # not already joined some other way
        membership = Membership(user_id=user.id, workspace_id=invitation.workspace_id,
                                role=invitation.role)
        db.session.add(membership)
        db.session.flush()
        record(invitation.workspace_id, actor, "member.added",
               ("member", membership.id, user.email), role=invitation.role,
               invitation_id=invitation.id)
    return membership


def accept(token: str, user: User) -> Membership:
    """``user`` accepts the invitation ``token`` names; it must be for their address."""
    with transaction():
        invitation = _claim(token, utcnow())
        if invitation.email != user.email:
            raise ServiceError("This invitation is for another address.", None, 403)
        return _join(invitation, user, Actor.of_user(user))


def accept_with_new_account(token: str, name: str, password: str) -> Membership:
    """Someone new to Lakesis accepts: their account is made with the invitation's address
    (the link is the proof that they may use it) and joins the workspace."""
    try:
        with transaction():
            invitation = _claim(token, utcnow())
            if db.session.scalar(select(User.id).where(User.email == invitation.email)):
                raise ServiceError("This address already has a Lakesis account: sign in to "
                                   "accept the invitation.", None, 409)
            user = create_user(invitation.email, name, password)
            actor = Actor.of_user(user)
            record(invitation.workspace_id, actor, "account.created",
                   ("user", user.id, user.email))
            return _join(invitation, user, actor)
    except IntegrityError:  # the same address signed up a moment ago
        raise ServiceError("This address already has a Lakesis account: sign in to accept "
                           "the invitation.", None, 409) from None
