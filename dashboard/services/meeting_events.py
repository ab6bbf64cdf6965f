"""What the worker's results mean to the booking workflow: the meeting events it emits.

``meeting_sync`` takes a :class:`Before` of the meeting, applies Zoom's answer, then asks
here what changed. Each fact is told once: a re-sync that changed nothing, or a retry that
fails the same way again, records nothing (``booking_events.record_once``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard.models import Booking, EventType, Meeting, MeetingStatus, OperationKind
from dashboard.services import booking_events, error_causes, invitation
from dashboard.zoom.meetings import ZoomMeeting


@dataclass(frozen=True)
class Before:
    status: str
    join_url: str | None
    start_at: datetime | None
    duration: int | None

    @classmethod
    def of(cls, meeting: Meeting) -> Before:
        return cls(meeting.status, meeting.join_url, meeting.synced_start_at,
                   meeting.synced_duration)


def _time(booking: Booking, start: datetime | None, duration: int | None) -> dict[str, Any]:
    return {"start": booking_events.moment(start, booking.timezone),
            "duration_minutes": duration}


def ready_data(booking: Booking, zoom: ZoomMeeting | None) -> dict[str, Any]:
    meeting = booking.meeting
    raw = zoom.raw if zoom is not None else {}
    return {"join_url": meeting.join_url, "passcode": raw.get("password") or None,
            "zoom_meeting_id": meeting.zoom_meeting_id,
            **_time(booking, meeting.synced_start_at or booking.start_at,
                    meeting.synced_duration or booking.duration_minutes),
            "host": {"email": booking.host_email or raw.get("host_email") or None},
            # The customer's calendar invitation, as GET .../invitation.ics serves it, for a
            # workflow that sends its own mail.
            "invitation_ics": invitation.build(booking).text}


def settled(kind: OperationKind, booking: Booking, before: Before,
            zoom: ZoomMeeting | None) -> None:
    """After a successful operation: ready, changed or cancelled, if it was one of those."""
    meeting = booking.meeting
    if kind == OperationKind.CANCEL:
        if meeting.status == MeetingStatus.CANCELLED:
            booking_events.record_once(EventType.MEETING_CANCELLED, {
                "zoom_meeting_id": meeting.zoom_meeting_id,
                "start": booking_events.moment(booking.start_at, booking.timezone)}, booking)
        return
    if kind == OperationKind.RESYNC or not meeting.join_url:
        return  # a read-back reports drift (the drift work), not a change we made
    if before.join_url is None:
        booking_events.record_once(EventType.MEETING_READY, ready_data(booking, zoom), booking)
        return
    recreated = meeting.join_url != before.join_url
    moved = (meeting.synced_start_at, meeting.synced_duration) != (before.start_at,
                                                                  before.duration)
    if not (recreated or moved):
        return
    data: dict[str, Any] = {
        "old": _time(booking, before.start_at, before.duration),
        "new": _time(booking, meeting.synced_start_at, meeting.synced_duration),
        "recreated": recreated, "zoom_meeting_id": meeting.zoom_meeting_id}
    if recreated:
        data["old"]["join_url"] = before.join_url
        data["new"]["join_url"] = meeting.join_url
        data["new"]["passcode"] = (zoom.raw.get("password") or None) if zoom else None
    booking_events.record_once(EventType.MEETING_CHANGED, data, booking)


def gave_up(booking: Booking, detail: str, error: BaseException, retryable: bool) -> None:
    """The meeting's Zoom work failed for good (an operator decides what next): the plain
    cause and next step (``error_causes``), with Zoom's code and words beside them."""
    code, status = getattr(error, "code", None), getattr(error, "status", None)
    explained = (error_causes.after_giving_up(error_causes.explain(code, status, str(error)))
                 or (error_causes.GAVE_UP if retryable else None))
    if explained is not None:
        cause, next_step = explained.title, explained.next_step
    else:
        cause = "Zoom (or Lakesis) refused the request itself."
        next_step = ("Correct the booking or the Zoom account as the detail says, then Retry "
                     "from the booking's page.")
    booking_events.record_once(EventType.MEETING_FAILED, {
        "cause": cause, "next_step": next_step, "detail": detail,
        "zoom_code": str(code) if code is not None else None,
        "zoom_http_status": status}, booking)
