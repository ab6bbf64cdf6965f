"""One booking, one Zoom meeting (issue 9): a booking's content cannot capture another
booking's meeting, a meeting another booking holds is never taken over, and a create Zoom
commits after our timeout leaves no second meeting behind, cancelled or not."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import AuditEvent, Meeting
from dashboard.orm import utcnow
from dashboard.services import retry_policy
from dashboard.zoom.meetings import booking_marker, format_time
from tests.booking_builders import (
    booking_of,
    cancel,
    drain,
    make_due,
    meeting_of,
    new_booking,
    operations_of,
    run_once,
)
from tests.zoom_builders import FakeZoom, endpoints, server_error, store_connection

pytestmark = pytest.mark.usefixtures("acme")


@pytest.fixture
def zoom(zoom, app) -> FakeZoom:
    """The shared mock (tests/web/conftest.py), answering as Zoom would."""
    return FakeZoom(zoom, endpoints(app).api_base_url, endpoints(app).token_url)


@pytest.fixture
def acme(app, world, zoom) -> int:
    with app.app_context():
        store_connection(world.acme.id)
    return world.acme.id


def _marker(app, booking_id: int) -> str:
    return booking_marker(booking_of(app, booking_id).public_id)


def _settle(app, booking_id: int) -> None:
    """Run the booking's work to its end, each retry and look made due in turn."""
    for _ in range(3 * retry_policy.MAX_ATTEMPTS):
        make_due(app)
        if drain(app) == 0:
            return
    pytest.fail("the booking's work never ended")


def _unfinished(app, booking_id: int) -> list[str]:
    return [op.kind for op in operations_of(app, booking_id)
            if op.state in ("queued", "running", "waiting")]


def _history(app, workspace_id: int, action: str) -> list[dict]:
    with app.app_context():
        return [event.details for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.workspace_id == workspace_id,
                                     AuditEvent.action == action))]


# --- 1. the marker cannot be forged, and a held meeting is never taken over --------------

def test_a_title_carrying_another_bookings_marker_does_not_capture_its_meeting(app, acme,
                                                                               zoom):
    first = new_booking(app, acme, "a")
    zoom.fail("create", server_error(500))  # first's create: a transient 500, nothing made
    forger = new_booking(app, acme, "b", title=f"anything {_marker(app, first)}")
    drain(app)
    forged_id = meeting_of(app, forger).zoom_meeting_id
    forged = dict(zoom.meetings[forged_id])

    _settle(app, first)

    own = meeting_of(app, first).zoom_meeting_id
    assert own != forged_id and own in zoom.meetings
    assert zoom.meetings[forged_id] == forged  # never adopted, moved or updated
    cancel(app, first)
    _settle(app, first)
    assert forged_id in zoom.meetings and own not in zoom.meetings
    assert meeting_of(app, forger).status == "scheduled"


def test_a_marked_meeting_of_another_host_is_not_adopted(app, acme, zoom):
    booking = new_booking(app, acme)  # hosted by the connected user
    zoom.fail("create", server_error(500))
    drain(app)
    elsewhere = zoom.add_meeting(agenda=f"{_marker(app, booking)} Lakesis consultation",
                                 host_id="zu_SomeoneElse")

    make_due(app)
    drain(app)

    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.zoom_meeting_id != elsewhere["id"]
    assert zoom.calls("PATCH") == 0  # the other host's meeting was not moved to ours


