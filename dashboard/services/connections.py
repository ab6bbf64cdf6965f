"""Connecting a workspace to Zoom, keeping the link, and ending it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from dashboard import token_cipher
from dashboard.access import membership_in
from dashboard.extensions import db
from dashboard.models import (
    ConnectionStatus,
    OAuthState,
    Permission,
    User,
    Workspace,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import ServiceError, outbox
from dashboard.services.audit import Actor, record
from dashboard.zoom.client import ZoomClient
from dashboard.zoom.errors import InvalidGrant, ZoomError, ZoomUnavailable
from dashboard.zoom.tokens import store_tokens, wipe_tokens
from dashboard.zoom.wiring import SCOPES

log = logging.getLogger(__name__)
STATE_LIFETIME = timedelta(minutes=10)
MARKETPLACE_REASON = "Removed in the Zoom App Marketplace"


class ConnectError(ServiceError):
    """Connecting failed; nothing was stored. The message is for the person connecting."""


def zoom_client() -> ZoomClient:
    return current_app.extensions["zoom_client"]


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def connection_of(workspace: Workspace) -> ZoomConnection | None:
    return db.session.scalar(
        select(ZoomConnection).where(ZoomConnection.workspace_id == workspace.id))


def start_connect(workspace: Workspace, user: User) -> str:
    """Remember a one-time state bound to ``user`` and ``workspace``; return Zoom's consent URL."""
    request = zoom_client().authorization_request(current_app.config["ZOOM_REDIRECT_URI"], SCOPES)
    now = utcnow()
    db.session.add(OAuthState(
        state_hash=_hash(request.state), user_id=user.id, workspace_id=workspace.id,
        code_verifier_enc=token_cipher.encrypt(request.code_verifier),
        expires_at=now + STATE_LIFETIME))
    record(workspace.id, Actor.of_user(user), "zoom.connect_started")
    db.session.commit()
    return request.url


def _claim_state(state: str | None, user: User) -> OAuthState:
    """The pending Connect this callback belongs to, used up so it cannot be replayed."""
    pending = db.session.scalar(select(OAuthState).where(
        OAuthState.state_hash == _hash(state or "")).with_for_update()) if state else None
    if (pending is None or pending.used_at is not None or pending.user_id != user.id
            or pending.expires_at <= utcnow()):
        db.session.rollback()
        raise ConnectError("This Zoom sign-in is no longer valid (it expired, was already used, "
                           "or was started by someone else). Start again with Connect.",
                           "state", 400)
    pending.used_at = utcnow()
    db.session.commit()
    return pending


def complete_connect(user: User, state: str | None, code: str | None,
                     error: str | None) -> ZoomConnection:
    """Finish a Connect from Zoom's redirect. Raises ConnectError, storing nothing, on failure."""
    pending = _claim_state(state, user)
    workspace = db.session.get(Workspace, pending.workspace_id)
    membership = membership_in(user, workspace.id)
    if membership is None or not membership.can(Permission.MANAGE_INTEGRATIONS):
        raise ConnectError("You may no longer connect Zoom for this workspace.", None, 403)
    if error or not code:
        record(workspace.id, Actor.of_user(user), "zoom.connect_denied", error=error or "no code")
        db.session.commit()
        raise ConnectError("Zoom access was not allowed (Deny was chosen at Zoom), so nothing "
                           "was connected.", None, 400)
    client = zoom_client()
    try:
        tokens = client.exchange_code(code, current_app.config["ZOOM_REDIRECT_URI"],
                                      token_cipher.decrypt(pending.code_verifier_enc))
        me = client.get_me(tokens.access_token)
    except InvalidGrant as exc:
        raise ConnectError("Zoom refused the authorization (the code expired or was already "
                           "used). Nothing was stored; connect again.", None, 400) from exc
    except ZoomUnavailable as exc:
        raise ConnectError("Zoom did not answer. Nothing was stored; try Connect again in a "
                           "minute.", None, 502) from exc
    except ZoomError as exc:
        raise ConnectError(f"Zoom refused the connection: {exc}. Nothing was stored.",
                           None, 502) from exc
    return _save_connection(workspace, user, tokens, me)


