"""The sync health page's window queries read the window's index: the chart from indexes
only (migration 0019), counting by state from the window's index and the operations Lakesis
settled itself from their partial index; and on SQLite every query bounded by the window
seeks the window, not every succeeded operation of the history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, text

from dashboard.extensions import db
from dashboard.models import Operation, Workspace
from dashboard.models.operation import SUPERSEDED_WHERE
from dashboard.orm import utcnow
from dashboard.services import sync_health
from dashboard.services.sync_windows import WINDOWS
from tests.booking_builders import add_booking
from tests.sql_statements import statements_sent

WINDOW_INDEX = "ix_operations_workspace_finished"


def _statements(run) -> list[tuple[str, object]]:
    with statements_sent(db.engine) as seen:
        run()
    return seen


def _plan(statement: str, parameters: object) -> str:
    connection = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return " ".join(str(row) for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a few thousand rows
    return " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}",
                                                                  parameters))


@pytest.fixture
def history(app, world):
    """A workspace's history as the planner sees it in production: 3,000 operations
    succeeded weeks ago, none in the window, and fresh statistics (this server's
    autovacuum is off, and a planner choice on stale or no statistics says nothing)."""
    with app.app_context():
        booking = add_booking(world.acme.id)
        now = utcnow()
        db.session.execute(insert(Operation), [{
            "workspace_id": world.acme.id, "booking_id": booking, "kind": "update",
            "state": "succeeded", "attempts": 1, "next_attempt_at": now, "requested_by": "t",
            "created_at": now, "updated_at": now,
            "finished_at": now - timedelta(days=30 + n % 300, minutes=n)}
            for n in range(3_000)])
        db.session.commit()
        db.session.execute(text("ANALYZE operations"))
        db.session.commit()
    return world


def test_the_chart_reads_the_window_index_and_the_superseded_one(app, history):
    with app.app_context():
        by_state, settled = _statements(
            lambda: sync_health._chart(history.acme.id, WINDOWS["7d"], utcnow()))
        plan = _plan(*by_state)
        assert WINDOW_INDEX in plan, plan
        if db.engine.dialect.name == "sqlite":
            assert "COVERING INDEX" in plan, plan  # no row of the table read
        plan = _plan(*settled)
        assert "ix_operations_superseded" in plan, plan
        db.session.rollback()


def test_the_superseded_index_holds_only_those(app):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            ddl = db.session.scalar(text(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
                {"name": "ix_operations_superseded"})
            assert ddl.endswith(f"WHERE {SUPERSEDED_WHERE}"), ddl
        else:
            predicate = db.session.scalar(text(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                "WHERE indexrelid = CAST('ix_operations_superseded' AS regclass)"))
            assert predicate == "((outcome)::text ~~ 'superseded by %'::text)", predicate


def test_the_window_queries_seek_the_window_not_the_history(app, history):
    """Without histograms SQLite took ``state = 'succeeded'`` (most of the history) over the
    window's range: the health page at 100,000 operations spent 50 of its 70 ms there."""
    with app.app_context():
        workspace = db.session.get(Workspace, history.acme.id)
        seen = _statements(lambda: sync_health.summary(workspace, WINDOWS["24h"], utcnow()))
        windowed = [(sql, params) for sql, params in seen if "finished_at >=" in sql]
        assert len(windowed) >= 4, [sql for sql, _ in seen]  # counts, causes, chart, budget
        for sql, params in windowed:
            plan = _plan(sql, params)
            assert WINDOW_INDEX in plan or "ix_operations_superseded" in plan, (sql, plan)
        db.session.rollback()
