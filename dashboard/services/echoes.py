"""Our own changes echoed back by Zoom: told by what we sent and when, not by who sent it.

Zoom names the connected user as a ``meeting.updated``'s operator both for our API calls
and for that user's edits on Zoom's own web page, so the operator says nothing. What we
sent does: every create or update records its values first (committed before the call, as
Zoom may deliver the echo before it answers), and an event whose new values are all values
one of our sends carried, within the echo window, is that send coming back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from dashboard.extensions import db
from dashboard.models import MeetingSend
from dashboard.orm import utcnow
from dashboard.zoom.meetings import parse_time

#: the fields of a request body an echo is compared on
ECHOED = ("start_time", "duration", "topic", "timezone")


def window() -> timedelta:
    return timedelta(seconds=current_app.config.get("ECHO_WINDOW_SECONDS", 900))


def record_send(meeting_id: int, body: dict[str, Any], now: datetime | None = None) -> None:
    """Note the values about to be sent for our meeting ``meeting_id`` and forget sends
    older than the window; commits (the echo may arrive before Zoom answers)."""
    now = now or utcnow()
    db.session.execute(delete(MeetingSend).where(MeetingSend.meeting_id == meeting_id,
                                                 MeetingSend.sent_at < now - window()))
    db.session.add(MeetingSend(meeting_id=meeting_id, sent_at=now,
                               values={key: body[key] for key in ECHOED if key in body}))
    db.session.commit()


def _same(key: str, ours: Any, theirs: Any) -> bool:
    if key == "start_time":
        return parse_time(ours) is not None and parse_time(ours) == parse_time(theirs)
    return ours == theirs


def is_echo(meeting_id: int, zoom_values: dict[str, Any], now: datetime | None = None) -> bool:
    """Whether every value in ``zoom_values`` (body spelling) is what one of our sends for
    the meeting carried within the window. A passcode is never ours: never an echo."""
    if not zoom_values or "passcode" in zoom_values:
        return False
    since = (now or utcnow()) - window()
    sends = db.session.scalars(select(MeetingSend.values).where(
        MeetingSend.meeting_id == meeting_id, MeetingSend.sent_at >= since))
    return any(all(key in sent and _same(key, sent[key], value)
                   for key, value in zoom_values.items()) for sent in sends)


def last_sent_at(meeting_id: int, since: datetime) -> datetime | None:
    """When our newest send for the meeting since ``since`` left, if any."""
    return db.session.scalar(select(MeetingSend.sent_at).where(
        MeetingSend.meeting_id == meeting_id, MeetingSend.sent_at >= since)
        .order_by(MeetingSend.sent_at.desc()).limit(1))


def overwritten_by_us(meeting_id: int, changed_at: datetime,
                      synced_at: datetime | None) -> bool:
    """Whether a change Zoom made at ``changed_at`` was overwritten by a send of ours that
    left after it and succeeded (the meeting was synced after that send)."""
    if synced_at is None or synced_at < changed_at:
        return False
    return db.session.scalar(select(MeetingSend.id).where(
        MeetingSend.meeting_id == meeting_id, MeetingSend.sent_at > changed_at,
        MeetingSend.sent_at <= synced_at).limit(1)) is not None
