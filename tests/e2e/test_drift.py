"""Keeping bookings true to Zoom, end to end: meetings edited and deleted on the sandbox's
console as a Zoom user would, our own changes echoed back, both fixes, recreation, and
reconciliation finding what the switched-off webhooks never said."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    AuditEvent,
    Booking,
    MeetingDrift,
    ReconcileRun,
    WebhookEvent,
    Workspace,
)
from dashboard.orm import utcnow
from dashboard.services import drift, drift_fixes, reconcile
from dashboard.services.audit import Actor
from tests.booking_builders import (
    apply_webhooks,
    drain,
    meeting_of,
    new_booking,
    reschedule,
    zoom_meeting,
)
from tests.sandbox_control import ADA

pytestmark = pytest.mark.usefixtures("sandbox")
LATER = "2030-03-04T09:30:00Z"


def _scheduled(app, connected, **fields) -> tuple[int, int]:
    booking_id = new_booking(app, connected.acme.id, **fields)
    drain(app)
    return booking_id, meeting_of(app, booking_id).zoom_meeting_id


def _open(app, booking_id: int) -> MeetingDrift | None:
    with app.app_context():
        found = drift.open_drift(booking_id)
        db.session.expunge_all()
    return found


def _fix(app, fix, booking_id: int):
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        return fix(db.session.get(Workspace, booking.workspace_id), Actor.system(), booking)


def _outcomes(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(WebhookEvent.outcome).order_by(WebhookEvent.id)))


def test_an_edit_on_zooms_web_page_by_the_connected_user_is_drift(app, connected, sandbox):
    """Zoom names the connected user as the operator of its web page's edits too."""
    booking_id, zoom_id = _scheduled(app, connected)
    sandbox.edit_meeting(zoom_id, user=ADA, duration=50, topic="Moved by Ada")
    apply_webhooks(app)  # the worker's next loop
    found = _open(app, booking_id)
    assert found is not None and found.detected_by == "webhook" and found.zoom_operator == ADA
    assert found.changes["duration"] == {"old": 30, "new": 50}
    assert found.changes["topic"]["new"] == "Moved by Ada"


def test_our_own_changes_echoed_back_are_never_flagged(app, connected, sandbox):
    booking_id, zoom_id = _scheduled(app, connected)
    later = (utcnow() + timedelta(days=6)).replace(microsecond=0)
    reschedule(app, booking_id, start_at=later, duration_minutes=75)
    drain(app)
    assert zoom_meeting(sandbox, app, zoom_id)["duration"] == 75
    assert _open(app, booking_id) is None
    assert "ignored: our own change, echoed back by Zoom" in _outcomes(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MeetingDrift)) == 0


def test_keep_zooms_takes_zooms_values_without_calling_zoom(app, connected, sandbox):
    booking_id, zoom_id = _scheduled(app, connected)
    sandbox.edit_meeting(zoom_id, start_time=LATER, duration=40, topic="Renamed in Zoom")
    apply_webhooks(app)  # the worker's next loop
    before = sandbox.state()["requests"]
    _fix(app, drift_fixes.keep_zoom, booking_id)
    assert drain(app) == 0  # nothing was sent
    assert sandbox.state()["requests"] == before
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert (booking.start_at.isoformat(), booking.duration_minutes, booking.title) == (
            "2030-03-04T09:30:00+00:00", 40, "Renamed in Zoom")
        settled = db.session.scalars(select(MeetingDrift)).one()
        assert settled.resolution == "kept_zoom" and settled.resolved_by == "Lakesis"
        audit = db.session.scalars(select(AuditEvent).filter_by(
            action="booking.kept_zoom_values")).one()
        assert audit.details["duration now"] == 40
    assert _open(app, booking_id) is None


def test_restore_pushes_the_bookings_values_back_and_its_echo_is_ours(app, connected,
                                                                      sandbox):
    booking_id, zoom_id = _scheduled(app, connected)
    sandbox.edit_meeting(zoom_id, duration=90)
    apply_webhooks(app)  # the worker's next loop
    assert _open(app, booking_id).changes == {"duration": {"old": 30, "new": 90}}
    _fix(app, drift_fixes.restore, booking_id)
    assert drain(app) == 1
    assert zoom_meeting(sandbox, app, zoom_id)["duration"] == 30
    assert _open(app, booking_id) is None
    assert _outcomes(app)[-1] == "ignored: our own change, echoed back by Zoom"
    with app.app_context():
        assert db.session.scalars(select(MeetingDrift.resolution)).one() == "restored"


def test_a_changed_passcode_is_drift_and_keep_zooms_reads_the_new_link(app, connected,
                                                                       sandbox):
    booking_id, zoom_id = _scheduled(app, connected)
    sandbox.edit_meeting(zoom_id, password="n3wcode")
    apply_webhooks(app)  # the worker's next loop
    found = _open(app, booking_id)
    assert found.changes == {"passcode": {"old": None, "new": "changed"}}
    assert "n3wcode" not in str(found.changes)
    _fix(app, drift_fixes.keep_zoom, booking_id)
    assert drain(app) == 1  # a read-back for the join link, no change sent
    assert meeting_of(app, booking_id).join_url == zoom_meeting(sandbox, app, zoom_id)["join_url"]


