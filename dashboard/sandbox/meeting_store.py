"""Meetings as Zoom stores them: creation, lookup, update, deletion, listing.

Pure data functions on a connection; the HTTP layer (meetings.py) adds auth, errors and
webhooks. Times are epoch seconds on the sandbox clock.
"""

from __future__ import annotations

import base64
import copy
import secrets
import string
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .clock import iso
from .storage import meetings
from .validation import parse_start_time

DEFAULT_SETTINGS: dict[str, Any] = {
    "host_video": False,
    "participant_video": False,
    "join_before_host": False,
    "mute_upon_entry": False,
    "approval_type": 2,
    "audio": "voip",
    "auto_recording": "none",
    "waiting_room": True,
    "alternative_hosts": "",
}
KNOWN_SETTINGS = frozenset(
    {
        *DEFAULT_SETTINGS,
        "cn_meeting",
        "in_meeting",
        "watermark",
        "use_pmi",
        "registration_type",
        "enforce_login",
        "enforce_login_domains",
        "close_registration",
        "registrants_confirmation_email",
    }
)
# Fields a create/update body may set; anything else is ignored, as Zoom does.
_PLAIN_FIELDS = ("topic", "type", "duration", "timezone", "agenda", "password")
_OPTIONAL_FIELDS = ("recurrence", "tracking_fields")
LIST_FIELDS = (
    "uuid",
    "id",
    "host_id",
    "topic",
    "type",
    "start_time",
    "duration",
    "timezone",
    "agenda",
    "created_at",
    "join_url",
)


def _meeting_number(conn: Connection) -> int:
    """A fresh 10- or 11-digit meeting number."""
    while True:
        number = secrets.randbelow(99_999_999_999 - 1_000_000_000) + 1_000_000_000
        if conn.execute(sa.select(meetings.c.id).where(meetings.c.id == number)).first() is None:
            return number


def _uuid() -> str:
    # Zoom meeting UUIDs are base64 of 16 bytes, so they can contain "/" and "+".
    return base64.b64encode(secrets.token_bytes(16)).decode()


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))


def start_ts(value: str | None, timezone: str, now_ts: float) -> float:
    """Epoch seconds for a body's start_time: UTC if it says so, else local to ``timezone``."""
    parsed = parse_start_time(value) if value else None
    if parsed is None:
        return float(int(now_ts))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone or "UTC"))
    return parsed.timestamp()


def create(
    conn: Connection,
    *,
    host: dict[str, Any],
    creator_id: str,
    body: dict[str, Any],
    now_ts: float,
    link_base: str = "https://zoom.us",
) -> dict[str, Any]:
    """Store a new meeting for ``host`` from a validated body; return its representation.

    Its join and start links are Zoom's shapes under ``link_base``: the sandbox passes its
    own URL, so a link opens the sandbox's meeting page instead of a Zoom that never heard
    of the meeting."""
    number = _meeting_number(conn)
    timezone = body.get("timezone") or host["timezone"]
    meeting_type = body.get("type", 2)
    # Instant and no-fixed-time meetings start "now" whatever the body says.
    begins = start_ts(body.get("start_time") if meeting_type in (2, 8) else None, timezone, now_ts)
    duration = body.get("duration", 60)
    settings = {**DEFAULT_SETTINGS, **_known_settings(body.get("settings") or {})}
    password = body.get("password") or _password()
    data: dict[str, Any] = {
        "host_email": host["email"],
        "topic": body.get("topic", "Zoom Meeting"),
        "type": meeting_type,
        "start_time": iso(begins),
        "duration": duration,
        "timezone": timezone,
        "agenda": body.get("agenda", ""),
        "created_at": iso(now_ts),
        "start_url": f"{link_base}/s/{number}?zak={secrets.token_urlsafe(40)}",
        "join_url": f"{link_base}/j/{number}?pwd={secrets.token_urlsafe(24)}",
        "password": password,
        "settings": settings,
        "pre_schedule": False,
    }
    data.update({key: body[key] for key in _OPTIONAL_FIELDS if key in body})
    conn.execute(
        meetings.insert().values(
            id=number,
            uuid=_uuid(),
            account_id=host["account_id"],
            host_id=host["id"],
            created_by=creator_id,
            status="waiting",
            start_ts=begins,
            end_ts=begins + duration * 60,
            created_at=now_ts,
            data=data,
        )
    )
    return present(get(conn, number))


