"""Connecting a workspace to Zoom, keeping the link, and ending it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from dashboard import token_cipher
from dashboard.extensions import db, zoom
from dashboard.models import (
    ConnectionStatus,
    Meeting,
    MeetingStatus,
    OAuthState,
    Permission,
    User,
    WebhookEvent,
    Workspace,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import ServiceError, connection_events, outbox
from dashboard.services.accounts import membership_in
from dashboard.services.audit import Actor, record
from dashboard.services.zoom_tokens import mark_needs_reauth, store_tokens, wipe_tokens
from dashboard.zoom.client import TokenSet
from dashboard.zoom.errors import InvalidGrant, ZoomError, ZoomUnavailable
from dashboard.zoom.extension import SCOPES, missing_scopes
from dashboard.zoom.webhooks import mentions_user, without_user_data

log = logging.getLogger(__name__)
STATE_LIFETIME = timedelta(minutes=10)
MARKETPLACE_REASON = "Removed in the Zoom App Marketplace"
LINK_FORGOTTEN = ("The Zoom link was deleted: Lakesis was removed from the Zoom App Marketplace "
                  "and Zoom asked it to delete the Zoom user's data. Reconnect Zoom, then "
                  "Retry to make a new meeting.")
REVOKE_MARGIN = timedelta(minutes=1)


class ConnectError(ServiceError):
    """Connecting failed; nothing was stored. The message is for the person connecting."""


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def connection_of(workspace: Workspace) -> ZoomConnection | None:
    return db.session.scalar(
        select(ZoomConnection).where(ZoomConnection.workspace_id == workspace.id))


def start_connect(workspace: Workspace, user: User) -> str:
    """Remember a one-time state bound to ``user`` and ``workspace``; return Zoom's consent URL."""
    request = zoom.client.authorization_request(current_app.config["ZOOM_REDIRECT_URI"], SCOPES)
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


@dataclass(frozen=True)
class Connected:
    """A finished Connect, and what the person connecting must be told."""

    connection: ZoomConnection
    #: the Zoom user was connected to another workspace, whose grant Zoom has now revoked
    took_over: bool = False
    #: scopes Lakesis needs that Zoom did not grant (the app registration lacks them)
    missing_scopes: tuple[str, ...] = ()


def complete_connect(user: User, state: str | None, code: str | None,
                     error: str | None) -> Connected:
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
    client = zoom.client
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


def connect_with_grant(workspace: Workspace, user: User, tokens: TokenSet, me: dict
                       ) -> Connected:
    """Store a grant obtained outside the browser's consent (``flask seed-demo`` asks the
    in-process sandbox for one): the same record, audit and resumption as a Connect."""
    return _save_connection(workspace, user, tokens, me)


def _save_connection(workspace: Workspace, user: User, tokens: TokenSet, me: dict) -> Connected:
    zoom_user_id = str(me.get("id") or "")
    # Zoom keeps one grant per user and app: the code exchange has already revoked the grant
    # another workspace held for this Zoom user (OAuth error 4741). The newest grant is the
    # only one that works, so it is kept, and the other workspace is told it must reconnect.
    others = list(db.session.scalars(select(ZoomConnection).where(
        ZoomConnection.zoom_user_id == zoom_user_id, ZoomConnection.workspace_id != workspace.id,
        ZoomConnection.status == ConnectionStatus.CONNECTED)))
    for other in others:
        _lose_to_newer_grant(other, me)
    connection = connection_of(workspace) or ZoomConnection(workspace_id=workspace.id)
    now = utcnow()
    reconnect = connection.status == ConnectionStatus.NEEDS_REAUTH
    connection.status = ConnectionStatus.CONNECTED.value
    connection.zoom_user_id = zoom_user_id
    connection.zoom_account_id = str(me.get("account_id") or "") or None
    connection.zoom_email = me.get("email")
    connection.zoom_name = _name_of(me)
    connection.scopes = " ".join(tokens.scopes) or None
    missing = missing_scopes(tokens.scopes)
    connection.missing_scopes = " ".join(missing) or None
    store_tokens(connection, tokens, now)
    connection.connected_by_id, connection.connected_at = user.id, now
    connection.status_reason, connection.status_changed_at = None, now
    connection.last_error = connection.last_error_at = None
    db.session.add(connection)
    db.session.flush()
    record(workspace.id, Actor.of_user(user),
           "zoom.reconnected" if reconnect else "zoom.connected",
           ("zoom_connection", connection.id, "Zoom"),
           scopes=connection.scopes, took_over_another_workspace=bool(others) or None,
           missing_scopes=connection.missing_scopes)
    outbox.resume_waiting(workspace.id)
    db.session.commit()
    return Connected(connection, bool(others), missing)


def _lose_to_newer_grant(other: ZoomConnection, me: dict) -> None:
    """``other`` lost its grant at Zoom when its Zoom user authorized Lakesis again for
    another workspace; it must not look connected. Audited in ``other``'s workspace."""
    mark_needs_reauth(other, f"The Zoom user {me.get('email') or other.zoom_email} authorized "
                             "Lakesis for another workspace, and Zoom keeps only the newest "
                             "authorization. Reconnect with this workspace's own Zoom user.")


@dataclass(frozen=True)
class DisconnectResult:
    revoked: bool
    revoke_error: str | None


