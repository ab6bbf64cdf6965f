"""A bookings-table row, worked out in Python once: the template only puts it in place.

Rendering 50 rows was most of the page's cost (macro imports, filters and ``url_for`` per
cell); here each row is a handful of attribute reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.bookings.display import in_zone
from dashboard.bookings.signals import Signal, meeting_signal, sync_signal
from dashboard.models import Booking, BookingState, Meeting
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
    retry: bool  # the one action a row shows: Retry, when it is due
    actions: BookingActions


def error_cause(meeting: Meeting) -> str | None:
    """What went wrong, for the person looking at the row.

    # MERGE: services.error_causes.explain(code, status, message) -> Cause(title,
    # next_step, who_acts) (helper "drift") replaces this: show cause.title and
    # cause.next_step here, the raw last_error one click away on the booking's page.
    """
    return meeting.last_error


def _digits(meeting_id: int | None) -> str | None:
    digits = str(meeting_id) if meeting_id else ""
    return f"{digits[:-8]} {digits[-8:-4]} {digits[-4:]}" if len(digits) > 7 else None


def row_view(booking: Booking, rows: LiveRows, zone: str | ZoneInfo) -> RowView:
    meeting = booking.meeting
    local: datetime = (booking.start_at.astimezone(zone) if isinstance(zone, ZoneInfo)
                       else in_zone(booking.start_at, zone))  # type: ignore[assignment]
    actions = offered_actions(booking, open_operation=booking.id in rows.working)
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
        retry=actions.retry.allowed, actions=actions)


def row_views(bookings: Iterable[Booking], rows: LiveRows, zone: str) -> list[RowView]:
    try:
        clock: str | ZoneInfo = ZoneInfo(zone)
    except (ValueError, KeyError):  # in_zone falls back to UTC, row by row
        clock = zone
    return [row_view(booking, rows, clock) for booking in bookings]