def _save_connection(workspace: Workspace, user: User, tokens, me: dict) -> ZoomConnection:
    zoom_user_id = str(me.get("id") or "")
    elsewhere = db.session.scalar(select(ZoomConnection).where(
        ZoomConnection.zoom_user_id == zoom_user_id,
        ZoomConnection.workspace_id != workspace.id,
        ZoomConnection.status != ConnectionStatus.DISCONNECTED))
    if elsewhere is not None:
        # Zoom gives one grant per user and app: a second workspace would share (and rotate)
        # the first one's tokens. Nothing is revoked, since that would cut the other off too.
        raise ConnectError(f"The Zoom account {me.get('email')} is already connected to another "
                           "Lakesis workspace. Disconnect it there first, or connect a "
                           "different Zoom user.", None, 409)
    connection = connection_of(workspace) or ZoomConnection(workspace_id=workspace.id)
    now = utcnow()
    reconnect = connection.status == ConnectionStatus.NEEDS_REAUTH
    connection.status = ConnectionStatus.CONNECTED.value
    connection.zoom_user_id = zoom_user_id
    connection.zoom_account_id = str(me.get("account_id") or "") or None
    connection.zoom_email = me.get("email")
    connection.scopes = " ".join(tokens.scopes) or None
    store_tokens(connection, tokens, now)
    connection.connected_by_id, connection.connected_at = user.id, now
    connection.status_reason, connection.status_changed_at = None, now
    connection.last_error = connection.last_error_at = None
    db.session.add(connection)
    db.session.flush()
    record(workspace.id, Actor.of_user(user),
           "zoom.reconnected" if reconnect else "zoom.connected",
           ("zoom_connection", connection.id, "Zoom"),
           scopes=connection.scopes)
    outbox.resume_waiting(workspace.id)
    db.session.commit()
    return connection


@dataclass(frozen=True)
class DisconnectResult:
    revoked: bool
    revoke_error: str | None


def disconnect(workspace: Workspace, user: User) -> DisconnectResult:
    """Revoke at Zoom (best effort), wipe the tokens, and mark the link disconnected."""
    connection = connection_of(workspace)
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        raise ServiceError("Zoom is not connected.", None, 409)
    revoke_error = None
    token = connection.access_token_enc or connection.refresh_token_enc
    if token:
        try:
            zoom_client().revoke(token_cipher.decrypt(token))
        except ZoomError as exc:
            revoke_error = f"Zoom did not confirm the revocation: {exc}"[:500]
            log.warning("revoking the Zoom grant of workspace %s failed: %s", workspace.id, exc)
    now = utcnow()
    wipe_tokens(connection)
    connection.status = ConnectionStatus.DISCONNECTED.value
    connection.status_reason = f"Disconnected by {user.email}"[:200]
    connection.status_changed_at = now
    connection.last_error = revoke_error
    connection.last_error_at = now if revoke_error else None
    record(workspace.id, Actor.of_user(user), "zoom.disconnected",
           ("zoom_connection", connection.id, "Zoom"),
           revoked_at_zoom=revoke_error is None and token is not None,
           revoke_error=revoke_error)
    db.session.commit()
    return DisconnectResult(revoked=revoke_error is None, revoke_error=revoke_error)


def deauthorize(zoom_user_id: str | None, zoom_account_id: str | None, keep_user_data: bool,
                not_connected_after: datetime | None = None) -> list[int]:
    """Zoom says the app was removed: stop using the grant and forget the Zoom user's data.

    Returns the ids of the workspaces affected. No revoke call: the grant is already gone.
    A connection made after ``not_connected_after`` (a late event) is left alone. Changes
    join the caller's transaction.
    """
    if not zoom_user_id:
        return []
    query = select(ZoomConnection).where(ZoomConnection.zoom_user_id == zoom_user_id)
    if zoom_account_id:
        query = query.where(ZoomConnection.zoom_account_id == zoom_account_id)
    affected = []
    for connection in db.session.scalars(query.with_for_update()):
        if (not_connected_after and connection.connected_at
                and connection.connected_at > not_connected_after):
            continue
        now = utcnow()
        record(connection.workspace_id, Actor.zoom(), "zoom.deauthorized",
               ("zoom_connection", connection.id, "Zoom"), user_data_retained=keep_user_data)
        wipe_tokens(connection)
        connection.status = ConnectionStatus.DISCONNECTED.value
        connection.status_reason = MARKETPLACE_REASON
        connection.status_changed_at = now
        if not keep_user_data:
            connection.zoom_user_id = connection.zoom_account_id = None
            connection.zoom_email = connection.scopes = None
        affected.append(connection.workspace_id)
    return affected
