"""POST /api/v1/bookings: one booking, one pending meeting, one create operation, at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import AuditEvent, Booking, Meeting, Operation, Workspace
from dashboard.orm import utcnow
from dashboard.services import bookings
from dashboard.services.audit import Actor
from dashboard.services.booking_input import parse_new_booking
from tests.api.records import booking_body, counts, operations, snapshot


def test_create_answers_201_with_the_booking_and_where_it_lives(app, api):
    body = booking_body(host_email="Dr.Ada@Example.test")
    response = api.post("bookings", body)
    assert response.status_code == 201
    booking = response.get_json()
    assert response.headers["Location"] == f"/api/v1/bookings/{booking['id']}"
    assert response.headers["Cache-Control"] == "no-store"
    start = datetime.fromisoformat(body["start_time"]).astimezone(UTC)
    assert booking["start_time"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert booking["customer"] == {"name": "Ana Silva", "email": "ana@example.test"}
    assert booking["host_email"] == "dr.ada@example.test"
    assert (booking["kind"], booking["state"], booking["timezone"]) == (
        "consultation", "active", "Europe/Lisbon")
    assert booking["meeting"] == {"status": "pending", "join_url": None,
                                  "zoom_meeting_id": None, "last_synced_at": None,
                                  "last_error": None}
    assert api.get(response.headers["Location"]).get_json() == booking


def test_create_writes_booking_meeting_one_operation_and_an_audit_event(app, api):
    booking = api.post("bookings", booking_body()).get_json()
    assert counts(app) == {"bookings": 1, "meetings": 1, "operations": 1, "audit_events": 1}
    assert operations(app, booking["id"]) == [("create", "queued")]
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).filter_by(action="booking.created")).one()
        assert (event.action, event.actor_type) == ("booking.created", "api_key")
        assert "booking workflow" in event.actor_label


def test_kind_defaults_to_booking(app, api):
    body = booking_body()
    del body["kind"], body["host_email"]
    assert api.post("bookings", body).get_json()["kind"] == "booking"


def test_the_same_body_again_is_the_same_booking(app, api):
    body = booking_body()
    first = api.post("bookings", body)
    again = api.post("bookings", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert "Location" not in again.headers
    assert counts(app) == {"bookings": 1, "meetings": 1, "operations": 1, "audit_events": 1}


def test_the_same_moment_in_another_offset_is_the_same_body(app, api):
    body = booking_body()
    first = api.post("bookings", body).get_json()
    in_utc = datetime.fromisoformat(body["start_time"]).astimezone(UTC).isoformat()
    again = api.post("bookings", {**body, "start_time": in_utc.replace("+00:00", "Z")})
    assert again.status_code == 200 and again.get_json()["id"] == first["id"]


def test_other_details_under_the_same_reference_are_a_conflict(app, api):
    first = api.post("bookings", booking_body()).get_json()
    before = counts(app)
    response = api.post("bookings", booking_body(duration_minutes=45))
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["field"] == "external_ref"
    assert counts(app) == before
    assert snapshot(app, first["id"])["duration_minutes"] == 30


def test_a_retried_create_after_a_reschedule_still_answers_the_booking(app, api):
    body = booking_body()
    booking = api.post("bookings", body).get_json()
    api.patch(f"bookings/{booking['id']}", {"duration_minutes": 60})
    again = api.post("bookings", body)
    assert again.status_code == 200 and again.get_json()["duration_minutes"] == 60


def test_the_answer_never_carries_the_start_url(app, api):
    booking = api.post("bookings", booking_body()).get_json()
    with app.app_context():
        meeting = db.session.scalars(select(Meeting)).one()
        meeting.start_url_enc = "encrypted-start-url"
        meeting.join_url = "https://zoom.us/j/123"
        db.session.commit()
    for response in (api.get(f"bookings/{booking['id']}"), api.get("bookings")):
        assert b"start_url" not in response.data and b"encrypted-start-url" not in response.data


# The service, called directly: the booking, its meeting and its operation commit together.

def _new(ref: str = "svc-1"):
    return parse_new_booking(booking_body(ref), utcnow())


def _rows() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Booking, Meeting, Operation))


@pytest.mark.parametrize("target", ["dashboard.services.bookings.record",
                                    "dashboard.services.outbox.enqueue"])
def test_a_failure_after_the_booking_write_rolls_everything_back(app_context, world,
                                                                 monkeypatch, target):
    def fail(*args, **kwargs):
        raise RuntimeError("crash between the booking and its operation")

    monkeypatch.setattr(target, fail)
    workspace = db.session.get(Workspace, world.acme.id)
    with pytest.raises(RuntimeError):
        bookings.create(workspace, Actor.system(), _new())
    # Nothing lingers in the session for a later commit (of anything else) to write.
    assert not db.session.new and not db.session.dirty
    db.session.commit()
    db.session.remove()
    assert _rows() == (0, 0, 0)
    monkeypatch.undo()
    booking, created = bookings.create(db.session.get(Workspace, world.acme.id),
                                       Actor.system(), _new())
    assert created and _rows() == (1, 1, 1)
    assert booking.meeting.status == "pending"


def test_create_commits_booking_meeting_and_operation_in_one_commit(app_context, world,
                                                                     monkeypatch):
    commits = []
    real_commit = db.session.commit

    def counting_commit():
        commits.append(1)
        real_commit()

    monkeypatch.setattr(db.session, "commit", counting_commit)
    bookings.create(db.session.get(Workspace, world.acme.id), Actor.system(), _new())
    monkeypatch.undo()
    assert len(commits) == 1
    db.session.remove()
    assert _rows() == (1, 1, 1)
    assert db.session.scalars(select(Operation.kind)).one() == "create"
