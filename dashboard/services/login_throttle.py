"""Throttle failed sign-ins per account and per client address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from dashboard.extensions import db
from dashboard.models import LoginFailure
from dashboard.orm import utcnow
from dashboard.services.unit_of_work import transaction


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


def retry_after(limits: Sequence[Limit], window_seconds: int) -> int:
    """Seconds until a sign-in may be tried again (0: it may be tried now)."""
    now = utcnow()
    wait = 0
    for limit in limits:
        row = db.session.get(LoginFailure, limit.key)
        if row is None or row.failures < limit.max_failures:
            continue
        ends = row.window_started_at + timedelta(seconds=window_seconds)
        wait = max(wait, int((ends - now).total_seconds()) + 1)
    return max(wait, 0)


def record_failure(limits: Sequence[Limit], window_seconds: int) -> None:
    """Count one failure against every key; a key whose window has passed starts again."""
    now = utcnow()
    with transaction():
        for limit in limits:
            _count_failure(limit.key, window_seconds, now)


def _count_failure(key: str, window_seconds: int, now: datetime) -> None:
    row = db.session.get(LoginFailure, key, with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(LoginFailure(key=key, failures=1, window_started_at=now))
            return
        except IntegrityError:  # another request counted first: add to its row
            row = db.session.get(LoginFailure, key, with_for_update=True)
    if row.window_started_at + timedelta(seconds=window_seconds) <= now:
        row.failures, row.window_started_at = 1, now
    else:
        db.session.execute(update(LoginFailure).where(LoginFailure.key == key)
                           .values(failures=LoginFailure.failures + 1))


def forget(key: str) -> None:
    """A successful sign-in clears its account's count (the address keeps its own)."""
    row = db.session.get(LoginFailure, key)
    if row is not None:
        with transaction():
            db.session.delete(row)
