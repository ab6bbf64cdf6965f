"""Zoom webhook events: store each once (fast), then apply it (after answering Zoom)."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dashboard.extensions import db
from dashboard.models import (
    BookingState,
    Meeting,
    MeetingStatus,
    WebhookEvent,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import connections

log = logging.getLogger(__name__)
MEETING_FIELDS = ("id", "uuid", "start_time", "duration", "timezone", "end_time", "status")


def _minimal_payload(event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Keep what applying needs; drop hosts' keys, emails and anything else Zoom sends."""
    if event == "app_deauthorized":
        return {k: payload.get(k) for k in (
            "user_id", "account_id", "user_data_retention", "deauthorization_time")}
    objects = {}
    for name in ("object", "old_object"):
        item = payload.get(name)
        if isinstance(item, dict):
            objects[name] = {k: item[k] for k in MEETING_FIELDS if k in item}
    if "operator_id" in payload:
        objects["operator_id"] = payload.get("operator_id")
    return objects


def store(body: dict[str, Any], raw: bytes) -> tuple[WebhookEvent, bool]:
    """Record a verified event once. Returns (event, is_new); a replay returns the first copy."""
    dedupe_key = hashlib.sha256(raw).hexdigest()
    event_name = str(body.get("event") or "")[:64] or "unknown"
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    event_ts = body.get("event_ts")
    row = WebhookEvent(
        event=event_name, dedupe_key=dedupe_key,
        event_ts=event_ts if isinstance(event_ts, int) else None,
        zoom_account_id=str(payload.get("account_id") or "")[:64] or None,
        payload=_minimal_payload(event_name, payload))
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            select(WebhookEvent).where(WebhookEvent.dedupe_key == dedupe_key))
        return existing, False
    return row, True


def _parse_time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    # Zoom documents its times in UTC; a time without an offset must still compare with
    # the aware datetimes in the database instead of failing the event forever.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _apply_deauthorization(event: WebhookEvent) -> str:
    payload = event.payload
    keep = str(payload.get("user_data_retention")).lower() == "true"
    when = _parse_time(payload.get("deauthorization_time"))
    stale_if_after = when  # a reconnect after the removal must survive a late event
    affected = connections.deauthorize(
        payload.get("user_id"), payload.get("account_id"), keep, not_connected_after=stale_if_after)
    if not keep:  # the event held the Zoom ids too: forget them like the connection did
        event.payload = {"user_data_retention": payload.get("user_data_retention"),
                         "deauthorization_time": payload.get("deauthorization_time")}
        event.zoom_account_id = None
    if not affected:
        return "ignored: no connection of that Zoom user (or reconnected since)"
    event.workspace_id = affected[0]
    return f"disconnected {len(affected)} workspace(s)"


# --- meeting events -----------------------------------------------------------------

# A meeting that no longer exists for Lakesis (cancelled, or gone in Zoom) does not start.
_GONE = (MeetingStatus.CANCELLED, MeetingStatus.DELETED_IN_ZOOM)


def _meeting_id(value: Any) -> int | None:
    """Zoom sends ``object.id`` as a string in some events and a number in others."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _target(event: WebhookEvent) -> tuple[Meeting | None, ZoomConnection | None, str | None]:
    """The meeting the event is about, in a workspace connected to the event's Zoom account,
    with that workspace's connection; or (None, None, why-ignored)."""
    meeting_id = _meeting_id((event.payload.get("object") or {}).get("id"))
    if meeting_id is None or not event.zoom_account_id:
        return None, None, "ignored: no meeting id or account id"
    row = db.session.execute(
        select(Meeting, ZoomConnection)
        .join(ZoomConnection, ZoomConnection.workspace_id == Meeting.workspace_id)
        .where(Meeting.zoom_meeting_id == meeting_id,
               ZoomConnection.zoom_account_id == event.zoom_account_id)
        .order_by(Meeting.id).limit(1).with_for_update(of=Meeting)).first()
    if row is None:
        return None, None, "ignored: no booking for this meeting"
    meeting, connection = row
    event.workspace_id = meeting.workspace_id
    if (event.event_ts is not None and meeting.last_event_ts is not None
            and event.event_ts < meeting.last_event_ts):
        return None, None, "ignored: older than the last event applied to this meeting"
    return meeting, connection, None


def _applied(meeting: Meeting, event: WebhookEvent) -> None:
    if event.event_ts is not None:
        meeting.last_event_ts = max(meeting.last_event_ts or 0, event.event_ts)


