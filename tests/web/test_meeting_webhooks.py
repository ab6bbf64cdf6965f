"""Zoom's meeting webhooks move a booking's meeting: started, ended, deleted in Zoom, changed
in Zoom by someone else. Events are matched by meeting id within the Zoom account's
workspace, and a late event never undoes a newer one."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from dashboard.extensions import db
from dashboard.models import Booking, Meeting, MeetingDrift, WebhookEvent, Workspace
from dashboard.orm import utcnow
from dashboard.services import drift, echoes
from tests.booking_builders import apply_webhooks, cancel, meeting_of, new_booking
from tests.zoom_builders import (
    ZOOM_ACCOUNT_ID,
    ZOOM_USER_ID,
    compact,
    meeting_event,
    signed_headers,
    store_connection,
)

MEETING_ID = 81047304804
SOMEONE_ELSE = "zu_FrontDesk"


@pytest.fixture
def booking(app, world, zoom) -> int:
    """An acme booking whose meeting Zoom holds as MEETING_ID, connected to the account."""
    with app.app_context():
        store_connection(world.acme.id)
    booking_id = new_booking(app, world.acme.id)
    _set_meeting(app, booking_id, zoom_meeting_id=MEETING_ID, status="scheduled",
                 join_url="https://zoom.us/j/81047304804")
    return booking_id


def _set_meeting(app, booking_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(Meeting).where(Meeting.booking_id == booking_id)
                           .values(**values))
        db.session.commit()


def _deliver(client, app, body: dict) -> WebhookEvent:
    """Send ``body`` as Zoom does; return the stored event once it has been applied."""
    raw = compact(body)
    response = client.post("/webhooks/zoom", data=raw,
                           headers=signed_headers(app.config["ZOOM_WEBHOOK_SECRET_TOKEN"], raw),
                           content_type="application/json", csrf=False)
    assert response.status_code == 200, response.data
    response.close()
    apply_webhooks(app)  # the worker's next loop
    with app.app_context():
        event = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
        db.session.expunge_all()
    assert event.processed_at is not None
    return event


def _at(body: dict, event_ts: int) -> dict:
    return {**body, "event_ts": event_ts}


def _changed(event: str, *, operator_id: str, new: dict, old: dict,
             meeting_id: int | str = MEETING_ID, account_id: str = ZOOM_ACCOUNT_ID) -> dict:
    """``meeting.updated`` / ``meeting.deleted`` as Zoom sends them, with the operator."""
    ids = {"id": meeting_id, "uuid": "aBcDeF12=="}
    payload = {"account_id": account_id, "operator": "someone@lake-clinic.test",
               "operator_id": operator_id, "object": {**ids, **new}}
    if event == "meeting.updated":
        payload["old_object"] = {**ids, **old}
        payload["time_stamp"] = int(time.time() * 1000)
    return {"event": event, "event_ts": int(time.time() * 1000), "payload": payload}


def test_started_then_ended_moves_the_meeting_and_records_the_workspace(
        app, client, world, booking):
    now = int(time.time() * 1000)
    started = _deliver(client, app, _at(meeting_event("meeting.started",
                                                      meeting_id=MEETING_ID), now))
    assert started.outcome == "meeting started"
    assert started.workspace_id == world.acme.id
    meeting = meeting_of(app, booking)
    assert meeting.status == "started" and meeting.last_event_ts == now

    ended = meeting_event("meeting.ended", meeting_id=MEETING_ID,
                          end_time="2026-12-01T10:31:00Z")
    ended["payload"]["object"]["id"] = MEETING_ID  # a number here, a string in "started"
    assert _deliver(client, app, _at(ended, now + 60_000)).outcome == "meeting ended"
    assert meeting_of(app, booking).status == "ended"


def test_a_late_started_after_ended_does_not_move_the_meeting_back(app, client, booking):
    now = int(time.time() * 1000)
    _deliver(client, app, _at(meeting_event("meeting.ended", meeting_id=MEETING_ID), now))
    late = _deliver(client, app, _at(meeting_event("meeting.started", meeting_id=MEETING_ID),
                                     now - 30 * 60_000))
    assert late.outcome.startswith("ignored: older than the last event")
    meeting = meeting_of(app, booking)
    assert meeting.status == "ended" and meeting.last_event_ts == now


def test_an_unknown_meeting_is_ignored(app, client, world, booking):
    event = _deliver(client, app, meeting_event("meeting.started", meeting_id=999))
    assert event.outcome == "ignored: no booking for this meeting"
    assert event.workspace_id is None
    assert meeting_of(app, booking).status == "scheduled"


def test_a_meeting_of_another_zoom_account_is_not_touched(app, client, world, booking):
    with app.app_context():
        store_connection(world.globex.id, zoom_user_id="zu_Other",
                         zoom_account_id="acct_Other")
    event = _deliver(client, app, meeting_event("meeting.started", meeting_id=MEETING_ID,
                                                account_id="acct_Other"))
    assert event.outcome == "ignored: no booking for this meeting"
    assert meeting_of(app, booking).status == "scheduled"


def test_the_same_meeting_id_in_two_workspaces_is_matched_by_account(app, client, world,
                                                                     booking):
    with app.app_context():
        store_connection(world.globex.id, zoom_user_id="zu_Other",
                         zoom_account_id="acct_Other")
    other = new_booking(app, world.globex.id, ref="globex-1")
    _set_meeting(app, other, zoom_meeting_id=MEETING_ID, status="scheduled")
    event = _deliver(client, app, meeting_event("meeting.started", meeting_id=MEETING_ID,
                                                account_id="acct_Other"))
    assert event.workspace_id == world.globex.id
    assert meeting_of(app, other).status == "started"
    assert meeting_of(app, booking).status == "scheduled"


def test_deleted_in_zoom_by_someone_marks_an_active_booking(app, client, world, booking):
    event = _deliver(client, app, _changed("meeting.deleted", operator_id=SOMEONE_ELSE,
                                           new={}, old={}))
    assert event.outcome == "meeting deleted in Zoom"
    assert event.workspace_id == world.acme.id
    meeting = meeting_of(app, booking)
    assert meeting.status == "deleted_in_zoom"
    assert meeting.join_url is None
    assert SOMEONE_ELSE in meeting.note and "Recreate" in meeting.note
    found = _open_drift(app, booking)
    assert (found.kind, found.detected_by, found.zoom_operator) == (
        "deleted", "webhook", SOMEONE_ELSE)
    assert found.old_join_url == "https://zoom.us/j/81047304804"


def test_a_deletion_of_a_cancelled_booking_changes_nothing(app, client, booking):
    cancel(app, booking)
    _set_meeting(app, booking, status="cancelled", join_url=None)
    event = _deliver(client, app, _changed("meeting.deleted", operator_id=ZOOM_USER_ID,
                                           new={}, old={}))
    assert event.outcome.startswith("ignored: Lakesis deleted this meeting")
    meeting = meeting_of(app, booking)
    assert meeting.status == "cancelled" and meeting.note is None


def test_our_own_delete_arriving_before_the_cancel_finished_changes_nothing(app, client,
                                                                           booking):
    cancel(app, booking)  # the cancel operation is on its way: the meeting is pending
    event = _deliver(client, app, _changed("meeting.deleted", operator_id=ZOOM_USER_ID,
                                           new={}, old={}))
    assert event.outcome.startswith("ignored")
    assert meeting_of(app, booking).status == "pending"


def _open_drift(app, booking_id: int) -> MeetingDrift | None:
    with app.app_context():
        found = drift.open_drift(booking_id)
        db.session.expunge_all()
    return found


def _booking_start(app, booking_id: int) -> str:
    with app.app_context():
        return drift.booking_values(db.session.get(Booking, booking_id))["start_time"]


def test_a_change_in_zoom_by_someone_else_is_recorded_as_drift(app, client, booking):
    ours = _booking_start(app, booking)
    event = _deliver(client, app, _changed(
        "meeting.updated", operator_id=SOMEONE_ELSE,
        new={"start_time": "2030-12-01T11:00:00Z", "duration": 45, "topic": "Renamed",
             "password": "n3w"},
        old={"start_time": ours, "duration": 30, "topic": "Old", "password": "0ld"}))
    assert event.outcome == "drift recorded: changed in Zoom"
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled"
    assert meeting.synced_duration == 45
    assert meeting.synced_start_at.isoformat() == "2030-12-01T11:00:00+00:00"
    found = _open_drift(app, booking)
    assert found.kind == "changed" and found.detected_by == "webhook"
    assert found.zoom_operator == SOMEONE_ELSE
    assert found.changes["start_time"] == {"old": ours, "new": "2030-12-01T11:00:00Z"}
    assert found.changes["duration"] == {"old": 30, "new": 45}
    assert found.changes["topic"]["new"] == "Renamed"
    assert found.changes["passcode"] == {"old": None, "new": "changed"}
    assert "n3w" not in str(found.changes)


def test_the_connected_users_own_edit_in_zoom_is_drift_too(app, client, booking):
    """Zoom names the connected user as the operator of its web page's edits as well."""
    event = _deliver(client, app, _changed(
        "meeting.updated", operator_id=ZOOM_USER_ID, meeting_id=str(MEETING_ID),
        new={"duration": 45}, old={"duration": 30}))
    assert event.outcome == "drift recorded: changed in Zoom"
    assert _open_drift(app, booking).changes == {"duration": {"old": 30, "new": 45}}


