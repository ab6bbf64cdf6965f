"""Fault switches: make a named endpoint fail, slow down or time out on demand.

A fault is stored per endpoint in the sandbox database (so every process sees it) with an
optional count of requests it still applies to. Fault *rates* hit a share of an endpoint's
requests at random instead (20% answer 500, 10% time out...), several per endpoint, for
runs that throw a mix of failures; an armed switch goes before them. ``fault_switch``
wraps each Zoom endpoint.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import request
from sqlalchemy.engine import Connection

from . import clock, responses
from .ratelimit import (
    ACCOUNT_LIGHT_DAILY_QUOTA,
    category_of,
    next_second,
    next_utc_midnight,
    qps_limit,
)
from .settings import setting
from .storage import bump, fault_rates, faults, transaction

API_ENDPOINTS = (
    "users_me",
    "meetings_create",
    "meetings_get",
    "meetings_update",
    "meetings_delete",
    "meetings_list",
)
ENDPOINTS = ("token", "revoke", *API_ENDPOINTS)
# Refusals of a refresh other than "Invalid Token!" (Zoom's OAuth error table): each one
# means the grant is dead. mode -> (HTTP status, body).
REFRESH_REFUSALS: dict[str, tuple[int, dict[str, str]]] = {
    "refresh_4733": (
        400,
        {"reason": "Authorization code expired (4733)", "error": "invalid_grant"},
    ),
    "refresh_4735": (
        400,
        {"reason": "The owner of the token does not exist (4735)", "error": "invalid_grant"},
    ),
    "refresh_4738": (
        400,
        {"reason": "The token has been disabled by the admin (4738)", "error": "invalid_grant"},
    ),
    "refresh_4741": (
        400,
        {"reason": "The token has been revoked (4741)", "error": "invalid_grant"},
    ),
    "refresh_invalid_request": (400, {"reason": "Invalid Token!", "error": "invalid_request"}),
    "refresh_401": (401, {"reason": "Invalid Token!", "error": "invalid_grant"}),
}
MODES = (
    "error_500",
    "error_503",
    "slow",
    "rate_limit",  # per-second 429 with X-RateLimit-Reset (epoch seconds)
    "rate_limit_no_retry_after",  # per-second 429 without Reset (nor Retry-After)
    "daily_limit",  # daily-cap 429 with Retry-After as an ISO date-time
    "daily_limit_no_headers",  # daily-cap 429 with only Category/Limit/Remaining
    "invalid_refresh",
    *REFRESH_REFUSALS,
    "expired_token",
    # The endpoint does its work at once, then answers only after ``delay``: a client that
    # gives up first never hears of a meeting that exists (look it up before creating again).
    "timeout_after_commit",
    # The endpoint commits only after ``delay``, then answers: until then no list or lookup
    # shows the meeting, so a client that gave up and looked finds nothing, and its next
    # create makes a second meeting when the first lands (Zoom committing past a timeout).
    "slow_commit",
)
_HELD_BEFORE = ("slow", "slow_commit")  # sleep, then let the endpoint run


@dataclass(frozen=True)
class Fault:
    """One armed fault switch."""

    endpoint: str
    mode: str
    remaining: int | None
    delay: float


def arm(conn: Connection, endpoint: str, mode: str, count: int | None, delay: float) -> Fault:
    """Arm (or replace) the fault for an endpoint."""
    _check(endpoint, mode, delay)
    if count is not None and count < 1:
        raise ValueError("count must be a positive integer")
    conn.execute(faults.delete().where(faults.c.endpoint == endpoint))
    conn.execute(faults.insert().values(endpoint=endpoint, mode=mode, remaining=count, delay=delay))
    return Fault(endpoint, mode, count, delay)


def _check(endpoint: str, mode: str, delay: float) -> None:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; one of {', '.join(ENDPOINTS)}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    if delay < 0:
        raise ValueError("delay must not be negative")


@dataclass(frozen=True)
class FaultRate:
    """A fault that hits ``rate`` (0 to 1) of an endpoint's requests, drawn at random."""

    endpoint: str
    mode: str
    rate: float
    delay: float


def arm_rate(conn: Connection, endpoint: str, mode: str, rate: float, delay: float) -> FaultRate:
    """Arm (or replace) a fault rate; an endpoint's rates together stay at most 1."""
    _check(endpoint, mode, delay)
    if not 0 < rate <= 1:
        raise ValueError("rate must be above 0 and at most 1")
    others = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(fault_rates.c.rate), 0.0)).where(
            fault_rates.c.endpoint == endpoint, fault_rates.c.mode != mode
        )
    ).scalar_one()
    if others + rate > 1 + 1e-9:
        raise ValueError(f"the rates of {endpoint} would add up to more than 1")
    conn.execute(
        fault_rates.delete().where(fault_rates.c.endpoint == endpoint, fault_rates.c.mode == mode)
    )
    conn.execute(fault_rates.insert().values(endpoint=endpoint, mode=mode, rate=rate, delay=delay))
    return FaultRate(endpoint, mode, rate, delay)


