"""Zoom webhook events: store each once (fast), then apply it (after answering Zoom).

What an event says comes from ``zoom.webhooks`` as a typed event; this module decides what
it means for the meetings and connections Lakesis keeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dashboard.extensions import db
from dashboard.models import (
    BookingState,
    DriftSource,
    Meeting,
    MeetingStatus,
    WebhookEvent,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import connections, drift, echoes
from dashboard.zoom.meetings import format_time
from dashboard.zoom.webhooks import (
    Deauthorization,
    MeetingChange,
    MeetingEvent,
    MeetingFields,
    ZoomEvent,
    from_stored,
)

log = logging.getLogger(__name__)


def store(event: ZoomEvent, dedupe_key: str) -> tuple[WebhookEvent, bool]:
    """Record a verified event once. Returns (row, is_new); a replay returns the first copy."""
    row = WebhookEvent(event=event.name, dedupe_key=dedupe_key, event_ts=event.event_ts,
                       zoom_account_id=event.account_id, payload=event.stored_payload())
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            select(WebhookEvent).where(WebhookEvent.dedupe_key == dedupe_key))
        return existing, False
    return row, True


def _apply_deauthorization(row: WebhookEvent, event: Deauthorization) -> str:
    # A reconnect after the removal must survive a late event.
    affected = connections.deauthorize(event.user_id, event.account_id, event.retain_user_data,
                                       not_connected_after=event.deauthorized_at)
    if not event.retain_user_data:  # the event held the Zoom ids too: forget them as well
        row.payload = event.forgotten_payload()
        row.zoom_account_id = None
    if not affected:
        return "ignored: no connection of that Zoom user (or reconnected since)"
    row.workspace_id = affected[0]
    return f"disconnected {len(affected)} workspace(s)"


# --- meeting events -----------------------------------------------------------------

# A meeting that no longer exists for Lakesis (cancelled, or gone in Zoom) does not start.
_GONE = (MeetingStatus.CANCELLED, MeetingStatus.DELETED_IN_ZOOM)


def _target(row: WebhookEvent, event: MeetingEvent
            ) -> tuple[Meeting | None, ZoomConnection | None, str | None]:
    """The meeting the event is about, in a workspace connected to the event's Zoom account,
    with that workspace's connection; or (None, None, why-ignored)."""
    if not event.meeting_id or not event.account_id:
        return None, None, "ignored: no meeting id or account id"
    found = db.session.execute(
        select(Meeting, ZoomConnection)
        .join(ZoomConnection, ZoomConnection.workspace_id == Meeting.workspace_id)
        .where(Meeting.zoom_meeting_id == event.meeting_id,
               ZoomConnection.zoom_account_id == event.account_id)
        .order_by(Meeting.id).limit(1).with_for_update(of=Meeting)).first()
    if found is None:
        return None, None, "ignored: no booking for this meeting"
    meeting, connection = found
    row.workspace_id = meeting.workspace_id
    if (event.event_ts is not None and meeting.last_event_ts is not None
            and event.event_ts < meeting.last_event_ts):
        return None, None, "ignored: older than the last event applied to this meeting"
    return meeting, connection, None


def _applied(meeting: Meeting, event: MeetingEvent) -> None:
    if event.event_ts is not None:
        meeting.last_event_ts = max(meeting.last_event_ts or 0, event.event_ts)


def _status_event(status: MeetingStatus) -> Callable[[Meeting, ZoomConnection, MeetingEvent],
                                                     str]:
    def apply_status(meeting: Meeting, _: ZoomConnection, event: MeetingEvent) -> str:
        if meeting.status in _GONE:
            return f"ignored: the meeting is {meeting.status} in Lakesis"
        _applied(meeting, event)
        if meeting.status == status:
            return f"meeting already {status}"
        meeting.status = status.value
        return f"meeting {status}"
    return apply_status


def _apply_deleted(meeting: Meeting, _: ZoomConnection, event: MeetingEvent) -> str:
    booking = meeting.booking
    # Lakesis deletes a meeting only when its booking is cancelled: that is our own delete.
    if booking.state != BookingState.ACTIVE or meeting.status == MeetingStatus.CANCELLED:
        return "ignored: Lakesis deleted this meeting (the booking is cancelled)"
    _applied(meeting, event)
    if meeting.status == MeetingStatus.DELETED_IN_ZOOM:
        return "meeting already deleted in Zoom"
    drift.note_deleted(meeting, DriftSource.WEBHOOK, event.operator_id)
    return "meeting deleted in Zoom"


