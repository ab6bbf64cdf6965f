"""The sync health chart reads indexes only (migration 0019): counts by state from the
window's index, and the operations Lakesis settled itself from their partial index, so a
busy week costs what its index entries cost, not a read of every row of the window."""

from __future__ import annotations

from sqlalchemy import event, text

from dashboard.extensions import db
from dashboard.models.operation import SUPERSEDED_WHERE
from dashboard.orm import utcnow
from dashboard.services import sync_health
from dashboard.services.sync_windows import WINDOWS


def _chart_statements(workspace_id: int) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        sync_health._chart(workspace_id, WINDOWS["7d"], utcnow())
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def _plan(statement: str, parameters: object) -> str:
    connection = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return " ".join(str(row) for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a handful of rows
    return " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}",
                                                                  parameters))


def test_the_chart_reads_the_window_index_and_the_superseded_one(app, world):
    with app.app_context():
        by_state, settled = _chart_statements(world.acme.id)
        plan = _plan(*by_state)
        assert "ix_operations_workspace_finished" in plan, plan
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