def armed_rates(conn: Connection) -> list[FaultRate]:
    """The fault rates currently armed."""
    rows = conn.execute(
        sa.select(fault_rates).order_by(fault_rates.c.endpoint, fault_rates.c.mode)
    )
    return [FaultRate(r.endpoint, r.mode, r.rate, r.delay) for r in rows]


def clear(conn: Connection) -> None:
    """Disarm every fault, switches and rates."""
    conn.execute(faults.delete())
    conn.execute(fault_rates.delete())


def armed(conn: Connection) -> list[Fault]:
    """The faults currently armed."""
    rows = conn.execute(sa.select(faults).order_by(faults.c.endpoint))
    return [Fault(r.endpoint, r.mode, r.remaining, r.delay) for r in rows]


def _applies(mode: str, endpoint: str) -> bool:
    """Whether an armed mode concerns the current request (others wait for their turn)."""
    if mode == "invalid_refresh" or mode in REFRESH_REFUSALS:
        return endpoint == "token" and request.form.get("grant_type") == "refresh_token"
    if mode == "expired_token":
        return endpoint in API_ENDPOINTS
    return True


def _take(endpoint: str) -> Fault | None:
    """Count the request and consume one use of its fault, atomically."""
    with transaction() as conn:
        bump(conn, f"requests:{endpoint}")
        if endpoint == "token" and request.form.get("grant_type") == "refresh_token":
            bump(conn, "refreshes_served")
        row = conn.execute(sa.select(faults).where(faults.c.endpoint == endpoint)).first()
        if row is None or not _applies(row.mode, endpoint):
            return _draw(conn, endpoint)
        if row.remaining is not None:
            if row.remaining <= 1:
                conn.execute(faults.delete().where(faults.c.endpoint == endpoint))
            else:
                conn.execute(
                    faults.update()
                    .where(faults.c.endpoint == endpoint)
                    .values(remaining=faults.c.remaining - 1)
                )
        return Fault(row.endpoint, row.mode, row.remaining, row.delay)


def _draw(conn: Connection, endpoint: str) -> Fault | None:
    """The fault rate (if any) this request falls in: one draw against the endpoint's
    rates laid end to end."""
    rows = conn.execute(
        sa.select(fault_rates)
        .where(fault_rates.c.endpoint == endpoint)
        .order_by(fault_rates.c.mode)
    ).all()
    if not rows:
        return None
    point = random.random()  # noqa: S311 - test chaos, not a secret
    for row in rows:
        if point < row.rate:
            applies = _applies(row.mode, endpoint)
            return Fault(endpoint, row.mode, None, row.delay) if applies else None
        point -= row.rate
    return None


def _early_response(fault: Fault) -> Any:
    """The response a fault answers with instead of the endpoint, or None."""
    category = category_of(fault.endpoint)
    match fault.mode:
        case "error_500":
            return responses.server_error(500)
        case "error_503":
            return responses.server_error(503)
        case "rate_limit":
            with transaction() as conn:
                reset_at = next_second(clock.now_ts(conn))
            return responses.qps_limited(category, qps_limit(category), reset_at)
        case "rate_limit_no_retry_after":
            return responses.qps_limited(category, qps_limit(category), None)
        case "daily_limit_no_headers":
            return responses.daily_limited_bare(
                category,
                int(setting("ZOOM_SANDBOX_DAILY_MEETING_LIMIT")),
                ACCOUNT_LIGHT_DAILY_QUOTA,
                ACCOUNT_LIGHT_DAILY_QUOTA - 1,
            )
        case "daily_limit":
            with transaction() as conn:
                reset_at = next_utc_midnight(clock.now(conn))
            return responses.daily_limited(
                category,
                setting("ZOOM_SANDBOX_DAILY_MEETING_LIMIT"),
                reset_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        case "invalid_refresh":
            return responses.invalid_token_grant()
        case mode if mode in REFRESH_REFUSALS:
            status, body = REFRESH_REFUSALS[mode]
            return responses.json_response(body, status)
        case "expired_token":
            return responses.expired_token()
    return None


def fault_switch(endpoint: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view so the fault armed for ``endpoint`` (if any) shapes its answer."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            fault = _take(endpoint)
            if fault is None:
                return view(*args, **kwargs)
            early = _early_response(fault)
            if early is not None:
                return early
            if fault.mode in _HELD_BEFORE:
                time.sleep(fault.delay)
            response = view(*args, **kwargs)
            if fault.mode == "timeout_after_commit":
                # The work is committed; the client gives up before it hears so.
                time.sleep(fault.delay)
            return response

        return wrapper

    return decorate
