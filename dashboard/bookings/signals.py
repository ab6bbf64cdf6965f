"""The two signals of a booking: where its Zoom meeting stands, and where Lakesis's work on
it stands. One badge used to say both ("Pending" for a booking failing its fourth attempt).

``tone`` picks a colour and an icon in console.css (ok, busy, warn, bad, off).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.models import Booking, BookingState, MeetingStatus, OperationState
from dashboard.services.live_rows import Work
from dashboard.services.retry_policy import MAX_ATTEMPTS


@dataclass(frozen=True)
class Signal:
    label: str
    tone: str
    detail: str | None = None  # e.g. "attempt 4 of 8"
    due: datetime | None = None  # the next try, counted down on the page


_MEETING = {
    MeetingStatus.STARTED: Signal("In progress", "ok"),
    MeetingStatus.ENDED: Signal("Ended", "off"),
    MeetingStatus.CANCELLED: Signal("Cancelled", "off"),
    MeetingStatus.DELETED_IN_ZOOM: Signal("Deleted in Zoom", "bad"),
}
_SCHEDULED = Signal("Scheduled", "ok")
_NOT_YET = Signal("Not in Zoom yet", "off")


def meeting_signal(booking: Booking) -> Signal:
    """The meeting's life in Zoom, whatever Lakesis is doing about it."""
    meeting = booking.meeting
    known = _MEETING.get(meeting.status)
    if known is not None:
        return known
    return _SCHEDULED if meeting.zoom_meeting_id else _NOT_YET


_IN_SYNC = Signal("In sync", "ok")
_SENDING = Signal("Sending to Zoom", "busy")
_QUEUED = Signal("Queued", "busy")
_WAITING = Signal("Waiting for Zoom", "warn")  # the note below says for what
_FAILED = Signal("Failed", "bad")


def sync_signal(booking: Booking, work: Work | None) -> Signal:
    """Lakesis's work on the meeting: in sync, on its way, retrying (which attempt, when
    next), waiting for a connection, or failed."""
    status = booking.meeting.status
    if work is not None:
        if work.state == OperationState.RUNNING:
            return _SENDING
        if work.state == OperationState.WAITING:
            return _WAITING
        if work.attempts > 0:
            return Signal("Retrying", "warn",
                          f"attempt {min(work.attempts + 1, MAX_ATTEMPTS)} of {MAX_ATTEMPTS}",
                          work.next_attempt_at)
        return _QUEUED
    if status == MeetingStatus.FAILED:
        return _FAILED
    if status == MeetingStatus.WAITING_FOR_CONNECTION:
        return _WAITING
    if status == MeetingStatus.PENDING:
        return _QUEUED
    if (booking.state == BookingState.CANCELLED and status not in
            (MeetingStatus.CANCELLED, MeetingStatus.DELETED_IN_ZOOM)):
        return _FAILED if booking.meeting.last_error else _QUEUED
    return _IN_SYNC