def test_our_own_change_echoed_by_zoom_is_recognised_by_what_we_sent(app, client, booking):
    with app.app_context():
        meeting = db.session.scalars(select(Meeting).filter_by(booking_id=booking)).one()
        echoes.record_send(meeting.id, {"duration": 45, "topic": "Consultation"})
    event = _deliver(client, app, _changed(
        "meeting.updated", operator_id=SOMEONE_ELSE, meeting_id=str(MEETING_ID),
        new={"duration": 45}, old={"duration": 30}))
    assert event.outcome == "ignored: our own change, echoed back by Zoom"
    assert _open_drift(app, booking) is None
    assert meeting_of(app, booking).synced_duration == 45
    # a value we never sent is not an echo, whoever made it
    event = _deliver(client, app, _changed(
        "meeting.updated", operator_id=ZOOM_USER_ID, new={"duration": 50}, old={"duration": 45}))
    assert event.outcome == "drift recorded: changed in Zoom"


def test_an_echo_after_the_window_is_drift(app, client, booking):
    with app.app_context():
        meeting = db.session.scalars(select(Meeting).filter_by(booking_id=booking)).one()
        echoes.record_send(meeting.id, {"duration": 45},
                           now=utcnow() - echoes.window() - timedelta(seconds=1))
    event = _deliver(client, app, _changed("meeting.updated", operator_id=ZOOM_USER_ID,
                                           new={"duration": 45}, old={"duration": 30}))
    assert event.outcome == "drift recorded: changed in Zoom"


