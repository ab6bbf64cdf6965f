"""The events the booking workflow is told of: recorded where the facts happen, in their
transaction, once per fact, never carrying the host's start link or a token."""

from __future__ import annotations

import json

import icalendar
import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Booking, Event, WebhookDelivery, Workspace, ZoomConnection
from dashboard.services import booking_events, connections, meeting_sync
from dashboard.services.zoom_tokens import mark_needs_reauth
from tests.booking_builders import cancel, drain, make_due, new_booking, reschedule, retry
from tests.zoom_builders import FakeZoom, endpoints, server_error, store_connection


@pytest.fixture
def zoom(zoom, app) -> FakeZoom:
    return FakeZoom(zoom, endpoints(app).api_base_url, endpoints(app).token_url)


@pytest.fixture
def acme(app, world, zoom) -> int:
    with app.app_context():
        store_connection(world.acme.id)
    return world.acme.id


def events(app, workspace_id: int | None = None) -> list[Event]:
    with app.app_context():
        query = select(Event).order_by(Event.id)
        if workspace_id is not None:
            query = query.where(Event.workspace_id == workspace_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def types(app) -> list[str]:
    return [event.type for event in events(app)]


def test_a_new_meeting_is_ready_with_its_link_and_times_but_never_the_start_link(
        app, acme, zoom):
    booking_id = new_booking(app, acme, ref="ref-ready", host_email="host@acme.test")
    assert events(app) == []  # nothing to tell before Zoom has the meeting
    drain(app)
    [ready] = events(app)
    assert ready.type == "meeting.ready" and ready.key.startswith("evt_")
    data = ready.data
    meeting = next(iter(zoom.meetings.values()))
    assert data["external_ref"] == "ref-ready"
    assert data["join_url"] == meeting["join_url"]
    assert data["zoom_meeting_id"] == meeting["id"]
    assert data["start"]["utc"].endswith("Z") and data["start"]["timezone"] == "Europe/Lisbon"
    assert data["start"]["local"].endswith(("+00:00", "+01:00"))
    assert data["host"] == {"email": "host@acme.test"}
    [vevent] = icalendar.Calendar.from_ical(data["invitation_ics"]).walk("VEVENT")
    assert str(vevent["URL"]) == meeting["join_url"] and int(vevent["SEQUENCE"]) == 0
    assert str(vevent["UID"]) == f"booking-{data['booking_id']}@lakesis"
    text = json.dumps(data)
    assert "zak" not in text and "start_url" not in text
    with app.app_context():
        assert db.session.get(Booking, booking_id).public_id == data["booking_id"]


def test_a_reschedule_to_a_new_time_is_a_change_and_a_title_change_is_not(app, acme, zoom):
    booking_id = new_booking(app, acme)
    drain(app)
    with app.app_context():
        old_start = db.session.get(Booking, booking_id).start_at
    reschedule(app, booking_id, title="A new title")
    drain(app)
    assert types(app) == ["meeting.ready"]
    from datetime import timedelta

    reschedule(app, booking_id, start_at=old_start + timedelta(hours=2))
    drain(app)
    assert types(app) == ["meeting.ready", "meeting.changed"]
    changed = events(app)[-1].data
    assert changed["recreated"] is False
    assert changed["old"]["start"]["utc"] != changed["new"]["start"]["utc"]
    assert "join_url" not in changed["new"]


def test_a_meeting_recreated_after_deletion_in_zoom_tells_the_old_and_new_link(
        app, acme, zoom):
    booking_id = new_booking(app, acme)
    drain(app)
    first = events(app)[0].data["join_url"]
    zoom.meetings.clear()  # deleted in Zoom: the next update recreates it
    reschedule(app, booking_id, duration_minutes=45)
    drain(app)
    changed = events(app)[-1]
    assert changed.type == "meeting.changed" and changed.data["recreated"] is True
    assert changed.data["old"]["join_url"] == first
    assert changed.data["new"]["join_url"] not in (None, first)


def test_a_resync_that_changes_nothing_emits_nothing(app, acme, zoom):
    from dashboard.models import OperationKind
    from dashboard.services import outbox

    booking_id = new_booking(app, acme)
    drain(app)
    with app.app_context():
        outbox.enqueue(db.session.get(Booking, booking_id), OperationKind.RESYNC, "test")
        db.session.commit()
    drain(app)
    assert types(app) == ["meeting.ready"]


def test_a_refused_create_fails_once_with_cause_next_step_and_zoom_code(app, acme, zoom):
    refusal = (400, {"code": 300, "message": "Invalid field."}, {})
    zoom.fail("create", refusal, refusal)
    booking_id = new_booking(app, acme)
    drain(app)
    [failed] = events(app)
    assert failed.type == "meeting.failed"
    assert failed.data["zoom_code"] == "300" and "Invalid field" in failed.data["detail"]
    assert failed.data["cause"] and failed.data["next_step"]
    assert "Retry" in failed.data["next_step"]
    retry(app, booking_id)  # the operator retries, and Zoom refuses the same way again
    drain(app)
    assert types(app) == ["meeting.failed"]
    retry(app, booking_id)
    drain(app)
    assert types(app) == ["meeting.failed", "meeting.ready"]


def test_retries_that_fail_emit_nothing_until_the_worker_gives_up(app, acme, zoom):
    zoom.fail("create", *[server_error()] * 3)
    new_booking(app, acme)
    for _ in range(3):
        drain(app)
        make_due(app)
    assert types(app) == []
    drain(app)
    assert types(app) == ["meeting.ready"]


def test_a_cancelled_booking_tells_the_cancellation_once(app, acme, zoom):
    booking_id = new_booking(app, acme, ref="ref-cancel")
    drain(app)
    cancel(app, booking_id)
    cancel(app, booking_id)
    drain(app)
    assert types(app) == ["meeting.ready", "meeting.cancelled"]
    assert events(app)[-1].data["external_ref"] == "ref-cancel"


def test_the_connection_needing_reauthorization_and_its_removal_are_told_once(app, acme):
    with app.app_context():
        connection = db.session.scalar(select(ZoomConnection))
        mark_needs_reauth(connection, "Zoom refused the refresh token")
        mark_needs_reauth(connection, "Zoom refused the refresh token")
        db.session.commit()
        user, account = connection.zoom_user_id, connection.zoom_account_id
    [event] = events(app)
    assert event.type == "connection.needs_reauthorization"
    assert event.data["reconnect_url"].endswith("/settings/integrations")
    assert "booking_id" not in event.data
    with app.app_context():
        connections.deauthorize(user, account, True)
        db.session.commit()
    assert types(app) == ["connection.needs_reauthorization", "connection.disconnected"]


def test_an_event_is_written_in_the_callers_transaction_or_not_at_all(app, acme):
    with app.app_context():
        booking_events.record(acme, "connection.disconnected", {"reason": "test"})
        db.session.rollback()
    assert events(app) == []


def test_payloads_refuse_secrets_and_types_must_be_known(app, acme):
    with app.app_context():
        with pytest.raises(ValueError, match="start_url"):
            booking_events.record(acme, "meeting.ready", {"nested": {"start_url": "x"}})
        with pytest.raises(ValueError):
            booking_events.record(acme, "meeting.exploded", {})
        db.session.rollback()


def test_subscribers_are_called_in_the_same_transaction(app, acme, monkeypatch):
    seen = []
    monkeypatch.setattr(booking_events, "SUBSCRIBERS", [lambda event: seen.append(event.type)])
    with app.app_context():
        booking_events.record(acme, "connection.disconnected", {"reason": "test"})
        db.session.commit()
    assert seen == ["connection.disconnected"]


def test_events_fan_out_only_to_active_endpoints_subscribed_to_the_type(app, acme):
    from dashboard.services import webhook_endpoints
    from dashboard.services.audit import Actor

    with app.app_context():
        workspace = db.session.get(Workspace, acme)
        takes_all = webhook_endpoints.create(workspace, Actor.system(),
                                             "https://hooks.example.test/a", ["meeting.ready"])
        webhook_endpoints.create(workspace, Actor.system(), "https://hooks.example.test/b",
                                 ["meeting.failed"])
        paused = webhook_endpoints.create(workspace, Actor.system(),
                                          "https://hooks.example.test/c", ["meeting.ready"])
        webhook_endpoints.set_paused(workspace, Actor.system(), paused.id, True)
        booking_events.record(acme, "meeting.ready", {"join_url": "https://zoom.us/j/1"})
        db.session.commit()
        deliveries = list(db.session.scalars(select(WebhookDelivery)))
        assert [d.endpoint_id for d in deliveries] == [takes_all.id]


def test_a_worker_that_fails_for_good_keeps_no_half_written_event(app, acme, zoom,
                                                                   monkeypatch):
    def broken(event):
        raise RuntimeError("a subscriber broke")

    monkeypatch.setattr(booking_events, "SUBSCRIBERS", [broken])
    new_booking(app, acme)
    with app.app_context():
        with pytest.raises(RuntimeError):
            meeting_sync.drain()
        db.session.rollback()
    assert events(app) == []
