"""Webhook delivery against a real HTTP receiver that verifies every request with the
``standardwebhooks`` library: signed, in order per booking, exactly once after the
receiver dedupes, whatever the receiver does (fails, hangs, is slow, is gone for a day)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from dashboard.extensions import db
from dashboard.models import (
    AuditEvent,
    Booking,
    DeliveryAttempt,
    Event,
    MailMessage,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
)
from dashboard.orm import utcnow
from dashboard.services import booking_events, outbox, webhook_delivery, webhook_endpoints
from dashboard.services.audit import Actor
from tests.booking_builders import drain, new_booking, reschedule
from tests.webhook_receiver import Receiver
from tests.zoom_builders import FakeZoom, endpoints, store_connection


@pytest.fixture
def zoom(zoom, app) -> FakeZoom:
    fake = FakeZoom(zoom, endpoints(app).api_base_url, endpoints(app).token_url)
    fake.mock = zoom  # the receiver's requests pass through it
    return fake


@pytest.fixture
def receiver(zoom):
    started = Receiver().start()
    zoom.mock.add_passthru(re.compile(re.escape(started.url)))
    yield started
    started.stop()


@pytest.fixture
def acme(app, world, zoom, monkeypatch) -> int:
    monkeypatch.setitem(app.config, "WEBHOOK_READ_TIMEOUT", 1)
    with app.app_context():
        store_connection(world.acme.id)
    return world.acme.id


def add_endpoint(app, workspace_id: int, receiver: Receiver, types=None) -> int:
    with app.app_context():
        workspace = db.session.get(Workspace, workspace_id)
        endpoint = webhook_endpoints.create(workspace, Actor.system(), receiver.url,
                                            types or list(webhook_endpoints.EVENT_TYPES))
        receiver.secrets = [webhook_endpoints.secret_of(endpoint)]
        return endpoint.id


def send(app) -> int:
    with app.app_context():
        return webhook_delivery.drain()


def make_due(app) -> None:
    with app.app_context():
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.state == "queued")
                           .values(next_attempt_at=utcnow()))
        db.session.commit()


def record_events(app, workspace_id: int, bookings: int, per_booking: int) -> list[str]:
    """Events for ``bookings`` bookings, interleaved; their keys in order."""
    ids = [new_booking(app, workspace_id, ref=f"ref-{n}") for n in range(bookings)]
    keys = []
    with app.app_context():
        for step in range(per_booking):
            for booking_id in ids:
                booking = db.session.get(Booking, booking_id)
                keys.append(booking_events.record(workspace_id, "meeting.changed",
                                                  {"step": step}, booking).key)
        db.session.commit()
    return keys


def in_order_per_booking(received, keys_in_order: list[str]) -> bool:
    position = {key: index for index, key in enumerate(keys_in_order)}
    per_booking = defaultdict(list)
    for item in received:
        per_booking[item.booking].append(position[item.webhook_id])
    return all(seen == sorted(seen) for seen in per_booking.values())


def test_a_booking_brings_a_signed_meeting_ready_to_the_receiver(app, acme, zoom, receiver):
    add_endpoint(app, acme, receiver)
    new_booking(app, acme, ref="ref-live")
    drain(app)
    assert send(app) == 1
    [got] = receiver.requests
    with app.app_context():
        event = db.session.scalar(select(Event))
        attempt = db.session.scalar(select(DeliveryAttempt))
    assert got.webhook_id == event.key and got.type == "meeting.ready"
    assert got.body["data"]["external_ref"] == "ref-live" and got.body["cursor"] == str(event.id)
    assert got.headers["webhook-timestamp"].isdigit()
    assert attempt.delivered and attempt.status_code == 200 and attempt.response_excerpt == "ok"
    assert receiver.refused == []


def test_deliveries_to_a_receiver_share_one_connection_and_send_no_cookies(app, acme,
                                                                          receiver):
    add_endpoint(app, acme, receiver)
    record_events(app, acme, bookings=2, per_booking=2)
    assert send(app) == 4
    # Keep-alive: a busy endpoint pays TCP (and TLS) setup once, not per delivery. Every
    # answer set a cookie; one kept would follow later deliveries (other workspaces' too).
    assert len({got.peer for got in receiver.requests}) == 1
    assert all("cookie" not in got.headers for got in receiver.requests)


def test_a_receiver_with_the_wrong_secret_refuses_every_delivery(app, acme, receiver):
    add_endpoint(app, acme, receiver)
    receiver.secrets = [webhook_endpoints.new_secret()]
    record_events(app, acme, 1, 1)
    send(app)
    assert len(receiver.refused) == 1 and receiver.requests == []


def test_failures_timeouts_and_slowness_still_deliver_each_event_once_in_order(
        app, acme, receiver):
    add_endpoint(app, acme, receiver)
    keys = record_events(app, acme, bookings=3, per_booking=3)
    # 500s, a hang past the 1 s read timeout, a slow but timely answer, a 503.
    receiver.answers.extend([500, ("sleep", 1.5), 500, ("sleep", 0.3), 503, 502, 500])
    for _ in range(20):
        send(app)
        make_due(app)
    assert sorted(receiver.ids()) == sorted(keys)  # every one, once after dedupe
    assert in_order_per_booking(receiver.accepted, keys)
    with app.app_context():
        assert set(db.session.scalars(select(WebhookDelivery.state))) == {"delivered"}
        failed = db.session.scalar(select(func.count()).select_from(DeliveryAttempt).where(
            DeliveryAttempt.delivered.is_(False)))
        timeouts = db.session.scalar(select(func.count()).select_from(DeliveryAttempt).where(
            DeliveryAttempt.error == "timed out waiting for the receiver"))
    assert failed == 6 and timeouts == 1


def test_a_later_event_of_a_booking_waits_for_the_earlier_one(app, acme, receiver):
    add_endpoint(app, acme, receiver)
    record_events(app, acme, bookings=1, per_booking=2)
    with app.app_context():
        first = webhook_delivery.claim("worker-a")
        assert first is not None
        assert webhook_delivery.claim("worker-b") is None  # one in flight per booking
        webhook_delivery.deliver(first, "worker-a")
        second = webhook_delivery.claim("worker-b")
        assert second is not None and second > first


def test_backoff_retries_for_about_a_day_then_gives_up(app, acme, receiver):
    delays = [webhook_delivery.backoff(n, lambda low, high: 1.0)
              for n in range(1, webhook_delivery.MAX_ATTEMPTS)]
    assert delays == sorted(delays) and delays[0] == webhook_delivery.BASE_DELAY
    assert 20 * 3600 < sum(delays) < 36 * 3600
    quickest = sum(webhook_delivery.backoff(n, lambda low, high: low)
                   for n in range(1, webhook_delivery.MAX_ATTEMPTS))
    assert quickest > 16 * 3600


def test_an_outage_then_a_replay_of_its_time_range_delivers_everything_once(
        app, acme, receiver, monkeypatch):
    monkeypatch.setattr(webhook_delivery, "MAX_ATTEMPTS", 2)
    endpoint_id = add_endpoint(app, acme, receiver)
    started = utcnow() - timedelta(seconds=1)
    keys = record_events(app, acme, bookings=2, per_booking=2)
    receiver.answers.extend([503] * 8)  # down: every attempt of every delivery fails
    for _ in range(4):
        send(app)
        make_due(app)
    assert receiver.ids() == []
    with app.app_context():
        assert set(db.session.scalars(select(WebhookDelivery.state))) == {"dead"}
        workspace = db.session.get(Workspace, acme)
        count = webhook_endpoints.replay_range(workspace, Actor.system(), endpoint_id,
                                               started, utcnow() + timedelta(seconds=1))
    assert count == len(keys)
    send(app)
    assert receiver.ids() == keys  # the receiver is back: all of them, in order
    with app.app_context():
        workspace = db.session.get(Workspace, acme)
        webhook_endpoints.replay_event(workspace, Actor.system(), endpoint_id, keys[0])
    send(app)
    assert receiver.ids() == keys  # a replayed copy carries the same id: deduped
    assert [r.webhook_id for r in receiver.requests].count(keys[0]) == 2


def test_410_pauses_the_endpoint_audits_it_and_tells_its_admins(app, acme, receiver,
                                                                 monkeypatch):
    told = []
    monkeypatch.setattr(webhook_delivery, "PAUSE_SUBSCRIBERS",
                        [lambda endpoint, reason: told.append((endpoint.id, reason))])
    endpoint_id = add_endpoint(app, acme, receiver)
    keys = record_events(app, acme, 1, 2)
    receiver.answers.append(410)
    send(app)
    make_due(app)
    assert send(app) == 0  # paused: nothing more is sent
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.state == "paused" and "410" in endpoint.paused_reason
        assert db.session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "webhook_endpoint.paused")) is not None
        webhook_endpoints.set_paused(db.session.get(Workspace, acme), Actor.system(),
                                     endpoint_id, False)
    assert told == [(endpoint_id, told[0][1])] and "410" in told[0][1]
    send(app)
    assert receiver.ids() == keys


def test_a_paused_endpoint_is_mailed_to_the_workspace_s_admins(app, acme, receiver):
    """The wiring itself (no stand-in subscriber): the pause writes the admins' email."""
    add_endpoint(app, acme, receiver)
    record_events(app, acme, 1, 1)
    receiver.answers.append(410)
    send(app)
    with app.app_context():
        mails = db.session.execute(select(MailMessage.recipient, MailMessage.body)).all()
    assert [recipient for recipient, _ in mails] == ["admin@acme.test"]
    assert "410" in mails[0].body


