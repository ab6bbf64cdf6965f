"""Drift: what Zoom holds for a booking's meeting that the booking does not say.

Noticed by the meeting webhooks (``webhook_events``) and by reconciliation
(``reconcile``); fixed by an operator (``drift_fixes``), or settled by itself when Lakesis
pushes the booking's values again (a reschedule, a restore) or the booking is cancelled.
Values are compared in Zoom's request spelling: ``start_time`` as Zoom's UTC text,
``duration`` in minutes, ``topic``; a passcode only as "changed" (never kept).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    DriftKind,
    DriftResolution,
    DriftSource,
    EventType,
    Meeting,
    MeetingDrift,
    MeetingStatus,
)
from dashboard.orm import utcnow
from dashboard.services import booking_events
from dashboard.zoom.meetings import MAX_TOPIC, format_time, parse_time

FIELDS = ("start_time", "duration", "topic", "passcode")
LABELS = {"start_time": "Start time", "duration": "Length", "topic": "Topic",
          "passcode": "Passcode"}
PASSCODE_CHANGED = "changed"


def booking_values(booking: Booking) -> dict[str, Any]:
    """What the booking says, as Zoom would spell it."""
    return {"start_time": format_time(booking.start_at), "duration": booking.duration_minutes,
            "topic": booking.title[:MAX_TOPIC]}


def listed_values(item: dict[str, Any]) -> dict[str, Any]:
    """A meeting as Zoom lists or reads it, in the compared fields."""
    values: dict[str, Any] = {}
    start = parse_time(item.get("start_time"))
    if start is not None:
        values["start_time"] = format_time(start)
    if isinstance(item.get("duration"), int):
        values["duration"] = item["duration"]
    if isinstance(item.get("topic"), str):
        values["topic"] = item["topic"]
    return values


def _differences(booking: Booking, zoom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ours = booking_values(booking)
    found: dict[str, dict[str, Any]] = {}
    for key, value in zoom.items():
        if key == "passcode":
            found[key] = {"old": None, "new": PASSCODE_CHANGED}
        elif key in ours and value != ours[key]:
            found[key] = {"old": ours[key], "new": value}
    return found


def open_drift(booking_id: int) -> MeetingDrift | None:
    return db.session.scalar(select(MeetingDrift).where(
        MeetingDrift.booking_id == booking_id, MeetingDrift.resolved_at.is_(None))
        .order_by(MeetingDrift.id.desc()).limit(1))


def open_drifts(booking_ids: Iterable[int]) -> dict[int, MeetingDrift]:
    """The open drift of each of these bookings that has one (one query)."""
    ids = list(booking_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(MeetingDrift).where(
        MeetingDrift.booking_id.in_(ids), MeetingDrift.resolved_at.is_(None))
        .order_by(MeetingDrift.id))
    return {drift.booking_id: drift for drift in rows}


def resolve(drift: MeetingDrift, how: DriftResolution, by: str) -> None:
    drift.resolved_at = utcnow()
    drift.resolution = how.value
    drift.resolved_by = by[:254]


def _keep_synced(meeting: Meeting, zoom: dict[str, Any]) -> None:
    if "start_time" in zoom:
        meeting.synced_start_at = parse_time(zoom["start_time"]) or meeting.synced_start_at
    if "duration" in zoom:
        meeting.synced_duration = zoom["duration"]


def note_change(meeting: Meeting, zoom: dict[str, Any], source: DriftSource,
                operator: str | None = None) -> MeetingDrift | None:
    """Zoom says ``zoom`` (some of the compared fields) for the meeting: record how it
    differs from the booking, merged into the booking's open drift; a drift whose every
    field agrees again is settled. Returns the open drift, if any. The caller commits."""
    booking = meeting.booking
    _keep_synced(meeting, zoom)
    found = _differences(booking, zoom)
    drift = open_drift(booking.id)
    if drift is not None and drift.kind == DriftKind.CHANGED:
        merged = {key: value for key, value in drift.changes.items() if key not in zoom}
        merged.update(found)
        if not merged:
            resolve(drift, DriftResolution.IN_LINE, "Zoom")
            return None
        drift.changes = merged  # a new dict: JSON columns see replacement, not mutation
        drift.zoom_operator = operator or drift.zoom_operator
        return drift
    if not found or drift is not None:  # an open deletion outranks a change
        return drift
    drift = MeetingDrift(workspace_id=booking.workspace_id, booking_id=booking.id,
                         zoom_meeting_id=meeting.zoom_meeting_id, kind=DriftKind.CHANGED.value,
                         changes=found, detected_at=utcnow(), detected_by=source.value,
                         zoom_operator=operator)
    db.session.add(drift)
    _tell_workflow(booking, "changed_in_zoom", changes=found,
                   next_step="An operator keeps Zoom's values or restores the booking's.")
    return drift


def note_deleted(meeting: Meeting, source: DriftSource,
                 operator: str | None = None) -> MeetingDrift:
    """The meeting is gone from Zoom: the booking needs a new one. Marks the meeting
    "Deleted in Zoom" (its links gone) and records the drift. The caller commits."""
    booking = meeting.booking
    drift = open_drift(booking.id)
    if drift is not None and drift.kind == DriftKind.DELETED:
        return drift
    if drift is not None:
        resolve(drift, DriftResolution.SUPERSEDED, "Zoom")
    old_link = meeting.join_url
    meeting.status = MeetingStatus.DELETED_IN_ZOOM.value
    meeting.join_url = meeting.start_url_enc = None
    who = f"Zoom user {operator}" if operator else "someone in Zoom"
    meeting.note = f"Deleted in Zoom by {who}: Recreate makes a new meeting."[:500]
    drift = MeetingDrift(workspace_id=booking.workspace_id, booking_id=booking.id,
                         zoom_meeting_id=meeting.zoom_meeting_id, kind=DriftKind.DELETED.value,
                         changes={}, detected_at=utcnow(), detected_by=source.value,
                         zoom_operator=operator, old_join_url=old_link)
    db.session.add(drift)
    _tell_workflow(booking, "deleted_in_zoom", zoom_meeting_id=meeting.zoom_meeting_id,
                   next_step="An operator recreates the meeting (its join link will change).")
    return drift


def _tell_workflow(booking: Booking, reason: str, **data: Any) -> None:
    """``meeting.needs_attention`` for the booking workflow, in the drift's transaction."""
    booking_events.record_once(EventType.MEETING_NEEDS_ATTENTION,
                               {"reason": reason, **data}, booking)


