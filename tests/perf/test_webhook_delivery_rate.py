"""Webhook deliveries per second to a local receiver, against the outbox's own throughput
(claim and settle an operation, no Zoom call), one worker loop in this process, on SQLite
and PostgreSQL. Printed: both rates and their ratio, the receiver's requests and what it
kept after dedupe. Asserted (correctness only): every event reached the receiver, once
after dedupe, verified with the ``standardwebhooks`` library."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import Booking, Operation, OperationState, WebhookDelivery, Workspace
from dashboard.services import booking_events, outbox, webhook_delivery, webhook_endpoints
from dashboard.services.audit import Actor
from tests.booking_builders import add_booking
from tests.perf.harness import Keys, harness_overrides, recreate_postgres_database, report, table
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.perf

EVENTS, BOOKINGS = 1_000, 50


def _database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'hooks-bench.db'}"
    return recreate_postgres_database("lakesis_bench_hooks")


def _outbox_rate(workspace_id: int, booking_ids: list[int]) -> float:
    """Operations claimed and settled per second by the outbox alone."""
    for n in range(EVENTS):
        db.session.add(Operation(workspace_id=workspace_id, booking_id=booking_ids[n % BOOKINGS],
                                 kind="resync", requested_by="bench"))
    db.session.commit()
    worker = outbox.worker_id()
    started = time.perf_counter()
    done = 0
    while (op_id := outbox.claim(worker)) is not None:
        outbox.release(db.session.get(Operation, op_id), OperationState.SUCCEEDED,
                       outcome="bench")
        db.session.commit()
        done += 1
    assert done == EVENTS
    return done / (time.perf_counter() - started)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_deliveries_per_second_against_the_outbox(tmp_path, kind):
    url = _database(kind, tmp_path)
    app = create_app(harness_overrides(url, Keys(), tmp_path))
    receiver = Receiver().start()
    try:
        with app.app_context():
            db.create_all()
            workspace = Workspace(name="Bench Clinic", slug="bench")
            db.session.add(workspace)
            db.session.commit()
            booking_ids = [add_booking(workspace.id, f"bench-{n}", status="scheduled")
                           for n in range(BOOKINGS)]
            outbox_rate = _outbox_rate(workspace.id, booking_ids)
            endpoint = webhook_endpoints.create(workspace, Actor.system(), receiver.url,
                                                ["meeting.changed"])
            receiver.secrets = [webhook_endpoints.secret_of(endpoint)]
            keys = []
            for n in range(EVENTS):
                booking = db.session.get(Booking, booking_ids[n % BOOKINGS])
                keys.append(booking_events.record(workspace.id, "meeting.changed",
                                                  {"step": n}, booking).key)
            db.session.commit()
            started = time.perf_counter()
            sent = webhook_delivery.drain()
            elapsed = time.perf_counter() - started
            delivered = db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                          .where(WebhookDelivery.state == "delivered"))
            db.session.remove()
            if kind == "sqlite":
                db.engine.dispose()
    finally:
        receiver.stop()
    rate = sent / elapsed
    report(table(f"Webhook deliveries vs the outbox, one worker loop ({kind})",
                 ["measure", "value"],
                 [["outbox operations/s (claim + settle, no Zoom)", round(outbox_rate, 1)],
                  ["webhook deliveries/s (sign + POST + log)", round(rate, 1)],
                  ["deliveries / outbox", round(rate / outbox_rate, 2)],
                  ["events", EVENTS], ["receiver requests", len(receiver.requests)],
                  ["kept after dedupe", len(receiver.ids())],
                  ["lost", EVENTS - len(set(receiver.ids()) & set(keys))]]))
    assert delivered == EVENTS and sorted(receiver.ids()) == sorted(keys)
    assert receiver.refused == []
