"""A bookings-table row, worked out in Python once: the template only puts it in place.

Rendering 50 rows was most of the page's cost (macro imports, filters and ``url_for`` per
cell); here each row is a handful of attribute reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.bookings.display import drift_fields, in_zone
from dashboard.bookings.signals import Signal, meeting_signal, sync_signal
from dashboard.models import (
    Booking,
    BookingState,
    DriftKind,
    Meeting,
    MeetingDrift,
    MeetingStatus,
)
from dashboard.services import error_causes
from dashboard.services.booking_actions import BookingActions, offered_actions
from dashboard.services.live_rows import LiveRows


@dataclass(frozen=True)
class RowView:
    id: int
    title: str
    ref: str
    customer: str
    email: str
    host: str | None
    start_iso: str
    day: str  # "Tue 01 Dec 2026", on the workspace's clock
    clock: str  # "14:00"
    minutes: int
    meeting: Signal
    sync: Signal
    cancelled: bool  # the booking, while its meeting may still be on its way out
    cause: str | None  # why the last Zoom work failed, in plain words
    note: str | None
    join_url: str | None
    join_digits: str | None  # "812 0000 0001", as Zoom shows a meeting id
    live: bool
    #: the one action a row shows when it is due: "retry", or "recreate" for a meeting
    #: deleted in Zoom (Recreate is its Retry); None otherwise
    primary: str | None
    actions: BookingActions
    #: Zoom changed or deleted the meeting (an open drift): what, in a few words
    attention: str | None = None


def meeting_cause(meeting: Meeting) -> error_causes.Cause | None:
    """Why the meeting's last Zoom work failed, in plain words (``services.error_causes``).

    A failure Lakesis would retry by itself ("nothing to do") that it has given up on is
    the operator's to retry: said so, not "Lakesis tries again"."""
    if not (meeting.last_error or meeting.error_code):
        return None
    cause = error_causes.explain(meeting.error_code, None, meeting.last_error)
    if cause is error_causes.UNKNOWN and meeting.error_code is None:
        return None  # no code to go by: Lakesis' own words say it best
    return error_causes.after_giving_up(cause) if meeting.status == MeetingStatus.FAILED else cause


def error_cause(meeting: Meeting) -> str | None:
    """The row's one line about a failure; Zoom's own words and code are on the booking's
    page."""
    cause = meeting_cause(meeting)
    if cause is None:
        return meeting.last_error
    return f"{cause.title} {cause.next_step}"


def attention(found: MeetingDrift | None) -> str | None:
    if found is None:
        return None
    if found.kind == DriftKind.DELETED:  # the meeting's own signal says "Deleted in Zoom"
        return "Recreate makes a new meeting, with a new join link."
    return f"Changed in Zoom: {drift_fields(found.changes)}"


def _digits(meeting_id: int | None) -> str | None:
    digits = str(meeting_id) if meeting_id else ""
    return f"{digits[:-8]} {digits[-8:-4]} {digits[-4:]}" if len(digits) > 7 else None


def row_view(booking: Booking, rows: LiveRows, zone: str | ZoneInfo,
             found: MeetingDrift | None = None) -> RowView:
    """``found``: the booking's open drift, if any (``services.drift.open_drifts``)."""
    meeting = booking.meeting
    local: datetime = (booking.start_at.astimezone(zone) if isinstance(zone, ZoneInfo)
                       else in_zone(booking.start_at, zone))  # type: ignore[assignment]
    actions = offered_actions(booking, open_operation=booking.id in rows.working, drift=found)
    primary = ("recreate" if actions.recreate.allowed
               else "retry" if actions.retry.allowed else None)
    return RowView(
        id=booking.id, title=booking.title, ref=booking.external_ref,
        customer=booking.customer_name, email=booking.customer_email,
        host=booking.host_email, start_iso=booking.start_at.isoformat(),
        day=local.strftime("%a %d %b %Y"), clock=local.strftime("%H:%M"),
        minutes=booking.duration_minutes, meeting=meeting_signal(booking),
        sync=sync_signal(booking, rows.work.get(booking.id)),
        cancelled=booking.state == BookingState.CANCELLED, cause=error_cause(meeting),
        note=meeting.note, join_url=meeting.join_url,
        join_digits=_digits(meeting.zoom_meeting_id), live=booking.id in rows.polling,
        primary=primary, actions=actions, attention=attention(found))
