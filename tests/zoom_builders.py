"""Builders for the Zoom tests that mock HTTP with ``responses``: stored connections,
Zoom's answers, a fake of Zoom's Meetings API, and webhook bodies signed the way Zoom
signs them.

Signing is done here with ``hmac`` directly, not with the app's own signing code, so a
mistake there cannot hide itself in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from datetime import datetime, timedelta
from typing import Any

import requests
import responses
from flask import Flask
from sqlalchemy import select

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import AuditEvent, ConnectionStatus, ZoomConnection
from dashboard.orm import utcnow
from dashboard.zoom.client import ZoomEndpoints
from dashboard.zoom.meetings import format_time
from tests.zoom_openapi import request_body_validator

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
        zoom_account_id=zoom_account_id, zoom_email=zoom_email, zoom_name="Hanna Host",
        scopes=scopes, access_token_enc=token_cipher.encrypt(access_token),
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


# --- Zoom's Meetings API -------------------------------------------------------------

def server_error(status: int = 500) -> tuple:
    """An answer for :meth:`FakeZoom.fail`: Zoom's 5xx."""
    return status, {"code": status, "message": "Internal error"}, {}


class FakeZoom:
    """Zoom's Meetings API as ``responses`` callbacks: it keeps meetings, records what it
    was sent, validates every create/update body with Zoom's schema, and answers with the
    failures a test queues up (``fail``) before behaving again.

    Meetings are hosted the way Zoom hosts them: by the connected user (``ZOOM_USER_ID``),
    or by the ``schedule_for`` user; ``created_at`` is the time Zoom made them."""

    def __init__(self, mock: responses.RequestsMock, api: str, token_url: str) -> None:
        self.meetings: dict[int, dict[str, Any]] = {}
        #: creates Zoom committed after the caller gave up, not listed until ``land_late``
        self.late: list[dict[str, Any]] = []
        self.sent: list[tuple[str, str, dict | None]] = []
        self.failures: dict[str, list[Any]] = {}
        self.ids = itertools.count(81_000_000_001)
        self.create_validator = request_body_validator("meetingCreate")
        self.update_validator = request_body_validator("meetingUpdate")
        meeting_url = re.compile(re.escape(api) + r"/meetings/(\d+)$")
        user_meetings = re.compile(re.escape(api) + r"/users/[^/]+/meetings")
        mock.add_callback("POST", user_meetings, callback=self._create)
        mock.add_callback("GET", user_meetings, callback=self._list)
        mock.add_callback("GET", meeting_url, callback=self._get)
        mock.add_callback("PATCH", meeting_url, callback=self._patch)
        mock.add_callback("DELETE", meeting_url, callback=self._delete)
        mock.add("POST", token_url, json=token_body("access-refreshed", "refresh-rotated"))

    # --- what a test arranges ------------------------------------------------------------

    def fail(self, endpoint: str, *answers: Any) -> None:
        """Queue answers for ``endpoint`` (create/list/get/update/delete): a (status, body,
        headers) tuple, an exception to raise, or for creates: "commit-then-timeout" (made,
        then the answer is lost), "timeout-then-commit" (the answer is lost and Zoom makes
        the meeting later: at ``land_late``), "commit-then-connect-timeout" (made, then the
        client is told it never connected)."""
        self.failures.setdefault(endpoint, []).extend(answers)

    def land_late(self) -> list[int]:
        """Zoom finishes the creates it was still making: they are listed from now on."""
        landed = [self._keep(meeting) for meeting in self.late]
        self.late.clear()
        return [meeting["id"] for meeting in landed]

    def add_meeting(self, **fields: Any) -> dict[str, Any]:
        """A meeting that is in Zoom already (someone else's, or forged)."""
        body = {"topic": "Someone's meeting", "type": 2, "start_time": "2026-12-24T10:00:00Z",
                "duration": 30, "timezone": "UTC", "agenda": ""}
        return self._keep(self._made({**body, **fields}))

    def calls(self, method: str) -> int:
        return sum(1 for sent_method, _, _ in self.sent if sent_method == method)

    def bodies(self, method: str) -> list[dict]:
        return [body for sent_method, _, body in self.sent if sent_method == method]

    def lists(self) -> int:
        return sum(1 for method, url, _ in self.sent
                   if method == "GET" and re.search(r"/users/[^/]+/meetings", url))

    # --- Zoom ------------------------------------------------------------------------------

    def _failure(self, endpoint: str, request: Any) -> tuple | None:
        queued = self.failures.get(endpoint)
        if not queued:
            return None
        answer = queued.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if answer == "commit-then-timeout":
            self._keep(self._made(json.loads(request.body)))
            raise requests.exceptions.ReadTimeout("read timed out")
        if answer == "timeout-then-commit":
            self.late.append(self._made(json.loads(request.body)))
            raise requests.exceptions.ReadTimeout("read timed out")
        if answer == "commit-then-connect-timeout":
            self._keep(self._made(json.loads(request.body)))
            raise requests.exceptions.ConnectTimeout("connect timed out")
        status, body, headers = answer
        return status, {"Content-Type": "application/json", **headers}, json.dumps(body)

    def _record(self, request: Any) -> dict | None:
        body = json.loads(request.body) if request.body else None
        self.sent.append((request.method, request.url, body))
        return body

    def _made(self, body: dict) -> dict:
        meeting_id = next(self.ids)
        host = f"zu_{body['schedule_for']}" if body.get("schedule_for") else ZOOM_USER_ID
        return {"id": meeting_id, "uuid": f"uuid-{meeting_id}==", "host_id": host,
                "status": "waiting", "join_url": f"https://zoom.us/j/{meeting_id}?pwd=p",
                "start_url": f"https://zoom.us/s/{meeting_id}?zak=secret-zak",
                "created_at": format_time(utcnow()), **body}

    def _keep(self, meeting: dict) -> dict:
        self.meetings[meeting["id"]] = meeting
        return meeting

    def _create(self, request: Any) -> tuple:
        body = self._record(request)
        self.create_validator.validate(body)
        failed = self._failure("create", request)
        if failed:
            return failed
        meeting = self._keep(self._made(body))
        return 201, {"Content-Type": "application/json"}, json.dumps(meeting)

    def _list(self, request: Any) -> tuple:
        self._record(request)
        failed = self._failure("list", request)
        if failed:
            return failed
        items = [{k: m.get(k) for k in ("uuid", "id", "host_id", "topic", "type", "start_time",
                                         "duration", "timezone", "agenda", "created_at",
                                         "join_url")} for m in self.meetings.values()]
        page = {"next_page_token": "", "page_size": 300, "total_records": len(items),
                "meetings": items}
        return 200, {"Content-Type": "application/json"}, json.dumps(page)

    def _gone(self, meeting_id: int) -> tuple:
        body = {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}
        return 404, {"Content-Type": "application/json"}, json.dumps(body)

    def _id(self, request: Any) -> int:
        return int(request.url.rsplit("/", 1)[1])

    def _get(self, request: Any) -> tuple:
        self._record(request)
        failed = self._failure("get", request)
        if failed:
            return failed
        meeting = self.meetings.get(self._id(request))
        if meeting is None:
            return self._gone(self._id(request))
        return 200, {"Content-Type": "application/json"}, json.dumps(meeting)

    def _patch(self, request: Any) -> tuple:
        body = self._record(request)
        self.update_validator.validate(body)
        failed = self._failure("update", request)
        if failed:
            return failed
        meeting = self.meetings.get(self._id(request))
        if meeting is None:
            return self._gone(self._id(request))
        meeting.update(body)
        return 204, {}, ""

    def _delete(self, request: Any) -> tuple:
        self._record(request)
        failed = self._failure("delete", request)
        if failed:
            return failed
        if self.meetings.pop(self._id(request), None) is None:
            return self._gone(self._id(request))
        return 204, {}, ""
