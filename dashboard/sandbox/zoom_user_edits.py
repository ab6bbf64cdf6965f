"""What a Zoom user does to a meeting on Zoom's own web page: edit it, delete it.

Not an API call of the app (no token, no rate limit, no daily cap): the change lands, and
the webhook goes out with the user as its operator, exactly as Zoom sends it. With the
webhooks switched off (``set_webhooks``) nothing is sent, as when Zoom's deliveries are
lost: only reconciliation can find the change then.
"""

from __future__ import annotations

from typing import Any

from . import clock, directory, meeting_events, meeting_store
from .storage import set_state, transaction
from .validation import parse_start_time
from .webhooks_out import WEBHOOKS_OFF, send_event

EDITABLE = ("start_time", "duration", "topic", "password")


class EditRefused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _meeting_and_user(conn: Any, meeting_id: int, user_ref: str | None) -> tuple[Any, dict]:
    row = meeting_store.get(conn, meeting_id)
    if row is None or row.deleted_at is not None:
        raise EditRefused(f"Meeting does not exist: {meeting_id}.", 404)
    user = directory.find_user(conn, user_ref or row.host_id)
    if user is None:
        raise EditRefused(f"No such Zoom user: {user_ref}.", 404)
    return row, user


def _changes(raw: dict[str, Any]) -> dict[str, Any]:
    changes = {key: raw[key] for key in EDITABLE if raw.get(key) not in (None, "")}
    if not changes:
        raise EditRefused("Nothing to change: give start_time, duration, topic or password.")
    if "duration" in changes:
        try:
            changes["duration"] = int(changes["duration"])
        except (TypeError, ValueError) as exc:
            raise EditRefused("duration must be a whole number of minutes") from exc
        if not 1 <= changes["duration"] <= 1440:
            raise EditRefused("duration must be from 1 to 1440 minutes")
    if "start_time" in changes and parse_start_time(str(changes["start_time"])) is None:
        raise EditRefused("start_time must be a time like 2026-12-01T10:00:00Z")
    for key in ("topic", "password"):
        if key in changes and (not isinstance(changes[key], str) or len(changes[key]) > 200):
            raise EditRefused(f"{key} must be text of at most 200 characters")
    return changes


def edit(meeting_id: int, raw: dict[str, Any], user_ref: str | None = None) -> dict[str, Any]:
    """Change the meeting as ``user_ref`` (id or email; default: its host) would on Zoom's
    web page, and send ``meeting.updated`` naming that user."""
    changes = _changes(raw)
    with transaction() as conn:
        row, user = _meeting_and_user(conn, meeting_id, user_ref)
        now_ts = clock.now_ts(conn)
        old, new = meeting_store.update(conn, row, changes, None, now_ts)
        meeting = meeting_store.present(meeting_store.get(conn, meeting_id))
    if new:
        send_event("meeting.updated", meeting_events.updated(
            meeting, row.account_id, user, old, new, now_ts))
    return {k: v for k, v in meeting.items() if k not in ("start_url", "password")}


def delete(meeting_id: int, user_ref: str | None = None) -> None:
    """Delete the meeting as ``user_ref`` would on Zoom's web page (``meeting.deleted``)."""
    with transaction() as conn:
        row, user = _meeting_and_user(conn, meeting_id, user_ref)
        if row.status == "started":
            raise EditRefused(f"Meeting {meeting_id} is in progress", 409)
        meeting_store.delete(conn, row.id, clock.now_ts(conn))
        meeting = meeting_store.present(row)
    send_event("meeting.deleted", meeting_events.deleted(meeting, row.account_id, user))


def set_webhooks(enabled: bool) -> None:
    """Switch the sandbox's webhook deliveries on or off (off: each is counted as
    suppressed, never sent)."""
    with transaction() as conn:
        set_state(conn, WEBHOOKS_OFF, "0" if enabled else "1")