def test_a_marked_meeting_made_before_the_booking_is_not_ours(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", server_error(500))
    drain(app)
    older = zoom.add_meeting(agenda=f"{_marker(app, booking)} Lakesis consultation",
                             created_at=format_time(utcnow() - timedelta(days=3)))

    _settle(app, booking)

    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.zoom_meeting_id != older["id"]
    assert older["id"] in zoom.meetings  # not ours to delete either
    assert zoom.calls("PATCH") == 0


def test_a_meeting_another_booking_holds_is_refused_not_adopted(app, acme, zoom):
    holder = new_booking(app, acme, "holder")
    drain(app)
    held_id = meeting_of(app, holder).zoom_meeting_id
    booking = new_booking(app, acme, "b")
    # Someone pasted b's marker into the holder's agenda in Zoom.
    zoom.meetings[held_id]["agenda"] = f"{_marker(app, booking)} Lakesis consultation"
    held = dict(zoom.meetings[held_id])
    zoom.fail("create", server_error(500))
    drain(app)

    _settle(app, booking)  # no IntegrityError, no stuck worker

    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.zoom_meeting_id != held_id
    assert zoom.meetings[held_id] == held
    assert meeting_of(app, holder).zoom_meeting_id == held_id
    with app.app_context():
        holders = db.session.scalars(select(Meeting.booking_id).where(
            Meeting.zoom_meeting_id == held_id)).all()
    assert holders == [holder]


def test_zoom_answering_with_a_meeting_another_booking_holds_fails_cleanly(app, acme, zoom):
    holder = new_booking(app, acme, "holder")
    drain(app)
    held_id = meeting_of(app, holder).zoom_meeting_id
    booking = new_booking(app, acme, "b")
    zoom.ids = iter([held_id])  # Zoom answers the create with an id that is taken

    assert run_once(app)  # answers, rather than raising out of the worker

    [op] = operations_of(app, booking)
    assert op.state == "failed"
    meeting = meeting_of(app, booking)
    assert meeting.status == "failed" and meeting.zoom_meeting_id is None
    assert meeting.last_error == (f"Lakesis refused: Zoom meeting {held_id} already belongs "
                                  "to booking holder; Lakesis did not take it over.")
    assert meeting_of(app, holder).zoom_meeting_id == held_id


# --- 2. a create Zoom commits after our timeout -------------------------------------------

@pytest.mark.parametrize("failure", [
    "timeout-then-commit", "commit-then-connect-timeout", server_error(502),
    requests.exceptions.ConnectionError("connection reset by peer")])
def test_an_unconfirmed_create_is_not_tried_again_before_zoom_could_finish(app, acme, zoom,
                                                                          failure):
    booking = new_booking(app, acme)
    zoom.fail("create", failure)
    before = utcnow()

    drain(app)

    [op] = operations_of(app, booking)
    assert op.state == "queued"
    assert op.next_attempt_at >= before + timedelta(seconds=retry_policy.CREATE_SETTLE_SECONDS)
    with app.app_context():
        assert db.session.get(Meeting, meeting_of(app, booking).id).create_unconfirmed


def test_the_wait_after_an_unconfirmed_create_is_a_setting(app, acme, zoom, monkeypatch):
    monkeypatch.setitem(app.config, "ZOOM_CREATE_SETTLE_SECONDS", 300)
    booking = new_booking(app, acme)
    zoom.fail("create", "timeout-then-commit")
    before = utcnow()

    drain(app)

    assert operations_of(app, booking)[0].next_attempt_at >= before + timedelta(seconds=300)


def test_a_create_said_never_to_have_connected_is_still_looked_up(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", "commit-then-connect-timeout")

    _settle(app, booking)

    meeting = meeting_of(app, booking)
    assert list(zoom.meetings) == [meeting.zoom_meeting_id]
    assert zoom.calls("POST") == 1


def test_a_late_copy_is_found_and_deleted_by_the_follow_up_look(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", "timeout-then-commit")
    drain(app)
    make_due(app)
    drain(app)  # the retry finds nothing yet and creates the meeting
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled"
    [late] = zoom.land_late()  # Zoom commits the first create, long after it timed out
    posts, patches = zoom.calls("POST"), zoom.calls("PATCH")

    _settle(app, booking)

    assert list(zoom.meetings) == [meeting.zoom_meeting_id]
    assert meeting_of(app, booking).status == "scheduled"
    assert meeting_of(app, booking).zoom_meeting_id == meeting.zoom_meeting_id
    # Looking spends no create/update of the host's daily 100.
    assert (zoom.calls("POST"), zoom.calls("PATCH")) == (posts, patches)
    assert _history(app, acme, "meeting.copy_deleted") == [{"zoom_meeting_id": late}]
    assert any(f"deleted Zoom meeting {late}" in (op.outcome or "")
               for op in operations_of(app, booking))


def test_the_follow_up_looks_end_after_a_bounded_window(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", "timeout-then-commit")
    drain(app)
    make_due(app)
    drain(app)
    lists = zoom.lists()

    _settle(app, booking)

    assert _unfinished(app, booking) == []
    assert 1 <= zoom.lists() - lists <= 3
    with app.app_context():
        assert not db.session.get(Meeting, meeting_of(app, booking).id).create_unconfirmed


def test_a_cancel_deletes_every_meeting_carrying_the_marker(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", "timeout-then-commit")
    drain(app)
    make_due(app)
    drain(app)  # a second meeting is made; then the first create lands
    zoom.land_late()
    assert len(zoom.meetings) == 2

    cancel(app, booking)
    _settle(app, booking)

    assert zoom.meetings == {}
    assert meeting_of(app, booking).status == "cancelled"


def test_a_copy_landing_after_the_cancel_is_deleted_too(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", "timeout-then-commit")
    drain(app)
    cancel(app, booking)  # supersedes the waiting retry; Zoom has not finished yet
    drain(app)
    assert meeting_of(app, booking).status == "cancelled"
    zoom.land_late()

    _settle(app, booking)

    assert zoom.meetings == {}
    assert meeting_of(app, booking).status == "cancelled"


def test_a_reschedule_during_the_follow_up_looks_is_not_held_back(app, acme, zoom):
    from tests.booking_builders import reschedule

    booking = new_booking(app, acme)
    zoom.fail("create", "timeout-then-commit")
    drain(app)
    make_due(app)
    drain(app)
    reschedule(app, booking, duration_minutes=50)

    assert drain(app) == 1  # the update runs now, not after the next look is due

    meeting = meeting_of(app, booking)
    assert zoom.meetings[meeting.zoom_meeting_id]["duration"] == 50
    zoom.land_late()
    _settle(app, booking)
    assert list(zoom.meetings) == [meeting.zoom_meeting_id]
