"""Zoom's daily cap of meeting changes, per host: what today has used and what is left.

Zoom allows each user 100 meeting create/update requests a day, reset at 00:00 UTC
(``retry_policy`` parks work until then when Zoom says the cap is reached, and
``outbox.park_until`` holds back only that host's work). Counted here the same way: per
host as ``outbox.Host`` names it (the booking's host, or the connected user), creates and
updates only (cancels and reads are not capped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from dashboard.extensions import db
from dashboard.models import Booking, Operation, OperationKind, OperationState, ZoomConnection
from dashboard.models.operation import superseded
from dashboard.services.retry_policy import PARKED_AFTER
from dashboard.services.sync_windows import not_before
from dashboard.zoom.errors import next_utc_midnight

DAILY_LIMIT = 100
CAPPED_KINDS = (OperationKind.CREATE.value, OperationKind.UPDATE.value)
CONNECTED = ""  # the key of the connected user (a booking without a host of its own)


@dataclass(frozen=True)
class HostBudget:
    host: str  # the host's email; CONNECTED for the connected user
    label: str
    used: int  # changes Zoom made for this host since 00:00 UTC
    queued: int  # changes waiting to run before 00:00 UTC: they will use it too
    capped: bool  # Zoom said the cap is reached (work parked until 00:00 UTC)
    resets_at: datetime

    @property
    def remaining(self) -> int:
        if self.capped:
            return 0
        return max(0, DAILY_LIMIT - self.used - self.queued)

    @property
    def shown_used(self) -> int:
        return DAILY_LIMIT if self.capped else min(DAILY_LIMIT, self.used)


def host_key(host_email: str | None, connected_email: str | None) -> str:
    host = (host_email or "").lower()
    return CONNECTED if not host or host == (connected_email or "").lower() else host


def _label(key: str, connected_email: str | None) -> str:
    if key == CONNECTED:
        return f"{connected_email} (the connected user)" if connected_email else (
            "the connected Zoom user")
    return key


def use_today(workspace_id: int, connection: ZoomConnection | None,
              now: datetime) -> list[HostBudget]:
    """Every host with changes today or waiting today, busiest first."""
    connected = connection.zoom_email if connection else None
    midnight = next_utc_midnight(now) - timedelta(days=1)
    resets = next_utc_midnight(now)
    # The host by a lookup per operation (its booking's primary key), not a join: a join
    # lets the planner read every booking to hash them, and the day's work is a few rows.
    host = (select(func.lower(Booking.host_email)).where(Booking.id == Operation.booking_id)
            .scalar_subquery().label("host"))
    mine = [Operation.workspace_id == workspace_id, Operation.kind.in_(CAPPED_KINDS)]
    used = select(host).where(
        *mine, not_before(db.session.get_bind().dialect.name, Operation.finished_at, midnight),
        Operation.state == OperationState.SUCCEEDED,
        or_(Operation.outcome.is_(None), ~superseded())).subquery()
    used_rows = db.session.execute(
        select(used.c.host, func.count()).group_by(used.c.host)).all()
    open_ = select(host, Operation.next_attempt_at).where(
        *mine, Operation.state.in_(OperationState.CLAIMABLE)).subquery()
    queued_rows = db.session.execute(
        select(open_.c.host, func.count(), func.max(open_.c.next_attempt_at))
        .group_by(open_.c.host)).all()
    used_by: dict[str, int] = {}
    for email, count in used_rows:
        key = host_key(email, connected)
        used_by[key] = used_by.get(key, 0) + count
    queued: dict[str, int] = {}
    capped: set[str] = set()
    for email, count, latest in queued_rows:
        key = host_key(email, connected)
        if latest is not None and latest > now + PARKED_AFTER:
            capped.add(key)  # parked until midnight: Zoom said this host is at the cap
        queued[key] = queued.get(key, 0) + count
    keys = set(used_by) | set(queued)
    budgets = [HostBudget(key, _label(key, connected), used_by.get(key, 0), queued.get(key, 0),
                          key in capped, resets) for key in keys]
    return sorted(budgets, key=lambda b: (-b.shown_used, -b.queued, b.label))


def of_host(budgets: list[HostBudget], key: str, connected_email: str | None,
            now: datetime) -> HostBudget:
    """The host's budget, or a fresh one for a host with nothing today."""
    for budget in budgets:
        if budget.host == key:
            return budget
    return HostBudget(key, _label(key, connected_email), 0, 0, False, next_utc_midnight(now))