def _status_event(status: MeetingStatus) -> Any:
    def apply_status(event: WebhookEvent) -> str:
        meeting, _, ignored = _target(event)
        if meeting is None:
            return ignored or "ignored"
        if meeting.status in _GONE:
            return f"ignored: the meeting is {meeting.status} in Lakesis"
        _applied(meeting, event)
        if meeting.status == status:
            return f"meeting already {status}"
        meeting.status = status.value
        return f"meeting {status}"
    return apply_status


def _ours(connection: ZoomConnection, event: WebhookEvent) -> bool:
    operator = event.payload.get("operator_id")
    return bool(operator) and operator == connection.zoom_user_id


def _apply_deleted(event: WebhookEvent) -> str:
    meeting, _, ignored = _target(event)
    if meeting is None:
        return ignored or "ignored"
    booking = meeting.booking
    # Lakesis deletes a meeting only when its booking is cancelled: that is our own delete.
    if booking.state != BookingState.ACTIVE or meeting.status == MeetingStatus.CANCELLED:
        return "ignored: Lakesis deleted this meeting (the booking is cancelled)"
    _applied(meeting, event)
    if meeting.status == MeetingStatus.DELETED_IN_ZOOM:
        return "meeting already deleted in Zoom"
    meeting.status = MeetingStatus.DELETED_IN_ZOOM.value
    meeting.join_url = meeting.start_url_enc = None
    who = event.payload.get("operator_id") or "someone"
    meeting.note = (f"Deleted in Zoom by Zoom user {who}: Retry (or a reschedule) creates "
                    f"a new meeting.")[:500]
    return "meeting deleted in Zoom"


def _utc(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "unknown"


def _apply_updated(event: WebhookEvent) -> str:
    meeting, connection, ignored = _target(event)
    if meeting is None:
        return ignored or "ignored"
    if _ours(connection, event):
        return "ignored: the change was made by Lakesis"
    if meeting.status in _GONE:
        return f"ignored: the meeting is {meeting.status} in Lakesis"
    _applied(meeting, event)
    new = event.payload.get("object") or {}
    old = event.payload.get("old_object") or {}
    changes = []
    if "start_time" in new:
        start = _parse_time(new["start_time"]) if new["start_time"] else None
        meeting.synced_start_at = start or meeting.synced_start_at
        was = _parse_time(old["start_time"]) if old.get("start_time") else None
        changes.append(f"start time {_utc(start)} (was {_utc(was)})")
    if "duration" in new:
        meeting.synced_duration = new["duration"] if isinstance(new["duration"], int) \
            else meeting.synced_duration
        changes.append(f"duration {new['duration']} min (was {old.get('duration', '?')} min)")
    if "timezone" in new:
        changes.append(f"time zone {new['timezone']} (was {old.get('timezone', '?')})")
    if not changes:
        return "ignored: no field Lakesis keeps in step was changed"
    booking = meeting.booking
    who = event.payload.get("operator_id") or "someone"
    meeting.note = (f"Changed in Zoom by Zoom user {who}: {'; '.join(changes)}. The booking "
                    f"says {_utc(booking.start_at)}, {booking.duration_minutes} min; "
                    f"reschedule to put Zoom right.")[:500]
    return "noted a change made in Zoom"


HANDLERS = {
    "app_deauthorized": _apply_deauthorization,
    "meeting.started": _status_event(MeetingStatus.STARTED),
    "meeting.ended": _status_event(MeetingStatus.ENDED),
    "meeting.deleted": _apply_deleted,
    "meeting.updated": _apply_updated,
}


def apply(event_id: int) -> str | None:
    """Apply one stored event if nobody has yet; returns its outcome."""
    event = db.session.scalar(select(WebhookEvent).where(
        WebhookEvent.id == event_id, WebhookEvent.processed_at.is_(None)).with_for_update())
    if event is None:
        db.session.rollback()
        return None
    handler = HANDLERS.get(event.event)
    try:
        outcome = handler(event) if handler else f"ignored: {event.event} is not used"
    except Exception:
        db.session.rollback()
        log.exception("applying Zoom webhook event %s failed", event_id)
        raise
    event = db.session.get(WebhookEvent, event_id)
    event.processed_at = utcnow()
    event.outcome = outcome[:200]
    db.session.commit()
    return outcome


def apply_pending(limit: int = 100) -> int:
    """Apply events stored but not applied (a process died between answering and applying)."""
    ids = list(db.session.scalars(select(WebhookEvent.id).where(
        WebhookEvent.processed_at.is_(None)).order_by(WebhookEvent.id).limit(limit)))
    db.session.commit()
    for event_id in ids:
        apply(event_id)
    return len(ids)