def disconnect(workspace: Workspace, user: User) -> DisconnectResult:
    """Mark the link disconnected and wipe the tokens, then revoke at Zoom (best effort).

    The connection is disconnected before the revoke is sent: revoking uninstalls the app,
    and Zoom's ``app_deauthorized`` that follows (even while the revoke is still being
    answered) must find a workspace already disconnected, not one to disconnect again.
    """
    connection = connection_of(workspace)
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        raise ServiceError("Zoom is not connected.", None, 409)
    sealed = _working_token(connection)
    token = token_cipher.decrypt(sealed) if sealed else None
    now = utcnow()
    wipe_tokens(connection)
    connection.status = ConnectionStatus.DISCONNECTED.value
    connection.status_reason = f"Disconnected by {user.email}"[:200]
    connection.status_changed_at = now
    connection.last_error = connection.last_error_at = None
    connection_events.disconnected(workspace.id, "Disconnected from the Lakesis dashboard "
                                   "by a workspace admin.")
    db.session.commit()
    revoke_error = None
    if token:
        try:
            zoom.client.revoke(token)
        except ZoomError as exc:
            revoke_error = f"Zoom did not confirm the revocation: {exc}"[:500]
            log.warning("revoking the Zoom grant of workspace %s failed: %s", workspace.id, exc)
    connection = db.session.get(ZoomConnection, connection.id, populate_existing=True)
    if revoke_error:
        connection.last_error, connection.last_error_at = revoke_error, utcnow()
    record(workspace.id, Actor.of_user(user), "zoom.disconnected",
           ("zoom_connection", connection.id, "Zoom"),
           revoked_at_zoom=revoke_error is None and token is not None,
           revoke_error=revoke_error)
    db.session.commit()
    return DisconnectResult(revoked=revoke_error is None, revoke_error=revoke_error)


def _working_token(connection: ZoomConnection) -> str | None:
    """The token a revoke should carry: Zoom may refuse an expired access token, while the
    refresh token stays good until it is used."""
    expires = connection.access_expires_at
    if connection.access_token_enc and expires and expires - REVOKE_MARGIN > utcnow():
        return connection.access_token_enc
    return connection.refresh_token_enc or connection.access_token_enc


def deauthorize(zoom_user_id: str | None, zoom_account_id: str | None, keep_user_data: bool,
                not_connected_after: datetime | None = None) -> list[int]:
    """Zoom says the app was removed: stop using the grant and forget the Zoom user's data.

    Returns the ids of the workspaces whose connection this ended. No revoke call: the
    grant is already gone. A connection made after ``not_connected_after`` (a late event) is
    left alone; one already disconnected (our own Disconnect revokes, and Zoom then sends
    this event) changes quietly: only the data Zoom asks us to delete goes. Changes join the
    caller's transaction.
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
        if connection.status != ConnectionStatus.DISCONNECTED:
            record(connection.workspace_id, Actor.zoom(), "zoom.deauthorized",
                   ("zoom_connection", connection.id, "Zoom"), user_data_retained=keep_user_data)
            wipe_tokens(connection)
            connection.status = ConnectionStatus.DISCONNECTED.value
            connection.status_reason = MARKETPLACE_REASON
            connection.status_changed_at = utcnow()
            connection_events.disconnected(connection.workspace_id, MARKETPLACE_REASON)
            affected.append(connection.workspace_id)
        if not keep_user_data:
            _forget_zoom_user(connection)
    return affected


def _forget_webhook_events(connection: ZoomConnection) -> None:
    """The stored webhook events keep what Zoom sent about the user too: their ids go from
    the events of this workspace (those the worker has not applied yet included: they are
    this workspace's if they are about its meetings), and from any other event of the
    account that names them. The events stay (dedupe and the sync-health record), saying
    only what happened when."""
    user_id, account_id = connection.zoom_user_id, connection.zoom_account_id
    mine = WebhookEvent.workspace_id == connection.workspace_id
    query = select(WebhookEvent).where(
        or_(mine, WebhookEvent.zoom_account_id == account_id) if account_id else mine)
    meeting_ids = {str(i) for i in db.session.scalars(select(Meeting.zoom_meeting_id).where(
        Meeting.workspace_id == connection.workspace_id, Meeting.zoom_meeting_id.is_not(None)))}
    for event in db.session.scalars(query):
        payload = event.payload or {}
        pending_of_mine = (event.processed_at is None
                           and str((payload.get("object") or {}).get("id")) in meeting_ids)
        if event.workspace_id == connection.workspace_id or pending_of_mine or (
                user_id and mentions_user(payload, user_id)):
            event.payload = without_user_data(payload)
            event.zoom_account_id = None
            if pending_of_mine:
                event.workspace_id = connection.workspace_id


def _name_of(me: dict) -> str | None:
    """The name Zoom shows for the user, within the column (Zoom's fields are free text)."""
    name = str(me.get("display_name") or "").strip() or " ".join(
        str(me.get(part) or "").strip() for part in ("first_name", "last_name")).strip()
    return name[:120] or None


def _forget_zoom_user(connection: ZoomConnection) -> None:
    """Delete what Lakesis holds of the Zoom user: ids, email, and the meetings they hosted
    (Zoom counts meeting ids, links and passcodes as the user's data). Bookings keep their
    own history; each meeting says why its link is gone."""
    _forget_webhook_events(connection)
    connection.zoom_user_id = connection.zoom_account_id = None
    connection.zoom_email = connection.zoom_name = None
    connection.scopes = connection.missing_scopes = None
    held = (Meeting.workspace_id == connection.workspace_id, Meeting.zoom_meeting_id.is_not(None))
    live = (MeetingStatus.PENDING, MeetingStatus.SCHEDULED, MeetingStatus.STARTED)
    db.session.execute(update(Meeting).where(*held, Meeting.status.in_(live)).values(
        status=MeetingStatus.FAILED.value, last_error=LINK_FORGOTTEN))
    db.session.execute(update(Meeting).where(*held).values(
        zoom_meeting_id=None, zoom_uuid=None, join_url=None, start_url_enc=None,
        create_unconfirmed=False, note=LINK_FORGOTTEN))
