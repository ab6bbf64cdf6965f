"""Zoom's ``x-zm-trackingid``: on every API and OAuth response, and on webhook deliveries.

Zoom support asks for it; a client is expected to log it with failures. Unique per
response here (Zoom's look like ``v=2.0;clid=us06;rid=WEB_...``).
"""

from __future__ import annotations

import secrets

from flask import Response, request

from .blueprint import bp

HEADER = "x-zm-trackingid"


def tracking_id() -> str:
    """A fresh tracking id."""
    return f"v=2.0;clid=sbx;rid=SBX_{secrets.token_hex(16)}"


def _is_zoom_endpoint(path: str) -> bool:
    return "/v2/" in path or "/oauth/" in path


@bp.after_request
def _add_tracking_id(response: Response) -> Response:
    """Stamp Zoom's tracking id on API and OAuth answers (pages and controls are not Zoom's
    API, so they go without)."""
    if _is_zoom_endpoint(request.path):
        response.headers[HEADER] = tracking_id()
    return response
