"""Count the Zoom webhook requests that leave no event row (refused ones, duplicates).

One upsert per request into the hour's counter: a flood of forged requests costs a row per
hour, never a row each. Counters older than ``KEEP`` are dropped as new hours begin.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dashboard.extensions import db
from dashboard.models import WebhookTally
from dashboard.orm import utcnow

log = logging.getLogger(__name__)
KEEP = timedelta(days=8)  # longer than the page's widest window
OUTCOMES = {"bad_signature": "rejected: bad signature or stale timestamp",
            "malformed": "rejected: malformed", "too_large": "rejected: body too large",
            "duplicate": "duplicate (Zoom sent it again)"}


def count(outcome: str, now: datetime | None = None) -> None:
    """Add one to this hour's counter of ``outcome``. Never raises: the answer to Zoom
    matters more than the tally."""
    now = now or utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0)
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(WebhookTally).values(hour=hour, outcome=outcome, count=1, last_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["hour", "outcome"],
        set_={"count": WebhookTally.count + 1, "last_at": now})
    try:
        db.session.execute(statement)
        # An indexed range that is empty but once an hour: cheap, and it keeps the table
        # at a few hundred rows whatever arrives.
        db.session.execute(delete(WebhookTally).where(WebhookTally.hour < hour - KEEP))
        db.session.commit()
    except Exception as error:  # e.g. the database is gone: Zoom still gets its answer
        db.session.rollback()
        log.warning("could not count a %s webhook request: %s", outcome, type(error).__name__)


def since(start: datetime) -> dict[str, int]:
    """Counts by outcome of the hours that overlap ``start`` to now."""
    first_hour = start.replace(minute=0, second=0, microsecond=0)
    rows = db.session.execute(select(WebhookTally.outcome, func.sum(WebhookTally.count))
                              .where(WebhookTally.hour >= first_hour)
                              .group_by(WebhookTally.outcome)).all()
    return {outcome: int(total or 0) for outcome, total in rows}