def _known_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in settings.items() if key in KNOWN_SETTINGS}


def get(conn: Connection, meeting_id: int) -> Any:
    """The stored row for a meeting number (deleted ones included), or None."""
    return conn.execute(sa.select(meetings).where(meetings.c.id == meeting_id)).first()


def present(row: Any) -> dict[str, Any]:
    """The full ``GET /v2/meetings/{id}`` representation of a row."""
    ids = {"uuid": row.uuid, "id": row.id, "host_id": row.host_id, "status": row.status}
    return {**ids, **row.data}


def update(
    conn: Connection, row: Any, body: dict[str, Any], host: dict[str, Any] | None, now_ts: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply a validated PATCH body; return (old values, new values) of what changed.

    ``host`` is the new host when the body reassigns the meeting (``schedule_for``).
    Settings are merged key by key, and only changed keys are reported.
    """
    data = copy.deepcopy(row.data)
    proposed = {key: body[key] for key in (*_PLAIN_FIELDS, *_OPTIONAL_FIELDS) if key in body}
    if not proposed.get("timezone", True):
        del proposed["timezone"]  # an empty timezone keeps the current one
    if "start_time" in body:
        timezone = proposed.get("timezone", data["timezone"])
        proposed["start_time"] = iso(start_ts(body["start_time"], timezone, now_ts))
    new_host = host is not None and host["id"] != row.host_id
    if new_host:
        proposed["host_email"] = host["email"]
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key, value in proposed.items():
        if data.get(key) != value:
            old[key], new[key] = data.get(key), value
            data[key] = value
    if "settings" in body:
        changed = {
            key: value
            for key, value in _known_settings(body["settings"]).items()
            if data["settings"].get(key) != value
        }
        if changed:
            old["settings"] = {key: data["settings"].get(key) for key in changed}
            new["settings"] = changed
            data["settings"].update(changed)
    begins = datetime.fromisoformat(data["start_time"].replace("Z", "+00:00")).timestamp()
    values: dict[str, Any] = {
        "data": data,
        "start_ts": begins,
        "end_ts": begins + data["duration"] * 60,
    }
    if new_host:
        values["host_id"] = host["id"]
        old["host_id"], new["host_id"] = row.host_id, host["id"]
    conn.execute(meetings.update().where(meetings.c.id == row.id).values(**values))
    return old, new


def set_status(conn: Connection, meeting_id: int, status: str, now_ts: float) -> None:
    """Mark a meeting started or finished (remembering when it started)."""
    values: dict[str, Any] = {"status": status}
    if status == "started":
        values["started_at"] = now_ts
    conn.execute(meetings.update().where(meetings.c.id == meeting_id).values(**values))


def delete(conn: Connection, meeting_id: int, now_ts: float) -> None:
    """Delete a meeting for good (it stays deleted: later lookups answer 3001)."""
    conn.execute(meetings.update().where(meetings.c.id == meeting_id).values(deleted_at=now_ts))


def listing(
    conn: Connection, *, host_id: str, kind: str, now_ts: float, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of a host's meetings for a list type; return (items, total)."""
    query = sa.select(meetings).where(
        meetings.c.host_id == host_id, meetings.c.deleted_at.is_(None)
    )
    if kind == "live":
        query = query.where(meetings.c.status == "started")
    elif kind == "upcoming":
        query = query.where(
            meetings.c.status != "finished",
            sa.or_(meetings.c.status == "started", meetings.c.end_ts > now_ts),
        )
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(
        query.order_by(meetings.c.start_ts, meetings.c.id).offset(offset).limit(limit)
    )
    items = [{key: present(row).get(key) for key in LIST_FIELDS} for row in rows]
    return items, total


def all_meetings(conn: Connection) -> list[dict[str, Any]]:
    """Every meeting, deleted ones included, newest first (for the console page)."""
    rows = conn.execute(sa.select(meetings).order_by(meetings.c.created_at.desc()))
    return [{**present(row), "deleted": row.deleted_at is not None} for row in rows]
