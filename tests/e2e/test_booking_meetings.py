"""Bookings get, keep and lose their Zoom meetings, end to end against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Booking, Operation, Workspace
from dashboard.orm import utcnow
from dashboard.services import bookings
from dashboard.services.audit import Actor
from dashboard.services.zoom_tokens import TokenProvider
from tests.booking_builders import drain, meeting_of, new_booking, zoom_meeting
from tests.sandbox_control import connect

pytestmark = pytest.mark.usefixtures("sandbox")


def test_booking_gets_a_scheduled_meeting(app, connected, sandbox):
    booking_id = new_booking(app, connected.acme.id)
    assert meeting_of(app, booking_id).status == "pending"
    assert drain(app) == 1
    meeting = meeting_of(app, booking_id)
    assert meeting.status == "scheduled"
    assert meeting.join_url.startswith(app.config["ZOOM_SANDBOX_URL"] + "/j/")
    assert sandbox.state()["meetings"]["waiting"] == 1
    assert zoom_meeting(sandbox, app, meeting.zoom_meeting_id)["duration"] == 30


def test_reschedules_collapse_into_one_update_with_the_latest_values(app, connected, sandbox):
    booking_id = new_booking(app, connected.acme.id)
    drain(app)
    later = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    with app.app_context():
        workspace = db.session.get(Workspace, connected.acme.id)
        for minutes in (45, 60, 90):
            booking = db.session.get(Booking, booking_id)
            bookings.reschedule(workspace, Actor.system(), booking,
                                {"start_at": later, "duration_minutes": minutes})
        assert db.session.scalar(db.select(db.func.count()).select_from(Operation).filter_by(
            booking_id=booking_id, state="queued")) == 1
    assert drain(app) == 1
    meeting = meeting_of(app, booking_id)
    remote = zoom_meeting(sandbox, app, meeting.zoom_meeting_id)
    assert remote["duration"] == 90
    assert remote["start_time"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_cancel_deletes_the_zoom_meeting(app, connected, sandbox):
    booking_id = new_booking(app, connected.acme.id)
    drain(app)
    with app.app_context():
        workspace = db.session.get(Workspace, connected.acme.id)
        bookings.cancel(workspace, Actor.system(), db.session.get(Booking, booking_id))
    drain(app)
    meeting = meeting_of(app, booking_id)
    assert meeting.status == "cancelled" and meeting.join_url is None
    assert sandbox.state()["meetings"]["deleted"] == 1


def test_timeout_after_create_does_not_duplicate_the_meeting(app, connected, sandbox,
                                                             monkeypatch):
    client = zoom_extension.client_of(app)
    monkeypatch.setattr(client, "_timeout", (1.0, 0.5))
    sandbox.fault("meetings_create", "timeout_after_commit", count=1, delay=1.5)
    booking_id = new_booking(app, connected.acme.id)
    drain(app)  # the first attempt times out, with the meeting made at Zoom
    with app.app_context():
        db.session.execute(db.update(Operation).values(next_attempt_at=utcnow()))
        db.session.commit()
    drain(app)
    assert meeting_of(app, booking_id).status == "scheduled"
    assert sandbox.state()["meetings"]["waiting"] == 1


def test_work_waits_for_a_connection_and_resumes_after_reconnect(app, client, auth, world,
                                                                 sandbox):
    booking_id = new_booking(app, world.acme.id)
    drain(app)
    assert meeting_of(app, booking_id).status == "waiting_for_connection"
    auth.sign_in_as(world.admin)
    connect(client, sandbox)
    assert meeting_of(app, booking_id).status == "pending"
    drain(app)
    assert meeting_of(app, booking_id).status == "scheduled"


def test_deleted_in_zoom_is_recreated_on_the_next_reschedule(app, connected, sandbox):
    booking_id = new_booking(app, connected.acme.id)
    drain(app)
    old = meeting_of(app, booking_id).zoom_meeting_id
    with app.app_context():
        tokens, zoom = TokenProvider(zoom_extension.client_of(app)), zoom_extension.client_of(app)
        tokens.call(connected.acme.id, lambda t: zoom.delete_meeting(t, old))
        workspace = db.session.get(Workspace, connected.acme.id)
        bookings.reschedule(workspace, Actor.system(), db.session.get(Booking, booking_id),
                            {"duration_minutes": 50})
    drain(app)
    meeting = meeting_of(app, booking_id)
    assert meeting.status == "scheduled" and meeting.zoom_meeting_id != old
    assert meeting.recreated_count == 1 and "was gone" in meeting.note
    assert requests.get(sandbox.base + "/_control/state", timeout=5).ok
