"""Hand out a valid Zoom access token for a workspace, refreshing it safely.

Zoom rotates refresh tokens: the first refresh kills the old token, so two processes that
refresh at once leave one of them holding a dead token. Refreshing therefore happens under
a row lock (``SELECT ... FOR UPDATE`` on PostgreSQL; a write transaction on SQLite), the row
is read again once the lock is held (someone else may have refreshed already), and the
rotated token is committed before anyone uses the new access token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update

from dashboard import metrics, token_cipher
from dashboard.extensions import db, zoom
from dashboard.models import ConnectionStatus, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services.audit import Actor, record
from dashboard.zoom.client import TokenSet, ZoomClient
from dashboard.zoom.errors import AccessTokenExpired, InvalidGrant, MissingScope, ZoomError

log = logging.getLogger(__name__)
T = TypeVar("T")
REFRESH_MARGIN = timedelta(minutes=5)


class NotConnected(Exception):
    """The workspace has no usable Zoom connection; work waits for a (re)connect."""

    def __init__(self, status: str, reason: str | None = None) -> None:
        super().__init__(reason or f"Zoom connection is {status}")
        self.status = status
        self.reason = reason


def store_tokens(connection: ZoomConnection, tokens: TokenSet, now: datetime) -> None:
    """Put freshly issued tokens on the row (encrypted); the caller commits."""
    connection.access_token_enc = token_cipher.encrypt(tokens.access_token)
    connection.refresh_token_enc = token_cipher.encrypt(tokens.refresh_token)
    connection.access_expires_at = tokens.expires_at
    connection.last_refreshed_at = now
    if tokens.scopes:
        connection.scopes = " ".join(tokens.scopes)


def wipe_tokens(connection: ZoomConnection) -> None:
    connection.access_token_enc = None
    connection.refresh_token_enc = None
    connection.access_expires_at = None


def mark_needs_reauth(connection: ZoomConnection, reason: str,
                      missing_scopes: Sequence[str] = ()) -> None:
    """Zoom no longer accepts our grant (or the app registration lacks ``missing_scopes``):
    park work until an admin reconnects. Audited."""
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        return
    connection.missing_scopes = " ".join(missing_scopes)[:500] or None
    connection.status = ConnectionStatus.NEEDS_REAUTH.value
    connection.status_reason = reason[:200]  # the columns' sizes: PostgreSQL enforces them
    connection.status_changed_at = utcnow()
    connection.last_error, connection.last_error_at = reason[:500], utcnow()
    wipe_tokens(connection)
    record(connection.workspace_id, Actor.zoom(), "zoom.needs_reauth",
           ("zoom_connection", connection.id, "Zoom"), reason=reason)
    # MERGE: replace with booking_events subscriber (connection.needs_reauthorization ->
    # customer_mail.on_connection_event); at most one alert a day, so both wired is harmless.
    from dashboard.services import customer_mail

    customer_mail.on_connection_event(connection.workspace_id,
                                      "connection.needs_reauthorization")


class TokenProvider:
    """Valid access tokens for workspaces, from one :class:`ZoomClient` (the app's own by
    default)."""

    def __init__(self, client: ZoomClient | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.client = client or zoom.client
        self.clock = clock

    def access_token(self, workspace_id: int, *, stale: str | None = None) -> str:
        """A token valid for at least a few minutes. ``stale`` is a token Zoom just refused
        (401/124): it is refreshed even if its recorded expiry is still ahead."""
        connection = self._usable(db.session.scalar(
            select(ZoomConnection).where(ZoomConnection.workspace_id == workspace_id)))
        if stale is None and self._fresh(connection):
            token = token_cipher.decrypt(connection.access_token_enc)
            db.session.commit()  # end the read transaction: no lock or snapshot is held
            return token
        return self._refresh_locked(connection.id, stale)

    def call(self, workspace_id: int, request: Callable[[str], T]) -> T:
        """Run ``request(access_token)``; on 401/124 refresh once and retry once."""
        token = self.access_token(workspace_id)
        try:
            try:
                return request(token)
            except AccessTokenExpired:
                return request(self.access_token(workspace_id, stale=token))
        except MissingScope as error:  # on the first try or on the retry
            # Not an expired grant: the app's registration in the Zoom App Marketplace lacks
            # the scope, so a refresh cannot help, and a reconnect only once it is added.
            scopes = ", ".join(error.scopes) or "unknown"
            self._lose_grant(workspace_id, f"The Zoom app registration lacks the scope {scopes}"
                                           f": add it in the Zoom App Marketplace, then "
                                           f"reconnect.", error.scopes)
            raise NotConnected(ConnectionStatus.NEEDS_REAUTH, str(error)) from error

    def _fresh(self, connection: ZoomConnection) -> bool:
        expires = connection.access_expires_at
        return bool(connection.access_token_enc and expires
                    and expires - REFRESH_MARGIN > self.clock())

    @staticmethod
    def _usable(connection: ZoomConnection | None) -> ZoomConnection:
        if connection is None:
            db.session.commit()
            raise NotConnected(ConnectionStatus.DISCONNECTED, "Zoom is not connected")
        if connection.status != ConnectionStatus.CONNECTED or not connection.refresh_token_enc:
            status, reason = connection.status, connection.status_reason
            db.session.commit()
            raise NotConnected(status, reason)
        return connection

    def _lock(self, connection_id: int) -> ZoomConnection | None:
        """Take the row lock and re-read the row as it is now."""
        db.session.rollback()  # start a fresh transaction: the lock must see the latest row
        if db.session.get_bind().dialect.name == "sqlite":
            # SQLite has no row locks; a write takes the database's write lock until commit.
            db.session.execute(update(ZoomConnection).where(ZoomConnection.id == connection_id)
                               .values(id=ZoomConnection.id))
        return db.session.scalar(
            select(ZoomConnection).where(ZoomConnection.id == connection_id)
            .with_for_update().execution_options(populate_existing=True))

    def _refresh_locked(self, connection_id: int, stale: str | None) -> str:
        try:
            connection = self._usable(self._lock(connection_id))
            current = token_cipher.decrypt(connection.access_token_enc) \
                if connection.access_token_enc else None
            if current and self._fresh(connection) and current != stale:
                db.session.commit()  # someone refreshed while we waited for the lock
                return current
            refresh_token = token_cipher.decrypt(connection.refresh_token_enc)
            try:
                tokens = self.client.refresh(refresh_token)
            except InvalidGrant as error:
                metrics.TOKEN_REFRESHES.labels("refused").inc()
                mark_needs_reauth(connection, "Zoom no longer accepts Lakesis's authorization "
                                              "(the app was removed or the grant expired). "
                                              "Reconnect Zoom.")
                db.session.commit()
                raise NotConnected(ConnectionStatus.NEEDS_REAUTH, str(error)) from error
            except ZoomError as error:
                metrics.TOKEN_REFRESHES.labels("failed").inc()
                connection.last_error = f"Token refresh failed: {error}"[:500]
                connection.last_error_at = self.clock()
                db.session.commit()
                raise
            store_tokens(connection, tokens, self.clock())
            db.session.commit()  # the rotated refresh token is saved before anything uses it
            metrics.TOKEN_REFRESHES.labels("refreshed").inc()
            log.info("refreshed the Zoom token of workspace %s", connection.workspace_id)
            return tokens.access_token
        except BaseException:
            db.session.rollback()
            raise

    def _lose_grant(self, workspace_id: int, reason: str, missing_scopes: Sequence[str]) -> None:
        connection = db.session.scalar(
            select(ZoomConnection).where(ZoomConnection.workspace_id == workspace_id))
        if connection is not None:
            mark_needs_reauth(connection, reason, missing_scopes)
            db.session.commit()
