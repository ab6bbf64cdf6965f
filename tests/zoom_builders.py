"""Builders for the Zoom tests that mock HTTP with ``responses``: stored connections,
Zoom's answers, and webhook bodies signed the way Zoom signs them.

Signing is done here with ``hmac`` directly, not with the app's own signing code, so a
mistake there cannot hide itself in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import AuditEvent, ConnectionStatus, ZoomConnection
from dashboard.orm import utcnow
from dashboard.zoom.client import ZoomEndpoints

ZOOM_USER_ID = "zu_HostOne"
ZOOM_ACCOUNT_ID = "acct_LakeClinic"
ZOOM_EMAIL = "host@lake-clinic.test"
SCOPES = "meeting:read:meeting meeting:write:meeting meeting:update:meeting user:read:user"


def endpoints(app: Flask) -> ZoomEndpoints:
    """Where the app's Zoom client sends its requests (the sandbox's URLs in tests)."""
    return zoom_extension.client_of(app).endpoints


def store_connection(
    workspace_id: int,
    *,
    access_token: str = "access-original",
    refresh_token: str = "refresh-original",
    expires_in: timedelta = timedelta(hours=1),
    status: str = ConnectionStatus.CONNECTED.value,
    zoom_user_id: str = ZOOM_USER_ID,
    zoom_account_id: str = ZOOM_ACCOUNT_ID,
    zoom_email: str = ZOOM_EMAIL,
    scopes: str = SCOPES,
    connected_by_id: int | None = None,
    connected_at: datetime | None = None,
) -> int:
    """Store a connection of ``workspace_id`` with encrypted tokens; returns its id.

    Needs an app context; commits.
    """
    now = utcnow()
    connection = ZoomConnection(
        workspace_id=workspace_id, status=status, zoom_user_id=zoom_user_id,
        zoom_account_id=zoom_account_id, zoom_email=zoom_email, scopes=scopes,
        access_token_enc=token_cipher.encrypt(access_token),
        refresh_token_enc=token_cipher.encrypt(refresh_token),
        access_expires_at=now + expires_in, last_refreshed_at=now,
        connected_by_id=connected_by_id, connected_at=connected_at or now,
        status_changed_at=now)
    db.session.add(connection)
    db.session.commit()
    return connection.id


def connection_of(workspace_id: int) -> ZoomConnection | None:
    """The stored connection as the database has it now (not a cached copy)."""
    db.session.expire_all()
    return db.session.scalar(
        select(ZoomConnection).where(ZoomConnection.workspace_id == workspace_id))


def audit_actions(workspace_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.workspace_id == workspace_id).order_by(AuditEvent.id)))


def audit_event(workspace_id: int, action: str) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.workspace_id == workspace_id, AuditEvent.action == action)).one()


def token_body(access_token: str, refresh_token: str, *, expires_in: int = 3599,
               scope: str = SCOPES) -> dict[str, Any]:
    """Zoom's token response (both grants)."""
    return {"access_token": access_token, "token_type": "bearer",
            "refresh_token": refresh_token, "expires_in": expires_in, "scope": scope,
            "api_url": "https://api.zoom.us"}


def me_body(*, user_id: str = ZOOM_USER_ID, account_id: str = ZOOM_ACCOUNT_ID,
            email: str = ZOOM_EMAIL) -> dict[str, Any]:
    """Zoom's ``GET /v2/users/me`` (key fields)."""
    return {"id": user_id, "first_name": "Hanna", "last_name": "Host",
            "display_name": "Hanna Host", "email": email, "type": 2, "role_name": "Owner",
            "timezone": "Europe/Lisbon", "account_id": account_id, "status": "active",
            "language": "en-US"}


# --- webhooks ------------------------------------------------------------------------

def compact(body: dict[str, Any]) -> bytes:
    """JSON the way Zoom sends it: compact, and raw UTF-8 ("João", never ``\\u00e3``)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def zoom_signature(secret: str, timestamp: str, raw: bytes) -> str:
    """``"v0=" + hex(HMAC_SHA256(secret, "v0:" + timestamp + ":" + raw_body))``."""
    message = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, raw: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers Zoom sends with ``raw`` at ``timestamp`` (epoch seconds; default now)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"x-zm-request-timestamp": stamp, "x-zm-signature": zoom_signature(secret, stamp, raw)}


def meeting_event(event: str = "meeting.started", *, meeting_id: int = 81047304804,
                  account_id: str = ZOOM_ACCOUNT_ID, **extra: Any) -> dict[str, Any]:
    """A meeting webhook envelope; ``extra`` goes into ``payload.object``."""
    return {"event": event, "event_ts": int(time.time() * 1000),
            "payload": {"account_id": account_id, "object": {
                "id": str(meeting_id), "uuid": "aBcDeF12==", "host_id": ZOOM_USER_ID,
                "topic": "Consultation", "type": 2, "start_time": "2026-12-01T10:00:00Z",
                "timezone": "Europe/Lisbon", "duration": 30, **extra}}}


def deauthorized_event(*, when: datetime | None = None, retention: str = "false",
                       user_id: str = ZOOM_USER_ID,
                       account_id: str = ZOOM_ACCOUNT_ID) -> dict[str, Any]:
    """``app_deauthorized`` as Zoom sends it when the app is removed in the Marketplace."""
    when = when or utcnow()
    return {"event": "app_deauthorized", "event_ts": int(when.timestamp() * 1000),
            "payload": {"account_id": account_id, "user_id": user_id,
                        "signature": "zoom-internal-signature",
                        "deauthorization_time": when.strftime("%Y-%m-%dT%H:%M:%S.")
                        + f"{when.microsecond // 1000:03d}Z",
                        "client_id": "lakesis-sandbox-client",
                        "user_data_retention": retention}}
