"""An invitation as an HTTP answer: the .ics, as a download, never cached."""

from __future__ import annotations

from flask import Response

from dashboard.services.invitation import Invitation


def ics_response(invitation: Invitation) -> Response:
    response = Response(invitation.text, content_type=invitation.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{invitation.filename}"'
    # It changes with the booking: never served from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response
