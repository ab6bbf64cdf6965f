"""Zoom webhook events: store each once (fast), then apply it (after answering Zoom).

What an event says comes from ``zoom.webhooks`` as a typed event; this module decides what
it means for the meetings and connections Lakesis keeps.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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


@functools.cache
def _insert_once(dialect: str) -> Insert:
    """``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING id``, built once per
    dialect: building the statement cost as much as running it."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    events = WebhookEvent.__table__
    return (insert(events).values({name: bindparam(name) for name in _STORED})
            .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(events.c.id))


_STORED = ("event", "dedupe_key", "event_ts", "zoom_account_id", "payload", "received_at")


def store(event: ZoomEvent, dedupe_key: str) -> tuple[int, bool]:
    """Record a verified event once and commit. Returns (event id, is_new); a replay
    returns the first copy's id.

    One statement, committed by itself: this runs while Zoom waits for the answer.
    ``ON CONFLICT DO NOTHING`` instead of catching the unique violation keeps a replay as
    cheap as a new event. A connection of its own, not the ORM session: the event is
    committed whatever the request does next, and the session's bookkeeping is a fifth of
    the request's cost.
    """
    engine = db.engine
    # On PostgreSQL the statement is its own transaction: one round trip instead of BEGIN,
    # INSERT, COMMIT. SQLite's autocommit costs more than it saves (a PRAGMA on the way
    # back to the pool).
    with (engine.connect().execution_options(isolation_level="AUTOCOMMIT")
          if engine.dialect.name == "postgresql" else engine.begin()) as connection:
        new_id = connection.scalar(_insert_once(connection.dialect.name), {
            "event": event.name, "dedupe_key": dedupe_key, "event_ts": event.event_ts,
            "zoom_account_id": event.account_id, "payload": event.stored_payload(),
            "received_at": utcnow()})
        if new_id is not None:
            return new_id, True
        return connection.scalar(select(WebhookEvent.id).where(
            WebhookEvent.dedupe_key == dedupe_key)), False


def applies_at_once(event: ZoomEvent) -> bool:
    """Whether the webhook route applies the event before answering.

    A Marketplace removal does (rare, and the tokens must go at once); meeting events, the
    bulk of the traffic, are applied by the worker, so answering Zoom costs one insert.
    """
    return isinstance(event, Deauthorization)


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


def _outcome_of(row: WebhookEvent) -> str:
    event = from_stored(row.event, row.event_ts, row.zoom_account_id, row.payload or {})
    handler = HANDLERS.get(type(event))
    return handler(row, event) if handler else f"ignored: {row.event} is not used"


def _settle(row: WebhookEvent, outcome: str) -> None:
    row.processed_at = utcnow()
    row.outcome = outcome[:200]


def apply(event_id: int) -> str | None:
    """Apply one stored event if nobody has yet; returns its outcome. On failure the event
    stays pending (rolled back, the session clean for what comes next) and the error is
    raised."""
    try:
        # SKIP LOCKED: another worker applying this event right now has it; it is not ours.
        row = db.session.scalar(select(WebhookEvent).where(
            WebhookEvent.id == event_id, WebhookEvent.processed_at.is_(None))
            .with_for_update(skip_locked=True))
        if row is None:
            db.session.rollback()
            return None
        outcome = _outcome_of(row)
        _settle(row, outcome)
        db.session.commit()  # where the database refuses what it must
    except Exception:
        db.session.rollback()
        raise
    return outcome


def _mark_failed(event_id: int, error: Exception) -> None:
    """Record why the event could not be applied, so it is never tried again."""
    # The first line only: database errors list the statement's values after it.
    reason = str(error).split("\n", 1)[0][:150]
    try:
        row = db.session.get(WebhookEvent, event_id)
        _settle(row, f"failed: {type(error).__name__}: {reason}")
        db.session.commit()
    except Exception as again:  # e.g. the database is gone: the next loop tries again
        db.session.rollback()
        log.warning("Zoom webhook event %s could not be marked failed: %s", event_id,
                    type(again).__name__)


def apply_pending(limit: int = 100) -> int:
    """Apply the oldest events stored but not applied yet, in the order they came, in one
    transaction (one commit for the lot: applying is a few row updates each).

    Each event applies inside a savepoint: one that fails is rolled back alone and then
    marked failed with its reason, once, so it is never tried again every loop and never
    holds back the events after it. Returns how many this call settled (applied or marked
    failed); events another worker holds (SKIP LOCKED) are left to it.
    """
    rows = list(db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.processed_at.is_(None))
        .order_by(WebhookEvent.id).limit(limit).with_for_update(skip_locked=True)))
    failed: list[tuple[int, Exception]] = []
    for row in rows:
        event_id = row.id
        try:
            with db.session.begin_nested():
                _settle(row, _outcome_of(row))
        except Exception as error:
            failed.append((event_id, error))
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for event_id, error in failed:
        # One line, no traceback: the outcome holds the reason, and a traceback a
        # second for one bad event is what filled the disks.
        log.warning("Zoom webhook event %s could not be applied: %s", event_id,
                    type(error).__name__)
        _mark_failed(event_id, error)
    return len(rows)
