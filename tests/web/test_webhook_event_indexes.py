"""The workspace index of ``webhook_events`` holds matched events only (migration 0017):
the health page's queries still read it, and the insert Zoom waits for never writes it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from dashboard.extensions import db
from dashboard.models import WebhookEvent
from dashboard.orm import utcnow

INDEX = "ix_webhook_events_workspace_received"


def _plan(sql: str) -> str:
    if db.engine.dialect.name == "sqlite":
        return " ".join(str(row) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))  # a handful of rows
    return " ".join(row[0] for row in db.session.execute(text(f"EXPLAIN {sql}")))


def test_a_workspaces_recent_events_read_the_partial_index(app, world):
    with app.app_context():
        query = select(WebhookEvent.id).where(
            WebhookEvent.workspace_id == world.acme.id,
            WebhookEvent.received_at >= utcnow() - timedelta(days=1))
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        assert INDEX in _plan(sql)
        db.session.rollback()


def test_the_index_leaves_out_unmatched_events(app):
    """Its predicate, as each database stores it (the index would take every insert's
    NULL entry without one)."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            ddl = db.session.scalar(text(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
                {"name": INDEX})
            assert ddl.endswith("WHERE workspace_id IS NOT NULL"), ddl
        else:
            predicate = db.session.scalar(text(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                "WHERE indexrelid = CAST(:name AS regclass)"), {"name": INDEX})
            assert predicate == "(workspace_id IS NOT NULL)"
