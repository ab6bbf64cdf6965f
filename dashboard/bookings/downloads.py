"""Files about one booking that operators may download: the customer's invitation."""

from __future__ import annotations

from flask import abort
from werkzeug.wrappers import Response

from dashboard.access import requires
from dashboard.bookings.blueprint import bp
from dashboard.bookings.rendering import booking_or_404
from dashboard.calendar_file import ics_response
from dashboard.models import Permission
from dashboard.services import invitation


@bp.route("/<int:booking_id>/invitation.ics")
@requires(Permission.VIEW)
def invitation_file(booking_id: int) -> Response:
    booking = booking_or_404(booking_id)
    try:
        return ics_response(invitation.build(booking))
    except invitation.NoJoinLinkYet as refused:
        abort(409, refused.message)
