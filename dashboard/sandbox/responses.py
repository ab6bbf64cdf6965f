"""Zoom's response shapes: OAuth errors, API errors and 429s."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = (
    "You have exceeded the daily rate limit ({limit}) of Meeting Create/Update API requests "
    "permitted for this particular user. You may resume these requests at GMT 00:00:00."
)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised compactly, as Zoom sends it (raw UTF-8, no escapes)."""
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers=headers or {},
    )


def oauth_error(error: str, reason: str | None, status: int = 400) -> Response:
    """Zoom's token-endpoint error: ``{"reason": .., "error": ..}``."""
    body = {"reason": reason, "error": error} if reason else {"error": error}
    return json_response(body, status)


def invalid_token_grant() -> Response:
    """A rotated, revoked or unknown refresh token."""
    return oauth_error("invalid_grant", "Invalid Token!")


def invalid_code() -> Response:
    """A reused, expired or unknown authorization code."""
    return oauth_error("invalid_grant", "Invalid authorization code")


def invalid_client() -> Response:
    """Missing or wrong HTTP Basic client credentials."""
    return oauth_error("invalid_client", "Invalid client_id or client_secret")


def api_error(
    code: int, message: str, status: int, errors: list[dict[str, str]] | None = None
) -> Response:
    """Zoom's API error: ``{"code": N, "message": .., "errors": [..]}``."""
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


def expired_token() -> Response:
    """401 code 124 for an expired or revoked access token."""
    return api_error(124, "Access token is expired.", 401)


def unknown_token() -> Response:
    """401 code 124 for a token the sandbox never issued."""
    return api_error(124, "Invalid access token.", 401)


def missing_scope(scope: str) -> Response:
    """HTTP 400 (not 401) code 4711: the token lacks the scope the endpoint needs.

    Not fixed by a refresh, nor by a reconnect unless the app registration gains it.
    """
    return api_error(4711, f"Invalid access token, does not contain scopes:[{scope}].", 400)


def qps_limited(category: str, limit: int, reset_at: int | None) -> Response:
    """429 for the per-second limit: ``X-RateLimit-Reset`` (epoch seconds), never
    ``Retry-After`` (Zoom documents that on daily limits only). ``reset_at=None`` gives
    the bare variant with neither, as seen in practice."""
    headers = {
        "X-RateLimit-Category": category,
        "X-RateLimit-Type": "QPS",
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
    }
    if reset_at is not None:
        headers["X-RateLimit-Reset"] = str(reset_at)
    return json_response({"code": 429, "message": QPS_MESSAGE}, 429, headers)


def daily_limited(category: str, limit: int, retry_at_iso: str) -> Response:
    """429 for the per-user daily create/update cap; Retry-After is an ISO date-time."""
    headers = {
        "X-RateLimit-Category": category,
        "X-RateLimit-Type": "Daily-limit",
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "Retry-After": retry_at_iso,
    }
    return json_response({"code": 429, "message": DAILY_MESSAGE.format(limit=limit)}, 429, headers)


def daily_limited_bare(
    category: str, daily_cap: int, account_limit: int, account_remaining: int
) -> Response:
    """The daily cap as also seen in practice: no ``Retry-After``, no ``X-RateLimit-Type``,
    and Limit/Remaining carrying the account's Light quota rather than the host's 100."""
    headers = {
        "X-RateLimit-Category": category,
        "X-RateLimit-Limit": str(account_limit),
        "X-RateLimit-Remaining": str(account_remaining),
    }
    return json_response(
        {"code": 429, "message": DAILY_MESSAGE.format(limit=daily_cap)}, 429, headers
    )


def server_error(status: int) -> Response:
    """A 5xx as a fault switch produces it."""
    message = "Internal Server Error" if status == 500 else "Service Temporarily Unavailable"
    return json_response({"code": status, "message": message}, status)