def test_failing_for_days_pauses_the_endpoint(app, acme, receiver):
    endpoint_id = add_endpoint(app, acme, receiver)
    record_events(app, acme, 1, 1)
    with app.app_context():
        db.session.execute(update(WebhookEndpoint).values(
            failing_since=utcnow() - timedelta(hours=app.config["WEBHOOK_PAUSE_AFTER_HOURS"])))
        db.session.commit()
    receiver.answers.append(500)
    send(app)
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.state == "paused" and "failed since" in endpoint.paused_reason


def test_a_rotated_secret_signs_beside_the_old_one_for_the_grace_period(app, acme, receiver):
    endpoint_id = add_endpoint(app, acme, receiver)
    old = receiver.secrets[0]
    with app.app_context():
        endpoint = webhook_endpoints.rotate(db.session.get(Workspace, acme), Actor.system(),
                                            endpoint_id)
        new = webhook_endpoints.secret_of(endpoint)
    assert new != old
    for secret in (old, new):  # a receiver holding either one verifies
        receiver.secrets = [secret]
        with app.app_context():
            booking_events.record(acme, "connection.disconnected", {"reason": secret[:9]})
            db.session.commit()
        send(app)
    assert len(receiver.requests) == 2 and receiver.refused == []
    [got] = receiver.requests[-1:]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    with app.app_context():  # the grace period over: only the new one signs
        db.session.execute(update(WebhookEndpoint).values(
            previous_secret_until=utcnow() - timedelta(seconds=1)))
        booking_events.record(acme, "connection.disconnected", {"reason": "y"})
        db.session.commit()
    receiver.secrets = [old]
    send(app)
    assert len(receiver.refused) == 1