def test_deleted_in_zoom_then_recreated_with_a_new_join_link(app, connected, sandbox):
    booking_id, zoom_id = _scheduled(app, connected)
    old_link = meeting_of(app, booking_id).join_url
    sandbox.delete_meeting(zoom_id)
    apply_webhooks(app)  # the worker's next loop
    meeting = meeting_of(app, booking_id)
    assert meeting.status == "deleted_in_zoom" and meeting.join_url is None
    found = _open(app, booking_id)
    assert found.kind == "deleted" and found.old_join_url == old_link
    _fix(app, drift_fixes.recreate, booking_id)
    assert drain(app) == 1
    meeting = meeting_of(app, booking_id)
    assert meeting.status == "scheduled" and meeting.zoom_meeting_id != zoom_id
    assert meeting.previous_join_url == old_link and meeting.join_url != old_link
    assert meeting.join_url_changed_at is not None
    assert _open(app, booking_id) is None
    with app.app_context():
        assert db.session.scalars(select(MeetingDrift.resolution)).one() == "recreated"
        changed = db.session.scalars(select(AuditEvent).filter_by(
            action="meeting.join_link_changed")).one()
        assert changed.details["new_join_url"] == meeting.join_url


def test_reconcile_finds_drift_and_deletions_made_while_webhooks_were_off(app, connected,
                                                                          sandbox):
    changed, changed_zoom = _scheduled(app, connected, ref="changed")
    deleted, deleted_zoom = _scheduled(app, connected, ref="deleted")
    untouched, _ = _scheduled(app, connected, ref="untouched")
    sandbox.webhooks(False)
    sandbox.edit_meeting(changed_zoom, start_time=LATER, topic="Edited quietly")
    apply_webhooks(app)  # the worker's next loop
    sandbox.delete_meeting(deleted_zoom)
    apply_webhooks(app)  # the worker's next loop
    assert sandbox.state()["webhooks"]["suppressed"] == 2
    assert _open(app, changed) is None and _open(app, deleted) is None  # nobody was told
    before = sandbox.state()["requests"]
    with app.app_context():
        run = reconcile.reconcile_workspace(connected.acme.id)
        assert (run.state, run.meetings_checked, run.drift_found, run.deleted_found) == (
            "succeeded", 3, 1, 1)
        assert run.seconds is not None and run.finished_at is not None
    after = sandbox.state()["requests"]
    # one list, one read of the unlisted meeting; no create or update spent
    assert after.get("meetings_list", 0) - before.get("meetings_list", 0) == 1
    for spent in ("meetings_create", "meetings_update"):
        assert after.get(spent, 0) == before.get(spent, 0)
    found = _open(app, changed)
    assert found.detected_by == "reconcile"
    assert set(found.changes) == {"start_time", "topic"}
    assert _open(app, deleted).kind == "deleted"
    assert meeting_of(app, deleted).status == "deleted_in_zoom"
    assert _open(app, untouched) is None
    with app.app_context():  # a second pass finds nothing new
        again = reconcile.reconcile_workspace(connected.acme.id)
        assert (again.drift_found, again.deleted_found, again.meetings_checked) == (0, 0, 2)


def test_reconcile_skips_bookings_whose_own_update_is_on_its_way(app, connected, sandbox):
    booking_id, zoom_id = _scheduled(app, connected)
    sandbox.webhooks(False)
    sandbox.edit_meeting(zoom_id, duration=45)
    apply_webhooks(app)  # the worker's next loop
    reschedule(app, booking_id, duration_minutes=60)  # queued: it will overwrite Zoom's
    with app.app_context():
        run = reconcile.reconcile_workspace(connected.acme.id)
        assert run.drift_found == 0
    assert _open(app, booking_id) is None


def test_zooms_rate_limit_stops_the_pass_and_is_recorded(app, connected, sandbox):
    _scheduled(app, connected)
    sandbox.fault("meetings_list", "rate_limit", count=1)
    with app.app_context():
        run = reconcile.reconcile_workspace(connected.acme.id)
        assert run.state == "stopped" and "rate limit" in run.error
        assert db.session.scalar(select(func.count()).select_from(ReconcileRun)) == 1


def test_reconcile_now_is_run_by_the_worker_once(app, connected, sandbox):
    booking_id, zoom_id = _scheduled(app, connected)
    sandbox.webhooks(False)
    sandbox.edit_meeting(zoom_id, duration=45)
    apply_webhooks(app)  # the worker's next loop
    with app.app_context():
        first = reconcile.request_run(connected.acme.id, "operator@acme.test")
        second = reconcile.request_run(connected.acme.id, "admin@acme.test")
        assert first.id == second.id and first.state == "queued"
        assert reconcile.run_queued() == 1
        assert reconcile.run_queued() == 0
        done = db.session.get(ReconcileRun, first.id)
        assert done.state == "succeeded" and done.drift_found == 1
        assert done.trigger == "button"
    assert _open(app, booking_id).detected_by == "reconcile"


def test_flask_zoom_reconcile(app, connected, sandbox, runner):
    _, zoom_id = _scheduled(app, connected)
    sandbox.webhooks(False)
    sandbox.delete_meeting(zoom_id)
    apply_webhooks(app)  # the worker's next loop
    result = runner.invoke(args=["zoom", "reconcile", "--workspace", "acme"])
    assert result.exit_code == 0, result.output
    assert "acme: succeeded" in result.output and "1 deleted in Zoom" in result.output
    assert runner.invoke(args=["zoom", "reconcile", "--workspace", "nope"]).exit_code != 0


def test_a_reschedule_settles_drift_noticed_before_it_but_not_after(app, connected, sandbox):
    booking_id, zoom_id = _scheduled(app, connected)
    sandbox.edit_meeting(zoom_id, duration=45)
    apply_webhooks(app)  # the worker's next loop
    reschedule(app, booking_id, duration_minutes=60)
    drain(app)  # our update overwrote the change made in Zoom
    with app.app_context():
        assert db.session.scalars(select(MeetingDrift.resolution)).one() == "superseded"
    sandbox.edit_meeting(zoom_id, topic="Changed after ours")
    apply_webhooks(app)  # the worker's next loop
    assert _open(app, booking_id).changes["topic"]["new"] == "Changed after ours"
