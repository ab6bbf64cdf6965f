"""Each worker writes a heartbeat row now and then; readiness asks how fresh the newest is."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from dashboard.extensions import db
from dashboard.models.worker_heartbeat import WorkerHeartbeat
from dashboard.orm import utcnow

#: rows of workers silent this long are somebody else's history: pruned on the next beat
FORGET_AFTER = timedelta(days=1)


def beat(worker_id: str) -> None:
    """Record that ``worker_id`` is alive now (its own row: no other writer races it)."""
    now = utcnow()
    touched = db.session.execute(update(WorkerHeartbeat).where(
        WorkerHeartbeat.worker_id == worker_id).values(beat_at=now)).rowcount
    if not touched:
        db.session.add(WorkerHeartbeat(worker_id=worker_id, started_at=now, beat_at=now))
    db.session.execute(delete(WorkerHeartbeat).where(
        WorkerHeartbeat.beat_at < now - FORGET_AFTER))
    db.session.commit()


def latest() -> datetime | None:
    """When the most recent beat of any worker was, or None if none ever beat."""
    return db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
