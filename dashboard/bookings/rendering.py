"""What the bookings views share: finding the booking, and rendering its row and its page.

Both route modules (``routes`` for reading, ``actions`` for the fixes) import this one and
never each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import abort, make_response, render_template
from werkzeug.wrappers import Response

from dashboard.access import current_membership, current_workspace
from dashboard.bookings.forms import RescheduleForm
from dashboard.bookings.row_view import meeting_cause, row_view
from dashboard.bookings.table import table_bits
from dashboard.models import Booking, MeetingDrift, Permission
from dashboard.services import NotFound, bookings, drift
from dashboard.services.booking_actions import BookingActions, offered_actions
from dashboard.services.booking_history import timeline
from dashboard.services.booking_input import local_time
from dashboard.services.live_rows import LiveRows, live_rows

ROW = "partials/booking_row.html"


def booking_or_404(booking_id: int) -> Booking:
    try:
        return bookings.get(current_workspace(), booking_id)
    except NotFound:
        abort(404)


def may_operate() -> bool:
    return current_membership().can(Permission.OPERATE)


def actions_of(booking_list: Iterable[Booking], rows: LiveRows,
               drifts: dict[int, MeetingDrift] | None = None) -> dict[int, BookingActions]:
    """What each booking offers, by id (``rows`` says which have claimable work; ``drifts``
    the open drifts, read here when not given)."""
    booking_list = list(booking_list)
    if drifts is None:
        drifts = drift.open_drifts(booking.id for booking in booking_list)
    return {booking.id: offered_actions(booking, open_operation=booking.id in rows.working,
                                        drift=drifts.get(booking.id))
            for booking in booking_list}


def row_context(booking: Booking, **extra: object) -> dict[str, object]:
    """What ``partials/booking_row.html`` (and the row's menu) needs for one booking."""
    rows = live_rows([booking])
    drifts = drift.open_drifts([booking.id])
    return {"view": row_view(booking, rows, current_workspace().timezone,
                             drifts.get(booking.id)),
            "table": table_bits(may_operate()), **extra}


def reschedule_form(booking: Booking) -> RescheduleForm:
    """The form filled with the booking as it stands, on the booking's own clock."""
    start = local_time(booking.start_at, booking.timezone)
    return RescheduleForm(formdata=None, date=start.date(), time=start.time(),
                          duration_minutes=booking.duration_minutes, timezone=booking.timezone)


def render_detail(booking: Booking, form: RescheduleForm, status: int = 200) -> Response:
    """The booking's page, with ``form`` as its reschedule form."""
    rows = live_rows([booking])
    zone = current_workspace().timezone
    drifts = drift.open_drifts([booking.id])
    found = drifts.get(booking.id)
    meeting = booking.meeting
    body = render_template(
        "pages/booking_detail.html", booking=booking, meeting=meeting,
        zone=zone, timeline=timeline(booking), form=form,
        view=row_view(booking, rows, zone, found), live=booking.id in rows.polling,
        actions=actions_of([booking], rows, drifts)[booking.id],
        drift=found, drift_lines=drift.explain(found) if found else [],
        cause=meeting_cause(meeting),
        may_operate=may_operate())
    return make_response(body, status)
