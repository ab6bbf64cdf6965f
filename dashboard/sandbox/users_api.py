"""``GET /v2/users/me``: the user who granted the token."""

from __future__ import annotations

from flask import Response

from . import directory, responses
from .api_auth import Caller, zoom_api
from .blueprint import bp


@bp.get("/v2/users/me")
@zoom_api("users_me")
def users_me(caller: Caller) -> Response:
    """The connected Zoom user (id, account, email, names, timezone...)."""
    return responses.json_response(directory.as_zoom_user(caller.user))