def test_a_killed_workers_claim_is_taken_over_with_the_same_webhook_id(app, acme, receiver):
    add_endpoint(app, acme, receiver)
    [key] = record_events(app, acme, 1, 1)
    with app.app_context():
        claimed = webhook_delivery.claim("doomed-worker")
        assert claimed is not None  # ... and the worker dies before saving anything
        db.session.execute(update(WebhookDelivery).values(
            lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert send(app) == 1
    assert receiver.ids() == [key]
    with app.app_context():
        delivery = db.session.get(WebhookDelivery, claimed)
        assert delivery.state == "delivered" and delivery.attempts == 2
        # the late worker's result cannot overwrite the taker's
        webhook_delivery._save(claimed, "doomed-worker", webhook_delivery.Sent(
            False, 500, 1, None, "late"))
        assert db.session.get(WebhookDelivery, claimed).state == "delivered"


def test_events_past_their_retention_go_with_their_deliveries(app, acme, receiver):
    add_endpoint(app, acme, receiver)
    record_events(app, acme, 1, 2)
    send(app)
    with app.app_context():
        db.session.execute(update(Event).where(Event.id == db.session.scalar(
            select(func.min(Event.id)))).values(created_at=utcnow() - timedelta(days=31)))
        db.session.commit()
        assert webhook_delivery.purge_expired() == 1
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        assert db.session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 1


def test_the_worker_loop_delivers_what_the_outbox_produced(app, acme, zoom, receiver):
    import threading
    import time

    from dashboard.services import worker

    add_endpoint(app, acme, receiver)
    booking_id = new_booking(app, acme)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(app, stop, 0.05), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(receiver.ids()) < 1:
            time.sleep(0.05)
        reschedule(app, booking_id, duration_minutes=50)
        while time.monotonic() < deadline and len(receiver.ids()) < 2:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert [r.type for r in receiver.accepted] == ["meeting.ready", "meeting.changed"]
    assert outbox.worker_id()


def test_a_delivery_whose_endpoint_was_deleted_after_the_claim_is_dropped(app, acme, receiver):
    endpoint_id = add_endpoint(app, acme, receiver)
    record_events(app, acme, 1, 1)
    with app.app_context():
        claimed = webhook_delivery.claim("worker")
        webhook_endpoints.remove(db.session.get(Workspace, acme), Actor.system(), endpoint_id)
        webhook_delivery.deliver(claimed, "worker")
        assert db.session.get(WebhookDelivery, claimed) is None
    assert receiver.requests == []