def _zoom_values(fields: MeetingFields) -> dict[str, Any]:
    """What a meeting.updated says Zoom now holds, in the fields drift compares."""
    values: dict[str, Any] = {}
    if "start_time" in fields.sent and fields.start_at is not None:
        values["start_time"] = format_time(fields.start_at)
    if "duration" in fields.sent and fields.duration_minutes is not None:
        values["duration"] = fields.duration_minutes
    if "topic" in fields.sent and fields.topic is not None:
        values["topic"] = fields.topic
    if "password" in fields.sent:
        values["passcode"] = drift.PASSCODE_CHANGED
    return values


def _apply_updated(meeting: Meeting, _: ZoomConnection, event: MeetingEvent) -> str:
    # Not by operator_id: the connected user's own edits on Zoom's web page carry ours too.
    if meeting.status in _GONE:
        return f"ignored: the meeting is {meeting.status} in Lakesis"
    values = _zoom_values(event.new)
    if not values:
        return "ignored: no field Lakesis keeps in step was changed"
    _applied(meeting, event)
    if echoes.is_echo(meeting.id, values):
        meeting.synced_start_at = event.new.start_at or meeting.synced_start_at
        if event.new.duration_minutes is not None:
            meeting.synced_duration = event.new.duration_minutes
        return "ignored: our own change, echoed back by Zoom"
    if event.event_ts is not None and echoes.overwritten_by_us(
            meeting.id, datetime.fromtimestamp(event.event_ts / 1000, UTC),
            meeting.last_synced_at):
        return "ignored: a later change of ours has overwritten it in Zoom"
    found = drift.note_change(meeting, values, DriftSource.WEBHOOK, event.operator_id)
    if found is None:
        return "the change in Zoom agrees with the booking"
    return "drift recorded: changed in Zoom"


MEETING_HANDLERS: dict[MeetingChange, Callable[[Meeting, ZoomConnection, MeetingEvent], str]] = {
    MeetingChange.STARTED: _status_event(MeetingStatus.STARTED),
    MeetingChange.ENDED: _status_event(MeetingStatus.ENDED),
    MeetingChange.DELETED: _apply_deleted,
    MeetingChange.UPDATED: _apply_updated,
}


def _apply_meeting_event(row: WebhookEvent, event: MeetingEvent) -> str:
    handler = MEETING_HANDLERS.get(event.change)
    if handler is None:
        return f"ignored: {event.name} is not used"
    meeting, connection, ignored = _target(row, event)
    if meeting is None:
        return ignored or "ignored"
    return handler(meeting, connection, event)


HANDLERS: dict[type, Callable[[WebhookEvent, Any], str]] = {
    Deauthorization: _apply_deauthorization,
    MeetingEvent: _apply_meeting_event,
}


def apply(event_id: int) -> str | None:
    """Apply one stored event if nobody has yet; returns its outcome. On failure the event
    stays pending (rolled back, the session clean for what comes next) and the error is
    raised."""
    try:
        row = db.session.scalar(select(WebhookEvent).where(
            WebhookEvent.id == event_id, WebhookEvent.processed_at.is_(None)).with_for_update())
        if row is None:
            db.session.rollback()
            return None
        event = from_stored(row.event, row.event_ts, row.zoom_account_id, row.payload or {})
        handler = HANDLERS.get(type(event))
        outcome = handler(row, event) if handler else f"ignored: {row.event} is not used"
        _finish(event_id, outcome)  # the commit: where the database refuses what it must
    except Exception:
        db.session.rollback()
        raise
    return outcome


def _finish(event_id: int, outcome: str) -> None:
    row = db.session.get(WebhookEvent, event_id)
    row.processed_at = utcnow()
    row.outcome = outcome[:200]
    db.session.commit()


def _mark_failed(event_id: int, error: Exception) -> None:
    """Record why the event could not be applied, so it is never tried again."""
    # The first line only: database errors list the statement's values after it.
    reason = str(error).split("\n", 1)[0][:150]
    try:
        _finish(event_id, f"failed: {type(error).__name__}: {reason}")
    except Exception as again:  # e.g. the database is gone: the next sweep tries again
        db.session.rollback()
        log.warning("Zoom webhook event %s could not be marked failed: %s", event_id,
                    type(again).__name__)


def apply_pending(limit: int = 100) -> int:
    """Apply events stored but not applied (a process died between answering and applying).

    An event that fails here too is marked failed with its reason, once: it is never tried
    again every sweep, and never holds back the events after it. Returns how many were
    looked at.
    """
    ids = list(db.session.scalars(select(WebhookEvent.id).where(
        WebhookEvent.processed_at.is_(None)).order_by(WebhookEvent.id).limit(limit)))
    db.session.commit()
    for event_id in ids:
        try:
            apply(event_id)
        except Exception as error:
            # One line, no traceback: the outcome holds the reason, and a traceback a
            # second for one bad event is what filled the disks.
            log.warning("Zoom webhook event %s could not be applied: %s", event_id,
                        type(error).__name__)
            _mark_failed(event_id, error)
    return len(ids)
