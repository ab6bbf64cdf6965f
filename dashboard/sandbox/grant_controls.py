"""Test controls on a user's grants under ``/_control``: what Zoom does to tokens behind
the app's back, mid-run.

- expire the user's access tokens now (the app sees 401 code 124, refreshes, goes on);
- revoke the user's grants (their refresh tokens die too: the app must be reconnected
  through the consent page, as a person would).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from . import clock, directory, grants, responses
from .blueprint import bp
from .settings import setting
from .storage import transaction


def _user_id(body: dict[str, Any]) -> str | None:
    with transaction() as conn:
        user = directory.find_user(conn, str(body.get("user") or ""))
    return user["id"] if user else None


def _body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def _unknown_user() -> Response:
    return responses.json_response({"error": "user must be a sandbox user (id or email)"}, 404)


@bp.post("/_control/tokens/expire")
def control_expire_tokens() -> Response:
    """``{"user": id|email}``: the user's live access tokens expire now."""
    user_id = _user_id(_body())
    if user_id is None:
        return _unknown_user()
    with transaction() as conn:
        count = grants.expire_access_tokens(
            conn, user_id=user_id, client_id=setting("ZOOM_CLIENT_ID"), now_ts=clock.now_ts(conn)
        )
    return responses.json_response({"expired": count})


@bp.post("/_control/grants/revoke")
def control_revoke_grants() -> Response:
    """``{"user": id|email}``: revoke every live grant the user gave the app (no webhook:
    the token was revoked, the app was not removed)."""
    user_id = _user_id(_body())
    if user_id is None:
        return _unknown_user()
    with transaction() as conn:
        count = grants.revoke_user(
            conn,
            user_id=user_id,
            client_id=setting("ZOOM_CLIENT_ID"),
            now_ts=clock.now_ts(conn),
            reason="revoked",
        )
    return responses.json_response({"revoked": count})