def settle_after_push(booking: Booking, by: str, pushed_at: datetime | None = None) -> None:
    """Zoom got the booking's values at ``pushed_at`` (a create or update succeeded), or the
    booking is cancelled (no ``pushed_at``): an open drift noticed before then is settled
    (one noticed after may be a change made after ours: it stays). The caller commits."""
    drift = open_drift(booking.id)
    if drift is None or (pushed_at is not None and drift.detected_at > pushed_at):
        return
    how = (DriftResolution.RECREATED if drift.kind == DriftKind.DELETED
           and booking.meeting.status != MeetingStatus.CANCELLED else DriftResolution.SUPERSEDED)
    resolve(drift, how, by)


def deleted_link(booking_id: int) -> str | None:
    """The join link of the booking's meeting deleted in Zoom (an open deletion), if known."""
    drift = open_drift(booking_id)
    return drift.old_join_url if drift is not None and drift.kind == DriftKind.DELETED else None


def explain(drift: MeetingDrift) -> list[str]:
    """The drift in sentences, one per field (times in UTC; pages show them zoned)."""
    if drift.kind == DriftKind.DELETED:
        return ["The meeting was deleted in Zoom; its join link no longer works."]
    lines = []
    for key in FIELDS:
        change = drift.changes.get(key)
        if not change:
            continue
        if key == "passcode":
            lines.append("The passcode was changed in Zoom; the join link Lakesis holds may "
                         "no longer work.")
            continue
        old, new = change.get("old"), change.get("new")
        if key == "start_time":
            old, new = (f"{parse_time(v):%Y-%m-%d %H:%M} UTC" if parse_time(v) else "?"
                        for v in (old, new))
        elif key == "duration":
            old, new = f"{old} min", f"{new} min"
        lines.append(f"{LABELS[key]}: the booking says {old}, Zoom says {new}.")
    return lines
