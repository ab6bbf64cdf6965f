"""Three `flask zoom worker` processes deliver webhooks on PostgreSQL to a real receiver
while workers are SIGKILLed mid-delivery: nothing is lost, each booking's events arrive in
order, and what a killed worker had sent comes again with the same webhook-id (the
receiver drops the copy), so after dedupe every event arrived exactly once."""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Booking, DeliveryAttempt, WebhookDelivery, Workspace
from dashboard.services import booking_events, webhook_endpoints
from dashboard.services.audit import Actor
from tests.booking_builders import add_booking
from tests.postgres.fleet import Fleet, postgres_app, wait_for
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.postgres

BOOKINGS, EVENTS_PER_BOOKING, WORKERS, KILLS = 20, 10, 3, 2
LEASE_SECONDS = 3  # above the receiver's slowest answer and the 2 s read timeout
DATABASE = f"lakesis_hooks_killed_test_{os.getpid()}"


def test_killed_workers_lose_and_duplicate_nothing_after_dedupe(tmp_path):
    receiver = Receiver().start()
    # Every answer takes a moment, so kills land while deliveries are in flight.
    receiver.answers.extend([("sleep", 0.15)] * (BOOKINGS * EVENTS_PER_BOOKING * 3))
    nowhere = SimpleNamespace(base="http://127.0.0.1:9/zoom-sandbox")  # no Zoom work here
    with postgres_app(nowhere, tmp_path, DATABASE) as app:
        with app.app_context():
            workspace = Workspace(name="Hooks Clinic", slug="hooks")
            db.session.add(workspace)
            db.session.commit()
            endpoint = webhook_endpoints.create(workspace, Actor.system(), receiver.url,
                                                ["meeting.changed"])
            receiver.secrets = [webhook_endpoints.secret_of(endpoint)]
            ids = [add_booking(workspace.id, f"kill-{n}", status="pending")
                   for n in range(BOOKINGS)]
            keys = []
            for step in range(EVENTS_PER_BOOKING):
                for booking_id in ids:
                    booking = db.session.get(Booking, booking_id)
                    keys.append(booking_events.record(workspace.id, "meeting.changed",
                                                      {"step": step}, booking).key)
            db.session.commit()
        fleet = Fleet(app, tmp_path / "fleet", env={
            "LAKESIS_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
            "LAKESIS_WEBHOOK_READ_TIMEOUT": "2"})
        fleet.start(WORKERS)
        try:
            wait_for(lambda: len(receiver.requests) > 0, "the first delivery", fleet,
                     timeout=90)
            for _ in range(KILLS):
                _kill_one_holding_a_delivery(app, fleet)
                fleet.start()
            wait_for(lambda: len(receiver.ids()) == len(keys) and _open(app) == 0,
                     "every delivery", fleet, timeout=60, progress=lambda: len(receiver.ids()))
        finally:
            fleet.stop()
            receiver.stop()
        with app.app_context():
            states = Counter(db.session.scalars(select(WebhookDelivery.state)))
            attempts = db.session.scalar(select(func.count()).select_from(DeliveryAttempt))
            taken_over = db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                           .where(WebhookDelivery.attempts > 1))
            db.session.commit()
    assert len(fleet.killed) == KILLS and taken_over >= KILLS
    assert states == {"delivered": len(keys)}
    assert sorted(receiver.ids()) == sorted(keys)  # none lost, none twice after dedupe
    position = {key: index for index, key in enumerate(keys)}
    for booking in {r.booking for r in receiver.accepted}:
        seen = [position[r.webhook_id] for r in receiver.accepted if r.booking == booking]
        assert seen == sorted(seen), f"booking {booking} out of order"
    copies = len(receiver.requests) - len(receiver.ids())
    # At most the deliveries in flight when a worker died arrive twice (same webhook-id).
    assert copies <= len(fleet.killed)
    assert attempts >= len(keys)
    assert re.match(r"^evt_[0-9a-f]{32}$", keys[0])
    print(f"\n{len(keys)} events, {len(fleet.killed)} workers killed, {taken_over} "
          f"deliveries taken over, {copies} copies deduped by the receiver")


def _kill_one_holding_a_delivery(app, fleet: Fleet) -> None:
    """SIGKILL a worker while it holds a claimed delivery (frozen while we look, so it
    cannot finish between the look and the kill)."""
    victim = fleet.alive()[0]

    def holds_one() -> bool:
        victim.send_signal(signal.SIGSTOP)
        with app.app_context():
            held = db.session.scalar(select(WebhookDelivery.id).where(
                WebhookDelivery.state == "running",
                WebhookDelivery.locked_by.like(f"%:{victim.pid}:%")).limit(1))
            db.session.commit()
        if held is None:
            victim.send_signal(signal.SIGCONT)
            time.sleep(0.02)
        return held is not None

    wait_for(holds_one, "the victim to hold a delivery", fleet, 30)
    fleet.kill(victim)


def _open(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.state.in_(("queued", "running"))))
        db.session.commit()
        return count