def test_zoom_changed_back_to_the_bookings_values_settles_the_drift(app, client, booking):
    _deliver(client, app, _changed("meeting.updated", operator_id=SOMEONE_ELSE,
                                   new={"duration": 45}, old={"duration": 30}))
    event = _deliver(client, app, _changed("meeting.updated", operator_id=SOMEONE_ELSE,
                                           new={"duration": 30}, old={"duration": 45}))
    assert event.outcome == "the change in Zoom agrees with the booking"
    assert _open_drift(app, booking) is None
    with app.app_context():
        settled = db.session.scalars(select(MeetingDrift)).one()
        assert settled.resolution == "in_line"


def test_a_late_change_never_undoes_a_newer_one(app, client, booking):
    now = int(time.time() * 1000)
    newer = _changed("meeting.updated", operator_id=SOMEONE_ELSE, new={"duration": 60},
                     old={"duration": 30})
    older = _changed("meeting.updated", operator_id=SOMEONE_ELSE, new={"duration": 45},
                     old={"duration": 30})
    _deliver(client, app, _at(newer, now))
    late = _deliver(client, app, _at(older, now - 60_000))
    assert late.outcome.startswith("ignored: older than the last event")
    assert _open_drift(app, booking).changes["duration"]["new"] == 60
    assert meeting_of(app, booking).synced_duration == 60


def test_the_same_delivery_twice_records_one_drift(app, client, booking):
    body = _changed("meeting.updated", operator_id=SOMEONE_ELSE, new={"duration": 45},
                    old={"duration": 30})
    _deliver(client, app, body)
    _deliver(client, app, body)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MeetingDrift)) == 1
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_a_change_of_untracked_fields_leaves_no_drift(app, client, booking):
    event = _deliver(client, app, _changed("meeting.updated", operator_id=SOMEONE_ELSE,
                                           new={"agenda": "Other"}, old={"agenda": "Old"}))
    assert event.outcome.startswith("ignored: no field")
    assert meeting_of(app, booking).note is None and _open_drift(app, booking) is None


