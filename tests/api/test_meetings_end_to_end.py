"""The booking workflow's view, end to end: API call -> outbox -> Zoom sandbox -> API answer."""

from __future__ import annotations

import pytest

from dashboard.services import meeting_sync
from tests.api.records import booking_body
from tests.sandbox_control import connect

pytestmark = pytest.mark.usefixtures("sandbox")


def drain(app) -> int:
    with app.app_context():
        return meeting_sync.drain()


def test_a_booking_made_through_the_api_gets_then_loses_its_zoom_meeting(
        app, client, auth, world, sandbox, api):
    auth.sign_in_as(world.admin)
    assert b"Zoom connected" in connect(client, sandbox).data

    booking = api.post("bookings", booking_body()).get_json()
    assert booking["meeting"]["status"] == "pending"
    assert drain(app) == 1
    scheduled = api.get(f"bookings/{booking['id']}").get_json()["meeting"]
    assert scheduled["status"] == "scheduled"
    assert scheduled["join_url"].startswith(app.config["ZOOM_SANDBOX_URL"] + "/j/")
    assert scheduled["zoom_meeting_id"] and scheduled["last_synced_at"]
    assert sandbox.state()["meetings"]["waiting"] == 1

    assert api.post(f"bookings/{booking['id']}/cancel").get_json()["meeting"]["status"] == (
        "pending")
    assert drain(app) == 1
    answer = api.get(f"bookings/{booking['id']}").get_json()
    assert answer["state"] == "cancelled"
    assert answer["meeting"]["status"] == "cancelled"
    assert sandbox.state()["meetings"]["deleted"] == 1
    listed = api.get("bookings", query_string={"status": "cancelled"}).get_json()["data"]
    assert [b["id"] for b in listed] == [booking["id"]]
