"""Bearer-token authentication, scope checks and rate limits for the ``/v2`` API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import make_response, request

from . import clock, directory, grants, responses
from .faults import fault_switch
from .ratelimit import DailyUsage, allow_qps, category_of, next_utc_midnight, qps_limit, use_daily
from .storage import transaction

# Which granted scopes satisfy each endpoint. Zoom's error names the granular scope.
SCOPES: dict[str, tuple[str, ...]] = {
    "users_me": ("user:read:user", "user:read"),
    "meetings_create": ("meeting:write:meeting", "meeting:write"),
    "meetings_get": ("meeting:read:meeting", "meeting:read"),
    "meetings_update": ("meeting:update:meeting", "meeting:write"),
    "meetings_delete": ("meeting:delete:meeting", "meeting:write"),
    # Listing also accepts meeting:read:meeting, so a client holding the default scopes
    # can look a meeting up after a create whose outcome it did not hear.
    "meetings_list": ("meeting:read:list_meetings", "meeting:read:meeting", "meeting:read"),
}
_DAILY_LIMITED = ("meetings_create", "meetings_update")


@dataclass(frozen=True)
class Caller:
    """Who is calling the API: the grant, its user, and their daily-cap usage."""

    grant: dict[str, Any]
    user: dict[str, Any]
    now_ts: float
    daily: DailyUsage | None


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _admit(endpoint: str) -> Caller | Any:
    """Authenticate and rate-limit one API request; return the Caller or the refusal."""
    token = _bearer()
    category = category_of(endpoint)
    with transaction() as conn:
        now_ts = clock.now_ts(conn)
        grant = grants.authenticate(conn, token, now_ts) if token else "unknown"
        if grant == "unknown":
            return responses.unknown_token()
        if grant == "expired":
            return responses.expired_token()
        granted = set(grant["scopes"].split())
        if not granted.intersection(SCOPES[endpoint]):
            return responses.missing_scope(SCOPES[endpoint][0])
        if not allow_qps(conn, grant["account_id"], category, now_ts):
            return responses.qps_limited(category, qps_limit(category))
        daily = None
        if endpoint in _DAILY_LIMITED:
            # Zoom counts the cap per user; here the user is the one who granted access.
            moment = clock.to_datetime(now_ts)
            daily = use_daily(conn, grant["user_id"], moment)
            if not daily.allowed:
                retry_at = next_utc_midnight(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
                return responses.daily_limited(category, daily.limit, retry_at)
        user = directory.get_user(conn, grant["user_id"])
    return Caller(grant=grant, user=user or {}, now_ts=now_ts, daily=daily)


def zoom_api(endpoint: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a ``/v2`` view: fault switch, bearer auth, scope, rate limits, headers.

    The view receives the ``Caller`` as its first argument.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @fault_switch(endpoint)
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = _admit(endpoint)
            if not isinstance(caller, Caller):
                return caller
            response = make_response(view(caller, *args, **kwargs))
            response.headers.setdefault("X-RateLimit-Category", category_of(endpoint))
            if caller.daily is not None and response.status_code < 400:
                response.headers["X-RateLimit-Limit"] = str(caller.daily.limit)
                response.headers["X-RateLimit-Remaining"] = str(caller.daily.remaining)
            return response

        return wrapper

    return decorate
