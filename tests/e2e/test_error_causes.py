"""Zoom's failures keep their code and tracking id, and the booking's page explains them."""

from __future__ import annotations

import pytest

from dashboard.extensions import db
from dashboard.models import Operation
from tests.booking_builders import drain, make_due, meeting_of, new_booking

pytestmark = pytest.mark.usefixtures("sandbox")


def test_a_host_outside_the_zoom_account_is_explained_with_the_raw_code(app, connected,
                                                                        client, auth):
    booking_id = new_booking(app, connected.acme.id, host_email="nobody@elsewhere.test")
    drain(app)
    meeting = meeting_of(app, booking_id)
    assert meeting.status == "failed" and meeting.error_code == "1001"
    assert meeting.tracking_id
    with app.app_context():
        op = db.session.scalars(db.select(Operation)).one()
        assert (op.error_code, op.tracking_id) == ("1001", meeting.tracking_id)
    auth.sign_in_as(connected.operator)
    page = client.get(f"/bookings/{booking_id}").data.decode()
    assert "The host is not a user in your Zoom account." in page
    assert "Change the booking&#39;s host in the booking workflow" in page
    assert f"<code>{meeting.tracking_id}</code>" in page


def test_the_daily_cap_is_explained_and_a_success_clears_the_code(app, connected, client,
                                                                  auth, sandbox):
    sandbox.fault("meetings_create", "daily_limit", count=1)
    booking_id = new_booking(app, connected.acme.id)
    drain(app)
    meeting = meeting_of(app, booking_id)
    assert meeting.error_code == "daily-cap"
    auth.sign_in_as(connected.support)
    page = client.get(f"/bookings/{booking_id}").data.decode()
    assert "Zoom allows 100 meeting changes per host per day: resumes at 00:00 UTC." in page
    assert "Change the booking" not in page
    make_due(app)
    drain(app)
    meeting = meeting_of(app, booking_id)
    assert meeting.status == "scheduled" and meeting.error_code is None
    assert meeting.tracking_id is None
