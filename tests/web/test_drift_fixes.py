"""The fixes of a booking whose meeting Zoom changed or deleted, over HTTP: who may use
them, CSRF, htmx and plain forms, and what the pages show each role."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Booking, MeetingDrift, Operation
from dashboard.orm import utcnow
from dashboard.services.booking_actions import offered_actions
from tests.booking_builders import add_booking

HTMX = {"HX-Request": "true"}


def _drifted(app, world, kind: str = "changed", **meeting) -> int:
    with app.app_context():
        booking_id = add_booking(world.acme.id, "drift-1", **meeting)
        changes = {} if kind == "deleted" else {
            "duration": {"old": 30, "new": 45},
            "topic": {"old": "Consultation with Ana", "new": "Renamed in Zoom"}}
        db.session.add(MeetingDrift(workspace_id=world.acme.id, booking_id=booking_id,
                                    kind=kind, changes=changes, detected_at=utcnow(),
                                    detected_by="webhook", zoom_operator="zu_FrontDesk",
                                    old_join_url="https://zoom.us/j/1" if kind == "deleted"
                                    else None))
        db.session.commit()
    return booking_id


def _operations(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(op.kind, op.state) for op in db.session.scalars(select(Operation))]


def test_keep_zooms_by_an_operator_takes_zooms_values(app, client, auth, world):
    booking_id = _drifted(app, world)
    auth.sign_in_as(world.operator)
    response = client.post(f"/bookings/{booking_id}/keep-zoom",
                           headers={**HTMX, "HX-Target": f"booking-{booking_id}"})
    assert response.status_code == 200
    body = response.data.decode()
    assert f'id="booking-{booking_id}"' in body and "Needs attention" not in body
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert (booking.duration_minutes, booking.title) == (45, "Renamed in Zoom")
    assert _operations(app) == []  # nothing for Zoom


def test_restore_without_javascript_enqueues_an_update_and_redirects(app, client, auth, world):
    booking_id = _drifted(app, world)
    auth.sign_in_as(world.admin)
    response = client.post(f"/bookings/{booking_id}/restore")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/bookings/{booking_id}")
    assert _operations(app) == [("update", "queued")]
    with app.app_context():
        assert db.session.scalars(select(MeetingDrift.resolution)).one() == "restored"


def test_recreate_is_offered_for_a_deleted_meeting_only(app, client, auth, world):
    booking_id = _drifted(app, world, kind="deleted", status="deleted_in_zoom")
    auth.sign_in_as(world.operator)
    refused = client.post(f"/bookings/{booking_id}/keep-zoom")
    assert refused.status_code == 302  # the page, with why nothing happened
    page = client.get(f"/bookings/{booking_id}").data.decode()
    assert "deleted in Zoom: Recreate makes a new one" in page
    row = client.get(f"/bookings/{booking_id}/row", headers=HTMX).data.decode()
    assert ">Recreate</button>" in row and ">Retry</button>" not in row  # one, not both
    assert client.post(f"/bookings/{booking_id}/recreate").status_code == 302
    assert _operations(app) == [("create", "queued")]
    again = client.post(f"/bookings/{booking_id}/recreate",
                        headers={**HTMX, "HX-Target": f"booking-{booking_id}"})
    assert again.status_code == 409  # already on its way
    assert _operations(app) == [("create", "queued")]


@pytest.mark.parametrize("fix", ["keep-zoom", "restore", "recreate"])
def test_support_may_not_fix(app, client, auth, world, fix):
    booking_id = _drifted(app, world)
    auth.sign_in_as(world.support)
    assert client.post(f"/bookings/{booking_id}/{fix}").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MeetingDrift).where(
            MeetingDrift.resolved_at.is_(None))) == 1


@pytest.mark.parametrize("fix", ["keep-zoom", "restore", "recreate"])
def test_a_fix_without_csrf_is_refused(app, client, auth, world, fix):
    booking_id = _drifted(app, world)
    auth.sign_in_as(world.operator)
    response = client.post(f"/bookings/{booking_id}/{fix}", csrf=False, headers=HTMX)
    assert response.status_code == 400
    assert _operations(app) == []


def test_another_workspaces_booking_is_not_found(app, client, auth, world):
    booking_id = _drifted(app, world)
    auth.sign_in_as(world.outsider)
    with client.session_transaction() as session:
        session["workspace_id"] = world.globex.id
    assert client.post(f"/bookings/{booking_id}/keep-zoom").status_code in (403, 404)
    with app.app_context():
        assert db.session.get(Booking, booking_id).duration_minutes == 30


def test_the_booking_page_explains_the_drift_with_buttons_for_operators(app, client, auth,
                                                                        world):
    booking_id = _drifted(app, world)
    auth.sign_in_as(world.operator)
    page = client.get(f"/bookings/{booking_id}").data.decode()
    assert "Needs attention" in page and "Changed in Zoom" in page
    assert "Length: the booking says 30 min, Zoom says 45 min." in page
    assert "Topic: the booking says Consultation with Ana, Zoom says Renamed in Zoom." in page
    assert "Keep Zoom&#39;s</button>" in page and "Restore the booking&#39;s</button>" in page
    table = client.get("/bookings?since=").data.decode()
    assert "Needs attention" in table and "Changed in Zoom: length, topic" in table
    menu = client.get(f"/bookings/{booking_id}/menu", headers={"HX-Request": "true"}).data.decode()
    assert f"/bookings/{booking_id}/keep-zoom" in menu and f"/bookings/{booking_id}/restore" in menu


def test_support_sees_the_drift_without_buttons_and_is_told_who_can_fix_it(app, client, auth,
                                                                          world):
    booking_id = _drifted(app, world)
    auth.sign_in_as(world.support)
    page = client.get(f"/bookings/{booking_id}").data.decode()
    assert "Needs attention" in page and "Zoom says 45 min" in page
    assert "An operator or admin of this workspace can fix this" in page
    assert "/keep-zoom" not in page and "/restore" not in page


def test_a_failure_shows_its_plain_cause_with_the_raw_code_one_click_away(app, client, auth,
                                                                         world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "failed-1", status="failed",
                                 last_error="User does not exist: x@y.test (HTTP 404, "
                                 "code 1001)", error_code="1001", tracking_id="v=2.0;t=abc")
        db.session.commit()
    auth.sign_in_as(world.support)
    page = client.get(f"/bookings/{booking_id}").data.decode()
    assert "The host is not a user in your Zoom account." in page
    assert "An operator or admin can act: Change the booking" in page
    assert "<details class=\"raw-error\">" in page
    assert "<code>1001</code>" in page and "v=2.0;t=abc" in page


def test_the_offers_of_a_drift():
    booking = Booking(state="active", title="x")
    from dashboard.models import Meeting

    booking.meeting = Meeting(status="scheduled", zoom_meeting_id=1)
    changed = MeetingDrift(kind="changed", changes={})
    deleted = MeetingDrift(kind="deleted", changes={})
    offers = offered_actions(booking, open_operation=False, drift=changed)
    assert (offers.keep_zoom.allowed, offers.restore.allowed, offers.recreate.allowed) == (
        True, True, False)
    offers = offered_actions(booking, open_operation=False, drift=deleted)
    assert (offers.keep_zoom.allowed, offers.restore.allowed, offers.recreate.allowed) == (
        False, False, True)
    offers = offered_actions(booking, open_operation=True, drift=deleted)
    assert not offers.recreate.allowed and offers.recreate.reason.endswith(".")
    none = offered_actions(booking, open_operation=False)
    assert not (none.keep_zoom.allowed or none.restore.allowed or none.recreate.allowed)
    booking.meeting.status = "started"
    assert not offered_actions(booking, open_operation=False, drift=changed).restore.allowed
