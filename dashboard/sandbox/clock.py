"""The sandbox clock: real UTC time plus an offset that tests can move.

The offset lives in the sandbox database so every thread and process sharing the file
sees the same time. All expiry (codes, tokens, daily limits) goes through here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .storage import state

_OFFSET_KEY = "clock_offset_seconds"


def offset(conn: Connection) -> float:
    """Seconds the sandbox clock is ahead of real time."""
    value = conn.execute(sa.select(state.c.value).where(state.c.key == _OFFSET_KEY)).scalar()
    return float(value) if value is not None else 0.0


def now_ts(conn: Connection) -> float:
    """Sandbox time as epoch seconds."""
    return time.time() + offset(conn)


def now(conn: Connection) -> datetime:
    """Sandbox time as an aware UTC datetime."""
    return to_datetime(now_ts(conn))


def to_datetime(ts: float) -> datetime:
    """Epoch seconds to an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


def iso(ts: float) -> str:
    """Epoch seconds in Zoom's format, ``yyyy-MM-ddTHH:mm:ssZ``."""
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def advance(conn: Connection, seconds: float) -> float:
    """Move the clock forward (or back, if negative); return the new offset."""
    new_offset = offset(conn) + seconds
    updated = conn.execute(
        state.update().where(state.c.key == _OFFSET_KEY).values(value=repr(new_offset))
    ).rowcount
    if not updated:
        conn.execute(state.insert().values(key=_OFFSET_KEY, value=repr(new_offset)))
    return new_offset


def reset(conn: Connection) -> None:
    """Put the clock back to real time."""
    conn.execute(state.delete().where(state.c.key == _OFFSET_KEY))
