"""Reading, rescheduling and cancelling one booking, only in the key's own workspace."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from dashboard.orm import utcnow
from tests.api.records import booking_body, counts, operations, snapshot


@pytest.fixture
def booking(api):
    return api.post("bookings", booking_body()).get_json()


def test_get_answers_the_booking(app, api, booking):
    response = api.get(f"bookings/{booking['id']}")
    assert response.status_code == 200 and response.get_json() == booking


def test_reschedule_changes_the_fields_given_and_queues_one_update(app, api, booking):
    start = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    changes = {"start_time": start.isoformat(), "duration_minutes": 45,
               "timezone": "America/New_York", "title": "Follow-up",
               "host_email": "Host@Example.test"}
    response = api.patch(f"bookings/{booking['id']}", changes)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["start_time"] == start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (answer["duration_minutes"], answer["timezone"], answer["title"],
            answer["host_email"]) == (45, "America/New_York", "Follow-up", "host@example.test")
    assert answer["customer"] == booking["customer"]
    assert answer["meeting"]["status"] == "pending"
    # The create has not run yet, so it will read the new values: no separate update.
    assert operations(app, booking["id"]) == [("create", "queued")]
    assert api.get(f"bookings/{booking['id']}").get_json() == answer


def test_reschedule_with_the_same_values_changes_nothing(app, api, booking):
    before = counts(app)
    response = api.patch(f"bookings/{booking['id']}", {"duration_minutes": 30})
    assert response.status_code == 200
    assert counts(app) == before


def test_host_email_can_be_cleared(app, api):
    booking = api.post("bookings", booking_body(host_email="host@example.test")).get_json()
    answer = api.patch(f"bookings/{booking['id']}", {"host_email": None}).get_json()
    assert answer["host_email"] is None


def test_cancel_answers_the_cancelled_booking_and_is_idempotent(app, api, booking):
    first = api.post(f"bookings/{booking['id']}/cancel")
    assert first.status_code == 200 and first.get_json()["state"] == "cancelled"
    before = counts(app)
    again = api.post(f"bookings/{booking['id']}/cancel")
    assert again.status_code == 200 and again.get_json()["state"] == "cancelled"
    assert counts(app) == before
    # The cancel supersedes the create that never ran.
    assert operations(app, booking["id"]) == [("create", "succeeded"), ("cancel", "queued")]


def test_a_cancelled_booking_cannot_be_rescheduled(app, api, booking):
    api.post(f"bookings/{booking['id']}/cancel")
    before = snapshot(app, booking["id"])
    response = api.patch(f"bookings/{booking['id']}", {"duration_minutes": 60})
    assert response.status_code == 409
    assert "cancelled" in response.get_json()["error"]
    assert snapshot(app, booking["id"]) == before


NOT_FOUND_CALLS = [
    ("GET", "bookings/{id}", None),
    ("PATCH", "bookings/{id}", {"duration_minutes": 60}),
    ("POST", "bookings/{id}/cancel", None),
]


@pytest.mark.parametrize("method,path,body", NOT_FOUND_CALLS, ids=["get", "patch", "cancel"])
def test_another_workspaces_booking_is_not_found_like_an_unknown_one(
        app, api, globex_api, booking, method, path, body):
    before = snapshot(app, booking["id"])
    kwargs = {} if body is None else {"json": body}
    foreign = globex_api.request(method, path.format(id=booking["id"]), **kwargs)
    unknown = globex_api.request(method, path.format(id="0" * 32), **kwargs)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.get_json() == unknown.get_json()
    assert snapshot(app, booking["id"]) == before


def test_odd_ids_are_not_found(app, api):
    for odd in ("%00", "x" * 300, "1%20OR%201=1", "%E2%98%83"):
        assert api.get(f"bookings/{odd}").status_code == 404