def test_meeting_created_is_ignored(app, client, booking):
    event = _deliver(client, app, meeting_event("meeting.created", meeting_id=MEETING_ID))
    assert event.outcome.startswith("ignored")
    assert meeting_of(app, booking).status == "scheduled"


def test_a_cancelled_meeting_does_not_start(app, client, booking):
    _set_meeting(app, booking, status="cancelled")
    event = _deliver(client, app, meeting_event("meeting.started", meeting_id=MEETING_ID))
    assert event.outcome == "ignored: the meeting is cancelled in Lakesis"
    assert meeting_of(app, booking).status == "cancelled"


def test_an_event_without_a_timestamp_still_applies(app, client, booking):
    body = meeting_event("meeting.started", meeting_id=MEETING_ID)
    del body["event_ts"]
    assert _deliver(client, app, body).outcome == "meeting started"
    meeting = meeting_of(app, booking)
    assert meeting.status == "started" and meeting.last_event_ts is None


def test_events_are_stored_without_the_operators_email(app, client, booking):
    _deliver(client, app, _changed("meeting.updated", operator_id=SOMEONE_ELSE,
                                   new={"duration": 45}, old={"duration": 30}))
    with app.app_context():
        stored = db.session.scalars(select(WebhookEvent)).one()
        assert "someone@lake-clinic.test" not in str(stored.payload)
        assert db.session.get(Workspace, stored.workspace_id).slug == "acme"


def test_the_same_started_delivered_twice_is_applied_once(app, client, booking):
    body = _at(meeting_event("meeting.started", meeting_id=MEETING_ID), int(time.time() * 1000))
    first = _deliver(client, app, body)
    second = _deliver(client, app, body)  # Zoom's retry: the same bytes
    assert first.id == second.id and first.outcome == "meeting started"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_a_restarted_meeting_moves_forward_by_zooms_timestamps(app, client, booking):
    now = int(time.time() * 1000)
    _deliver(client, app, _at(meeting_event("meeting.started", meeting_id=MEETING_ID), now))
    _deliver(client, app, _at(meeting_event("meeting.ended", meeting_id=MEETING_ID),
                              now + 60_000))
    again = _deliver(client, app, _at(meeting_event("meeting.started", meeting_id=MEETING_ID),
                                      now + 120_000))
    assert again.outcome == "meeting started"
    late_end = _deliver(client, app, _at(meeting_event("meeting.ended", meeting_id=MEETING_ID),
                                         now + 60_000 - 1))
    assert late_end.outcome.startswith("ignored: older than the last event")
    assert meeting_of(app, booking).status == "started"


def test_a_late_change_older_than_the_meetings_end_records_no_drift(app, client, booking):
    now = int(time.time() * 1000)
    _deliver(client, app, _at(meeting_event("meeting.ended", meeting_id=MEETING_ID), now))
    late = _deliver(client, app, _at(_changed("meeting.updated", operator_id=SOMEONE_ELSE,
                                              new={"duration": 45}, old={"duration": 30}),
                                     now - 1000))
    assert late.outcome.startswith("ignored: older than the last event")
    assert _open_drift(app, booking) is None


def test_a_change_overwritten_since_by_our_own_update_is_not_drift(app, client, booking):
    """Zoom's event arrives after our later update landed: Zoom holds ours again."""
    changed_at = utcnow() - timedelta(seconds=30)
    with app.app_context():
        meeting = db.session.scalars(select(Meeting).filter_by(booking_id=booking)).one()
        echoes.record_send(meeting.id, {"duration": 30}, now=changed_at + timedelta(seconds=5))
        meeting.last_synced_at = changed_at + timedelta(seconds=6)
        db.session.commit()
    event = _deliver(client, app, _at(_changed("meeting.updated", operator_id=SOMEONE_ELSE,
                                               new={"duration": 45}, old={"duration": 30}),
                                      int(changed_at.timestamp() * 1000)))
    assert event.outcome == "ignored: a later change of ours has overwritten it in Zoom"
    assert _open_drift(app, booking) is None
