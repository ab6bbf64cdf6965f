"""Zoom's rate limits: per account per second by category, and per user per day.

Counters live in the sandbox database (one row per key, holding the current window), so
limits hold across threads and processes. Windows follow the sandbox clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .settings import setting
from .storage import rate_windows

# Zoom: create and list meetings are Medium; get/update/delete and users/me are Light.
_CATEGORIES = {"meetings_create": "Medium", "meetings_list": "Medium"}
# What the header-less daily-cap 429 carries in Limit/Remaining: the account's daily
# Light quota (Free plan: 6000), not the host's 100 create/update requests.
ACCOUNT_LIGHT_DAILY_QUOTA = 6000


def category_of(endpoint: str) -> str:
    """The rate-limit category of an endpoint name."""
    return _CATEGORIES.get(endpoint, "Light")


def qps_limit(category: str) -> int:
    """Requests per second allowed per account in a category."""
    key = "ZOOM_SANDBOX_QPS_MEDIUM" if category == "Medium" else "ZOOM_SANDBOX_QPS_LIGHT"
    return int(setting(key))


def daily_limit() -> int:
    """Meeting create/update requests allowed per user per UTC day."""
    return int(setting("ZOOM_SANDBOX_DAILY_MEETING_LIMIT"))


def next_second(now_ts: float) -> int:
    """``X-RateLimit-Reset`` of a per-second 429: when the next window opens (epoch s)."""
    return int(now_ts) + 1


def next_utc_midnight(moment: datetime) -> datetime:
    """The next 00:00 UTC after ``moment`` (when the daily cap resets)."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def _hit(conn: Connection, key: str, window: str) -> int:
    """Count one request in ``key``'s current window; return the count so far."""
    row = conn.execute(sa.select(rate_windows).where(rate_windows.c.key == key)).first()
    if row is None:
        conn.execute(rate_windows.insert().values(key=key, window=window, count=1))
        return 1
    count = row.count + 1 if row.window == window else 1
    conn.execute(
        rate_windows.update().where(rate_windows.c.key == key).values(window=window, count=count)
    )
    return count


def allow_qps(conn: Connection, account_id: str, category: str, now_ts: float) -> bool:
    """Count a request against the account's per-second limit; False when over it."""
    count = _hit(conn, f"qps:{account_id}:{category}", str(int(now_ts)))
    return count <= qps_limit(category)


@dataclass(frozen=True)
class DailyUsage:
    """Outcome of counting one create/update request against a user's daily cap."""

    allowed: bool
    limit: int
    remaining: int


def use_daily(conn: Connection, user_id: str, moment: datetime) -> DailyUsage:
    """Count a meeting create/update against the meeting host's cap today (UTC, sandbox
    clock). ``user_id`` is the meeting's host (the ``schedule_for`` user, else the
    caller), not the caller: Zoom counts the 100 a day per host."""
    limit = daily_limit()
    count = _hit(conn, f"daily:{user_id}", moment.strftime("%Y-%m-%d"))
    return DailyUsage(allowed=count <= limit, limit=limit, remaining=max(limit - count, 0))
