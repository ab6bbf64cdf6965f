"""A worker's claim of the next webhook delivery reads the open deliveries once, whatever
the planner knows about them: a burst of events lands in a table whose statistics were
taken when it was nearly empty (or never: this server runs without autovacuum), and a
claim planned from those must not read the queue once per candidate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from dashboard.extensions import db
from dashboard.models import Booking, Workspace
from dashboard.services import booking_events, webhook_delivery, webhook_endpoints
from dashboard.services.audit import Actor
from tests.booking_builders import add_booking
from tests.sql_statements import statements_sent

QUEUED, BOOKINGS = 300, 50


def _claim_statement() -> tuple[str, object]:
    with statements_sent(db.engine) as sent:
        webhook_delivery.claim("worker-1")
    db.session.rollback()
    return next((statement, parameters) for statement, parameters in sent
                if statement.lstrip().upper().startswith("SELECT"))


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@pytest.fixture
def queue(app, world) -> int:
    """300 queued deliveries to one endpoint, six per booking, never analysed."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the plan's work is read with EXPLAIN ANALYZE, PostgreSQL's")
        workspace = db.session.get(Workspace, world.acme.id)
        webhook_endpoints.create(workspace, Actor.system(), "http://127.0.0.1:9/hooks",
                                 ["meeting.changed"])
        ids = [add_booking(workspace.id, f"ref-{n}") for n in range(BOOKINGS)]
        for n in range(QUEUED):
            booking_events.record(workspace.id, "meeting.changed", {"step": n},
                                  db.session.get(Booking, ids[n % BOOKINGS]))
        db.session.commit()
    return QUEUED


def test_a_claim_reads_the_queue_once_whatever_the_statistics(app, queue):
    with app.app_context():
        statement, parameters = _claim_statement()
        connection = db.session.connection()
        # As a burst finds it: statistics of the table when it was empty.
        connection.execute(text("DELETE FROM pg_statistic WHERE starelid = "
                                "'webhook_deliveries'::regclass"))
        connection.execute(text("UPDATE pg_class SET reltuples = 0, relpages = 1 "
                                "WHERE oid = 'webhook_deliveries'::regclass"))
        [[plan]] = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).all()
        db.session.rollback()
    # Rows produced by every node, each loop counted: a plan that reads the queue once per
    # candidate comes to the queue's length squared (90,000 here); one pass, a few times it.
    work = sum(node["Actual Rows"] * node["Actual Loops"] for node in _nodes(plan[0]["Plan"]))
    assert work <= 10 * queue, (work, plan)
