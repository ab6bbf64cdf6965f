"""The Meetings API: create, get, update, delete and list, with Zoom's errors."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Response, request
from sqlalchemy.engine import Connection

from . import directory, meeting_events, meeting_store, responses
from .api_auth import Caller, charge_daily, other_user_refusal, zoom_api
from .blueprint import bp, sandbox_state
from .storage import transaction
from .validation import validate_meeting
from .webhooks_out import send_event

_ADMIN_ROLES = ("Owner", "Admin")
_LIST_TYPES = ("scheduled", "live", "upcoming")
_MAX_PAGE_SIZE = 300


def _meeting_body() -> tuple[dict[str, Any] | None, Response | None]:
    """The request's meeting fields, or Zoom's 300 refusal (not an object, or invalid)."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return None, responses.api_error(300, "Request Body should be a valid JSON object.", 400)
    errors = validate_meeting(body)
    if errors:
        return None, _validation_failed(errors)
    return body, None


def _no_user(ref: str) -> Response:
    return responses.api_error(1001, f"User does not exist: {ref}.", 404)


def _no_meeting(ref: str) -> Response:
    return responses.api_error(3001, f"Meeting does not exist: {ref}.", 404)


def _account_user(conn: Connection, caller: Caller, ref: str) -> dict[str, Any] | None:
    """A user of the caller's account by ``me``, id or email; others are invisible."""
    if ref == "me":
        return caller.user
    user = directory.find_user(conn, ref)
    return user if user and user["account_id"] == caller.grant["account_id"] else None


def _visible_meeting(conn: Connection, caller: Caller, ref: str) -> Any:
    """The live meeting row, or None if unknown, deleted or in another account."""
    if not ref.isdigit():
        return None
    row = meeting_store.get(conn, int(ref))
    if row is None or row.deleted_at is not None or row.account_id != caller.grant["account_id"]:
        return None
    return row


def _may_change(conn: Connection, caller: Caller, row: Any) -> bool:
    """Host, whoever scheduled it, a scheduler of the host, or an account owner/admin."""
    user = caller.user
    return (
        user["id"] in (row.host_id, row.created_by)
        or user["role_name"] in _ADMIN_ROLES
        or directory.may_schedule_for(conn, user["id"], row.host_id)
    )


def _not_host() -> Response:
    return responses.api_error(3003, "You are not the meeting host.", 400)


def _schedule_for(conn: Connection, caller: Caller, ref: str) -> dict[str, Any] | Response:
    """The ``schedule_for`` user, if the caller holds scheduling privilege for them.

    Unknown or in another account: 1001. Known but no privilege: 400 code 3000.
    """
    host = _account_user(conn, caller, ref)
    if host is None:
        return _no_user(ref)
    if not directory.may_schedule_for(conn, caller.user["id"], host["id"]):
        return responses.api_error(3000, f"You cannot schedule a meeting for {ref}", 400)
    return host


def _validation_failed(errors: list[dict[str, str]]) -> Response:
    return responses.api_error(300, "Validation Failed.", 400, errors)


@bp.post("/v2/users/<user_ref>/meetings")
@zoom_api("meetings_create")
def create_meeting(caller: Caller, user_ref: str) -> Response:
    """Create a meeting for a user (``me``, id or email), optionally ``schedule_for``."""
    refusal = other_user_refusal(caller, "meetings_create", user_ref)
    if refusal:
        return refusal
    body, refusal = _meeting_body()
    if refusal:
        return refusal
    with transaction() as conn:
        host: dict[str, Any] | Response = caller.user
        if body.get("schedule_for"):
            host = _schedule_for(conn, caller, body["schedule_for"])
            if isinstance(host, Response):
                return host
        refusal = charge_daily(conn, caller, host["id"], "meetings_create")
        if refusal:
            return refusal
        meeting = meeting_store.create(
            conn,
            host=host,
            creator_id=caller.user["id"],
            body=body,
            now_ts=caller.now_ts,
            link_base=request.host_url.rstrip("/") + sandbox_state().url_prefix,
        )
    account_id = caller.grant["account_id"]
    send_event("meeting.created", meeting_events.created(meeting, account_id, caller.user))
    base = request.host_url.rstrip("/") + sandbox_state().url_prefix
    location = f"{base}/v2/meetings/{meeting['id']}"
    return responses.json_response(meeting, 201, headers={"Content-Location": location})


