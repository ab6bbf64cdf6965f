"""The customer's invitation as an iCalendar file, for the booking workflow to send itself."""

from __future__ import annotations

from flask import Response

from dashboard.access import requires_api_key
from dashboard.api.blueprint import bp
from dashboard.api.routes import booking_named
from dashboard.calendar_file import ics_response
from dashboard.services import invitation


@bp.get("/bookings/<booking_id>/invitation.ics")
@requires_api_key
def booking_invitation(booking_id: str) -> Response:
    return ics_response(invitation.build(booking_named(booking_id)))
