"""Bearer-token authentication, scope checks and rate limits for the ``/v2`` API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Response, make_response, request
from sqlalchemy.engine import Connection

from . import clock, directory, grants, responses
from .faults import fault_switch
from .ratelimit import (
    DailyUsage,
    allow_qps,
    category_of,
    next_second,
    next_utc_midnight,
    qps_limit,
    use_daily,
)
from .storage import transaction

# The granular scope each endpoint needs (Zoom's 4711 names it), then the classic scope
# that also satisfies it for apps registered with classic scopes. No endpoint accepts
# another endpoint's granular scope: listing needs meeting:read:list_meetings.
SCOPES: dict[str, tuple[str, ...]] = {
    "users_me": ("user:read:user", "user:read"),
    "meetings_create": ("meeting:write:meeting", "meeting:write"),
    "meetings_get": ("meeting:read:meeting", "meeting:read"),
    "meetings_update": ("meeting:update:meeting", "meeting:write"),
    "meetings_delete": ("meeting:delete:meeting", "meeting:write"),
    "meetings_list": ("meeting:read:list_meetings", "meeting:read"),
}
# What ``/users/{userId}/...`` for a user other than the caller needs: admin scopes, which
# a user-managed app cannot hold. So such a call always answers 4711 naming them.
ADMIN_SCOPES: dict[str, str] = {
    "meetings_create": "meeting:write:meeting:admin",
    "meetings_list": "meeting:read:list_meetings:admin",
}


@dataclass
class Caller:
    """Who is calling the API: the grant, its user, and (once charged) the daily-cap
    usage of the meeting host the call counts against."""

    grant: dict[str, Any]
    user: dict[str, Any]
    now_ts: float
    daily: DailyUsage | None = None

    def is_self(self, ref: str) -> bool:
        """Whether a ``userId`` path value names the caller (``me``, own id or email)."""
        return (
            ref == "me"
            or ref == self.user.get("id")
            or (ref.lower() == str(self.user.get("email", "")).lower())
        )


def other_user_refusal(caller: Caller, endpoint: str, ref: str) -> Response | None:
    """4711 for ``/users/{ref}/meetings`` naming someone other than the caller: a
    user-level app creates and lists through ``me``; others need the admin scope."""
    if caller.is_self(ref):
        return None
    return responses.missing_scope(ADMIN_SCOPES[endpoint])


def charge_daily(conn: Connection, caller: Caller, host_id: str, endpoint: str) -> Response | None:
    """Count a create/update against the meeting host's daily cap; the 429 when over it.

    Zoom counts the 100 a day per meeting host (the ``schedule_for`` user, else the
    caller), not per caller.
    """
    moment = clock.to_datetime(caller.now_ts)
    caller.daily = use_daily(conn, host_id, moment)
    if caller.daily.allowed:
        return None
    retry_at = next_utc_midnight(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
    return responses.daily_limited(category_of(endpoint), caller.daily.limit, retry_at)


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
            return responses.qps_limited(category, qps_limit(category), next_second(now_ts))
        user = directory.get_user(conn, grant["user_id"])
    # The daily cap is charged by the view, once it knows the meeting's host.
    return Caller(grant=grant, user=user or {}, now_ts=now_ts)


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