@bp.get("/v2/meetings/<meeting_ref>")
@zoom_api("meetings_get")
def get_meeting(caller: Caller, meeting_ref: str) -> Response:
    """A meeting's details, ``status`` included."""
    with transaction() as conn:
        row = _visible_meeting(conn, caller, meeting_ref)
    if row is None:
        return _no_meeting(meeting_ref)
    return responses.json_response(meeting_store.present(row))


@bp.patch("/v2/meetings/<meeting_ref>")
@zoom_api("meetings_update")
def update_meeting(caller: Caller, meeting_ref: str) -> Response:
    """Change some fields of a meeting: 204 with no body."""
    body, refusal = _meeting_body()
    if refusal:
        return refusal
    with transaction() as conn:
        row = _visible_meeting(conn, caller, meeting_ref)
        if row is None:
            return _no_meeting(meeting_ref)
        if not _may_change(conn, caller, row):
            return _not_host()
        new_host: dict[str, Any] | Response | None = None
        if body.get("schedule_for"):
            new_host = _schedule_for(conn, caller, body["schedule_for"])
            if isinstance(new_host, Response):
                return new_host
        host_id = new_host["id"] if new_host else row.host_id
        refusal = charge_daily(conn, caller, host_id, "meetings_update")
        if refusal:
            return refusal
        old, new = meeting_store.update(conn, row, body, new_host, caller.now_ts)
        meeting = meeting_store.present(meeting_store.get(conn, row.id))
    if new:
        payload = meeting_events.updated(
            meeting, caller.grant["account_id"], caller.user, old, new, caller.now_ts
        )
        send_event("meeting.updated", payload)
    return Response(status=204)


@bp.delete("/v2/meetings/<meeting_ref>")
@zoom_api("meetings_delete")
def delete_meeting(caller: Caller, meeting_ref: str) -> Response:
    """Delete a meeting for good: 204; 3002 while it is in progress."""
    with transaction() as conn:
        row = _visible_meeting(conn, caller, meeting_ref)
        if row is None:
            return _no_meeting(meeting_ref)
        if not _may_change(conn, caller, row):
            return _not_host()
        if row.status == "started":
            return responses.api_error(3002, f"Meeting {row.id} is in progress", 400)
        meeting_store.delete(conn, row.id, caller.now_ts)
        meeting = meeting_store.present(row)
    send_event(
        "meeting.deleted", meeting_events.deleted(meeting, caller.grant["account_id"], caller.user)
    )
    return Response(status=204)


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sbx:{offset}".encode()).decode().rstrip("=")


def _page_offset(token: str) -> int | None:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    prefix, _, number = text.partition(":")
    return int(number) if prefix == "sbx" and number.isdigit() else None


@bp.get("/v2/users/<user_ref>/meetings")
@zoom_api("meetings_list")
def list_meetings(caller: Caller, user_ref: str) -> Response:
    """A user's meetings of one type, paged with ``next_page_token`` ("" at the end).

    A user-level app lists through ``me`` (or the caller's own id/email); another user's
    list needs ``meeting:read:list_meetings:admin``: 4711.
    """
    refusal = other_user_refusal(caller, "meetings_list", user_ref)
    if refusal:
        return refusal
    kind = request.args.get("type", "scheduled")
    if kind not in _LIST_TYPES:
        return _validation_failed([{"field": "type", "message": "Invalid field."}])
    raw_size = request.args.get("page_size", "30")
    if not raw_size.isdigit() or int(raw_size) < 1:
        return _validation_failed([{"field": "page_size", "message": "Invalid field."}])
    page_size = min(int(raw_size), _MAX_PAGE_SIZE)
    offset = _page_offset(request.args.get("next_page_token", ""))
    if offset is None:
        return _validation_failed([{"field": "next_page_token", "message": "Invalid field."}])
    with transaction() as conn:
        host = _account_user(conn, caller, user_ref)
        if host is None:
            return _no_user(user_ref)
        items, total = meeting_store.listing(
            conn,
            host_id=host["id"],
            kind=kind,
            now_ts=caller.now_ts,
            offset=offset,
            limit=page_size,
        )
    more = offset + len(items) < total
    body = {
        "page_size": page_size,
        "total_records": total,
        "next_page_token": _page_token(offset + len(items)) if more else "",
        "meetings": items,
    }
    return responses.json_response(body)
