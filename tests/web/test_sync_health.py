"""Sync health: the connection, the outbox by state, what failed, what waits, webhooks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from dashboard.extensions import db
from dashboard.models import Operation, WebhookEvent
from dashboard.orm import utcnow
from dashboard.services import sync_health
from tests.booking_builders import add_booking


def _op(workspace_id: int, booking_id: int, state: str, **fields) -> None:
    db.session.add(Operation(workspace_id=workspace_id, booking_id=booking_id, kind="create",
                             state=state, requested_by="test", **fields))


@pytest.fixture
def troubled(app, world):
    """Acme with work in every state; globex with a failure acme must not see."""
    now = utcnow()
    with app.app_context():
        acme = world.acme.id
        dead = add_booking(acme, "dead", title="Dead one", status="failed")
        _op(acme, dead, "dead", attempts=8, last_error="Gave up: Zoom is unavailable")
        fixed = add_booking(acme, "fixed", title="Fixed one")
        _op(acme, fixed, "failed", last_error="Zoom refused: old")
        _op(acme, fixed, "succeeded")  # a later retry worked: no longer a problem
        waiting = add_booking(acme, "wait", status="waiting_for_connection")
        _op(acme, waiting, "waiting")
        parked = add_booking(acme, "parked", status="pending")
        _op(acme, parked, "queued", next_attempt_at=now + timedelta(hours=6))
        retrying = add_booking(acme, "retrying", status="pending")
        _op(acme, retrying, "queued", next_attempt_at=now + timedelta(seconds=30), attempts=2)
        due = add_booking(acme, "due", status="pending")
        _op(acme, due, "queued", created_at=now - timedelta(minutes=7))
        other = add_booking(world.globex.id, "globex", title="Globex failure")
        _op(world.globex.id, other, "failed", last_error="globex secret error")
        db.session.add_all([
            WebhookEvent(event="meeting.started", dedupe_key="a" * 64, workspace_id=acme,
                         processed_at=now),
            WebhookEvent(event="meeting.ended", dedupe_key="b" * 64, workspace_id=acme),
            WebhookEvent(event="meeting.ended", dedupe_key="c" * 64, workspace_id=acme,
                         received_at=now - timedelta(days=2), processed_at=now),
            WebhookEvent(event="meeting.deleted", dedupe_key="d" * 64,
                         workspace_id=world.globex.id)])
        db.session.commit()
    return world


def test_summary_counts_and_lists_only_what_needs_attention(app, troubled):
    with app.app_context():
        health = sync_health.summary(db.session.get(type(troubled.acme), troubled.acme.id))
        assert health.counts == {"queued": 3, "running": 0, "waiting": 1, "succeeded": 1,
                                 "failed": 1, "dead": 1}
        assert [op.booking.title for op in health.problems] == ["Dead one"]
        assert health.problem_count == 1
        waiting = health.waiting
        assert (waiting.for_connection, waiting.meetings_waiting) == (1, 1)
        assert (waiting.parked, waiting.retrying, waiting.due) == (1, 1, 1)
        assert waiting.parked_until > utcnow() + timedelta(hours=5)
        assert utcnow() - waiting.oldest_due_since >= timedelta(minutes=7)
        assert health.webhooks.received_24h == 2
        assert health.webhooks.unapplied == 1
        assert [e.event for e in health.webhooks.unapplied_rows] == ["meeting.ended"]


def test_summary_uses_a_fixed_number_of_queries(app, troubled):
    statements: list[str] = []
    with app.app_context():
        workspace = db.session.get(type(troubled.acme), troubled.acme.id)
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            sync_health.summary(workspace)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) <= 12
    assert all("LIMIT" in s or "count(" in s.lower() or "min(" in s.lower()
               or "zoom_connections" in s for s in statements), statements


def test_support_sees_the_health_page(client, auth, troubled):
    auth.sign_in_as(troubled.support)
    response = client.get("/health")
    assert response.status_code == 200
    page = response.data.decode()
    for text in ("Sync health", "Not connected", "Dead one", "Gave up: Zoom is unavailable",
                 "Gave up", "held back by Zoom", "1 not applied yet", "meeting.ended"):
        assert text in page, text
    assert "Fixed one" not in page and "globex secret error" not in page
    assert "meeting.deleted" not in page
    assert 'href="/bookings/' in page


def test_health_page_says_when_nothing_failed(client, auth, world):
    auth.sign_in_as(world.operator)
    page = client.get("/health").data.decode()
    assert "Nothing has failed." in page and "0</strong> received in the last 24 hours" in page


def test_nav_links_bookings_and_sync_health(client, auth, world):
    auth.sign_in_as(world.support)
    page = client.get("/").data.decode()
    assert 'href="/bookings"' in page and 'href="/health"' in page
    assert "coming soon" not in page
