"""Throttle sign-ins per account and per client address.

Every attempt is counted, in one atomic statement per key, *before* the password is checked,
and the decision is taken from the count that includes it: a burst of parallel guesses can
get no more password checks than the limit. A sign-in that succeeds takes its attempt back,
so the counts are of failures (and of attempts still being checked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.extensions import db
from dashboard.models import LoginFailure
from dashboard.orm import UTCDateTime, utcnow
from dashboard.services.unit_of_work import transaction


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


def admit(limits: Sequence[Limit], window_seconds: int) -> int:
    """Count one attempt against every key; the seconds to wait if any key is now over its
    limit (the password must then not be checked), else 0."""
    now = utcnow()
    window = timedelta(seconds=window_seconds)
    wait = 0
    with transaction():
        for limit in limits:
            attempts, started = _count_attempt(limit.key, now, now - window)
            if attempts > limit.max_failures:
                wait = max(wait, int((started + window - now).total_seconds()) + 1)
    return max(wait, 0)


def _count_attempt(key: str, now: datetime, stale_before: datetime) -> tuple[int, datetime]:
    """Add one to ``key``'s count (starting it, or starting it again when its window has
    passed) and return the count and when its window started: one upsert, so parallel
    attempts can neither read the same count nor lose an increment."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = LoginFailure.__table__.c
    stale = row.window_started_at <= stale_before
    statement = insert(LoginFailure).values(key=key, failures=1, window_started_at=now)
    statement = statement.on_conflict_do_update(index_elements=[row.key], set_={
        "failures": case((stale, 1), else_=row.failures + 1),
        "window_started_at": case((stale, literal(now, UTCDateTime())),
                                  else_=row.window_started_at),
    }).returning(row.failures, row.window_started_at)
    attempts, started = db.session.execute(statement).one()
    return attempts, started


def succeeded(limits: Sequence[Limit]) -> None:
    """A sign-in passed: its account starts afresh; the other keys (the address) take back
    the attempt, so that people signing in right are never throttled for it."""
    account, *others = limits
    with transaction():
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == account.key))
        for limit in others:
            db.session.execute(update(LoginFailure).where(
                LoginFailure.key == limit.key, LoginFailure.failures > 0)
                .values(failures=LoginFailure.failures - 1))
