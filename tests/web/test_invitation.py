"""The customer's invitation (.ics): what it says, read by two independent parsers, and how
a reschedule and a cancel update it (same UID, higher SEQUENCE, then a CANCEL)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject

from tests.api.api_client import ApiClient
from tests.booking_builders import booking_of, cancel, drain, meeting_of, new_booking, reschedule
from tests.mail_builders import api_key, event_of
from tests.zoom_builders import FakeZoom, endpoints, store_connection


@pytest.fixture
def zoom(zoom, app) -> FakeZoom:
    return FakeZoom(zoom, endpoints(app).api_base_url, endpoints(app).token_url)


@pytest.fixture
def acme(app, world, zoom) -> int:
    with app.app_context():
        store_connection(world.acme.id)
    return world.acme.id


@pytest.fixture
def api(app, acme) -> ApiClient:
    return ApiClient(app, api_key(app, acme))


def _ics(app, api: ApiClient, booking_id: int):
    response = api.get(f"bookings/{booking_of(app, booking_id).public_id}/invitation.ics")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_a_booking_without_a_join_link_yet_answers_a_clear_409(app, api, acme):
    booking = new_booking(app, acme)
    response = api.get(f"bookings/{booking_of(app, booking).public_id}/invitation.ics")
    assert response.status_code == 409
    assert "no Zoom join link yet" in response.get_json()["error"]


def test_the_workflow_reads_it_by_its_own_reference_too(app, api, acme):
    booking = new_booking(app, acme, ref="crm-77", hours=72)
    drain(app)
    by_id = _ics(app, api, booking).get_data(as_text=True)
    response = api.get("bookings/ref:crm-77/invitation.ics")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == by_id
    assert api.get("bookings/ref:crm-404/invitation.ics").status_code == 404


def test_the_invitation_parses_with_icalendar_and_with_vobject(app, api, acme):
    booking = new_booking(app, acme, hours=72)
    drain(app)
    join_url = meeting_of(app, booking).join_url
    stored = booking_of(app, booking)
    response = _ics(app, api, booking)
    assert response.mimetype == "text/calendar"
    assert 'filename="invitation.ics"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)

    method, event = event_of(text)
    assert method == "REQUEST"
    assert str(event["UID"]) == f"booking-{stored.public_id}@lakesis"
    assert int(event["SEQUENCE"]) == 0
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Lisbon"
    assert start == stored.start_at
    assert event.decoded("DTEND") - start == timedelta(minutes=30)
    assert str(event["LOCATION"]) == join_url and str(event["URL"]) == join_url
    assert join_url in str(event["DESCRIPTION"])
    assert str(event["SUMMARY"]) == "Consultation with Ana"
    assert "mailto:ana@example.test" in str(event["ATTENDEE"])
    assert "TZID:Europe/Lisbon" in text and "BEGIN:VTIMEZONE" in text

    # A second parser, written independently of the first, reads the same event.
    parsed = vobject.readOne(text)
    assert parsed.method.value == "REQUEST"
    assert parsed.vevent.uid.value == str(event["UID"])
    assert int(parsed.vevent.sequence.value) == 0
    assert parsed.vevent.dtstart.value == stored.start_at
    assert parsed.vevent.dtstart.value.utcoffset() == stored.start_at.astimezone(
        ZoneInfo("Europe/Lisbon")).utcoffset()
    assert parsed.vevent.location.value == join_url
    assert parsed.vtimezone.tzid.value == "Europe/Lisbon"


def test_reschedule_then_cancel_update_the_same_event(app, api, acme):
    booking = new_booking(app, acme, hours=72)
    drain(app)
    _, first = event_of(_ics(app, api, booking).get_data())
    again = event_of(_ics(app, api, booking).get_data())[1]
    assert int(again["SEQUENCE"]) == 0  # reading it again changes nothing

    later = booking_of(app, booking).start_at + timedelta(hours=2)
    reschedule(app, booking, start_at=later)
    # Read before the worker has brought Zoom in line: already the new time, a new number.
    _, pending = event_of(_ics(app, api, booking).get_data())
    assert int(pending["SEQUENCE"]) == 1 and pending.decoded("DTSTART") == later
    drain(app)
    method, updated = event_of(_ics(app, api, booking).get_data())
    assert method == "REQUEST"
    assert str(updated["UID"]) == str(first["UID"])
    assert int(updated["SEQUENCE"]) == 1
    assert updated.decoded("DTSTART") == later

    cancel(app, booking)
    drain(app)
    response = _ics(app, api, booking)
    assert 'filename="cancellation.ics"' in response.headers["Content-Disposition"]
    method, cancelled = event_of(response.get_data())
    assert method == "CANCEL"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["UID"]) == str(first["UID"])
    assert int(cancelled["SEQUENCE"]) == 2
    parsed = vobject.readOne(response.get_data(as_text=True))
    assert parsed.method.value == "CANCEL" and parsed.vevent.status.value == "CANCELLED"
    assert int(parsed.vevent.sequence.value) == 2


def test_another_workspace_and_no_key_get_nothing(app, api, acme, world):
    booking = new_booking(app, acme)
    drain(app)
    path = f"bookings/{booking_of(app, booking).public_id}/invitation.ics"
    other = ApiClient(app, api_key(app, world.globex.id))
    assert other.get(path).status_code == 404
    assert ApiClient(app, None).get(path).status_code == 401


def test_operators_download_it_from_the_booking_page(app, client, auth, world, acme):
    booking = new_booking(app, acme)
    auth.sign_in_as(world.support)
    page = client.get(f"/bookings/{booking}")
    assert "Once the meeting has a join link" in page.get_data(as_text=True)
    assert client.get(f"/bookings/{booking}/invitation.ics").status_code == 409
    drain(app)
    page = client.get(f"/bookings/{booking}").get_data(as_text=True)
    assert f"/bookings/{booking}/invitation.ics" in page
    response = client.get(f"/bookings/{booking}/invitation.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert event_of(response.get_data())[0] == "REQUEST"
    auth.sign_in_as(world.outsider)  # globex's admin
    assert client.get(f"/bookings/{booking}/invitation.ics").status_code == 404
