"""Bulk Retry / Re-sync / Cancel of the bookings ticked in the bookings table: each takes
the selected bookings whose own button offers it (the rest shown as skipped, with why),
keeps to what it showed of each host's daily Zoom cap, and runs without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import AuditEvent, Booking, BulkJob, BulkJobKind, Operation, Workspace
from dashboard.orm import utcnow
from dashboard.services import ServiceError, bulk_jobs
from tests.booking_builders import add_booking

RETRY, RESYNC, CANCEL = (BulkJobKind.RETRY_SELECTED, BulkJobKind.RESYNC_SELECTED,
                         BulkJobKind.CANCEL_SELECTED)


@pytest.fixture
def picked(app, world):
    """Two failed bookings, one scheduled, one with work on its way, one cancelled, and a
    failed booking of another workspace."""
    with app.app_context():
        acme = world.acme.id
        world.ids = {
            "failed": [add_booking(acme, f"f-{n}", title=f"Failed {n}", status="failed")
                       for n in range(2)],
            "scheduled": add_booking(acme, "s-1", title="Scheduled one"),
            "queued": add_booking(acme, "q-1", title="On its way", status="failed",
                                  operation="queued"),
            "cancelled": add_booking(acme, "c-1", title="Cancelled one", status="cancelled",
                                     state="cancelled"),
            "other": add_booking(world.globex.id, "g-1", status="failed"),
        }
    return world


def _acme(world) -> Workspace:
    return db.session.get(Workspace, world.acme.id)


def _all(world) -> list[int]:
    ids = world.ids
    return [*ids["failed"], ids["scheduled"], ids["queued"], ids["cancelled"], ids["other"]]


def _drain() -> None:
    while bulk_jobs.run_chunk(size=2):
        pass


def test_retry_takes_the_eligible_and_says_why_it_skips_the_others(app, picked):
    with app.app_context():
        plan = bulk_jobs.plan(_acme(picked), RETRY, selected=_all(picked))
        assert plan.booking_ids == picked.ids["failed"]
        reasons = {skip.booking_id: skip.reason for skip in plan.skipped}
        assert "no Zoom work of this booking failed" in reasons[picked.ids["scheduled"]]
        assert "already on its way" in reasons[picked.ids["queued"]]
        assert "the booking and its meeting are cancelled" in reasons[picked.ids["cancelled"]]
        # Another workspace's booking reads as one that does not exist.
        assert reasons[picked.ids["other"]].startswith("No such booking in this workspace")
        # The create on its way will spend one of the connected user's 100 today too.
        assert [(s.uses, s.remaining) for s in plan.shares] == [(2, 99)]


def test_cancel_and_resync_follow_their_own_buttons_and_spend_no_daily_cap(app, picked):
    with app.app_context():
        cancel = bulk_jobs.plan(_acme(picked), CANCEL, selected=_all(picked))
        assert set(cancel.booking_ids) == {*picked.ids["failed"], picked.ids["scheduled"],
                                           picked.ids["queued"]}
        assert cancel.shares == [] and cancel.not_capped == 4
        resync = bulk_jobs.plan(_acme(picked), RESYNC, selected=_all(picked))
        assert resync.booking_ids == [picked.ids["scheduled"]] and resync.shares == []


def test_a_selected_retry_keeps_to_the_hosts_remaining_cap(app, picked):
    if utcnow().hour == 23 and utcnow().minute > 55:
        pytest.skip("the daily cap resets at 00:00 UTC")
    with app.app_context():
        for booking_id in picked.ids["failed"]:
            db.session.get(Booking, booking_id).host_email = "h@example.test"
        for n in range(99):
            db.session.add(Operation(workspace_id=picked.acme.id,
                                     booking_id=picked.ids["scheduled"], kind="update",
                                     state="succeeded", requested_by="test",
                                     finished_at=utcnow() - timedelta(seconds=n)))
        db.session.get(Booking, picked.ids["scheduled"]).host_email = "h@example.test"
        db.session.commit()
        plan = bulk_jobs.plan(_acme(picked), RETRY, selected=picked.ids["failed"])
        assert len(plan.booking_ids) == 1
        assert [(s.uses, s.remaining, s.left_out) for s in plan.shares] == [(1, 1, 1)]


def test_too_many_or_no_bookings_are_refused(app, picked):
    with app.app_context():
        with pytest.raises(ServiceError, match="at most 500"):
            bulk_jobs.plan(_acme(picked), RETRY, selected=list(range(1, 502)))
        with pytest.raises(ServiceError, match="at least one"):
            bulk_jobs.plan(_acme(picked), RETRY, selected=[])


def test_a_selection_whose_plan_changed_is_refused(app, picked):
    with app.app_context():
        workspace = _acme(picked)
        user = db.session.get(type(picked.operator), picked.operator.id)
        plan = bulk_jobs.plan(workspace, RETRY, selected=picked.ids["failed"])
        # One of them is retried by hand meanwhile: the job would no longer be what was shown.
        db.session.add(Operation(workspace_id=picked.acme.id, booking_id=picked.ids["failed"][0],
                                 kind="create", state="queued", requested_by="test"))
        db.session.commit()
        with pytest.raises(ServiceError, match="has changed since it was shown"):
            bulk_jobs.start(workspace, user, RETRY, plan.token, selected=picked.ids["failed"])
        assert db.session.scalar(select(func.count()).select_from(BulkJob)) == 0


def test_a_selected_cancel_runs_through_the_cancel_of_each_booking(app, picked):
    with app.app_context():
        workspace = _acme(picked)
        user = db.session.get(type(picked.operator), picked.operator.id)
        ids = [*picked.ids["failed"], picked.ids["scheduled"]]
        plan = bulk_jobs.plan(workspace, CANCEL, selected=ids)
        job = bulk_jobs.start(workspace, user, CANCEL, plan.token, selected=ids)
        _drain()
        db.session.refresh(job)
        assert (job.total, job.done, job.errors) == (3, 3, 0)
        states = db.session.scalars(select(Booking.state).where(Booking.id.in_(ids))).all()
        assert set(states) == {"cancelled"}
        audit = db.session.scalars(select(AuditEvent.action)).all()
        assert audit.count("booking.cancelled") == 3 and "bulk.cancel_selected" in audit


# --- the web flow, without JavaScript -----------------------------------------------------

def _confirm(client, action: str, ids: list[int], **kwargs):
    return client.post("/bookings/bulk", data={"action": action, "id": [str(i) for i in ids]},
                       **kwargs)


def test_retry_selected_without_javascript(app, client, auth, picked):
    auth.sign_in_as(picked.operator)
    page = client.get("/bookings").data.decode()
    assert 'id="bulk-selected"' in page and 'form=bulk-selected' in page
    confirm = _confirm(client, "retry", [*picked.ids["failed"], picked.ids["scheduled"]])
    assert confirm.status_code == 200
    text = confirm.data.decode()
    assert "Retry <strong>2</strong> bookings" in text
    assert "This uses <strong>2</strong> of the remaining <strong>99</strong>" in text
    assert "Scheduled one (s-1): Nothing to retry" in text
    token = re.search(r'name="plan" value="(\w+)"', text).group(1)
    ids = re.findall(r'name="id" value="(\d+)"', text)
    started = client.post("/bookings/bulk/start",
                          data={"action": "retry", "id": ids, "plan": token})
    assert started.status_code == 302
    assert re.search(r"/bookings\?job=\d+#bulk-job-\d+$", started.location)
    back = client.get(started.location).data.decode()
    assert "Retry selected" in back and "0 of 2 done (0%)" in back
    assert re.search(r'hx-get="/health/jobs/\d+" hx-trigger="every 2s"', back)
    with app.app_context():
        _drain()
        job = db.session.scalars(select(BulkJob)).one()
        assert (job.kind, job.done, job.finished_at is not None) == ("retry_selected", 2, True)
        assert "bulk.retry_selected" in db.session.scalars(select(AuditEvent.action)).all()
    assert "2 of 2 done (100%)" in client.get(started.location).data.decode()
    # Once over, the bar is shown only to whoever comes back from starting it.
    assert "bulk-job-" not in client.get("/bookings").data.decode()


def test_a_running_job_shows_again_after_a_reload(app, client, auth, picked):
    auth.sign_in_as(picked.admin)
    with app.app_context():
        workspace = _acme(picked)
        user = db.session.get(type(picked.admin), picked.admin.id)
        plan = bulk_jobs.plan(workspace, RESYNC, selected=[picked.ids["scheduled"]])
        job = bulk_jobs.start(workspace, user, RESYNC, plan.token,
                              selected=[picked.ids["scheduled"]])
        job_id = job.id
    page = client.get("/bookings").data.decode()
    assert f'id="bulk-job-{job_id}"' in page and "Re-sync selected" in page


def test_support_may_neither_see_nor_use_the_bulk_bar(client, auth, picked):
    auth.sign_in_as(picked.support)
    page = client.get("/bookings").data.decode()
    assert "bulk-selected" not in page and 'type=checkbox' not in page
    assert _confirm(client, "retry", picked.ids["failed"]).status_code == 403
    assert client.post("/bookings/bulk/start", data={
        "action": "retry", "id": [str(i) for i in picked.ids["failed"]],
        "plan": "x"}).status_code == 403


def test_bulk_routes_need_the_csrf_token(client, auth, picked):
    auth.sign_in_as(picked.operator)
    assert _confirm(client, "retry", picked.ids["failed"], csrf=False).status_code in (400, 403)
    assert client.post("/bookings/bulk/start", csrf=False, data={
        "action": "retry", "id": [str(i) for i in picked.ids["failed"]],
        "plan": "x"}).status_code in (400, 403)


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"action": "retry"}, 422, "Select at least one booking"),
    ({"action": "retry", "id": ["1", "two"]}, 400, "must be booking numbers"),
    ({"action": "retry", "id": ["-1"]}, 400, "must be booking numbers"),
    ({"action": "retry", "id": ["99999999999"]}, 400, "must be booking numbers"),
    ({"action": "retry", "id": [str(n) for n in range(1, 502)]}, 422, "at most 500"),
    ({"action": "explode", "id": ["1"]}, 422, "Choose Retry, Re-sync or Cancel"),
])
@pytest.mark.parametrize("url", ["/bookings/bulk", "/bookings/bulk/start"])
def test_a_bad_selection_is_a_clear_4xx(client, auth, picked, url, data, status, message):
    auth.sign_in_as(picked.operator)
    response = client.post(url, data={**data, "plan": "x"})
    assert response.status_code == status
    assert message in response.data.decode()


def test_another_workspaces_booking_is_never_acted_on(app, client, auth, picked):
    auth.sign_in_as(picked.operator)
    text = _confirm(client, "cancel", [picked.ids["other"]]).data.decode()
    assert "There is nothing to do" in text and "confirm-bulk" not in text
    assert "No such booking in this workspace" in text
    response = client.post("/bookings/bulk/start", data={
        "action": "cancel", "id": [str(picked.ids["other"])], "plan": "x"})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Booking, picked.ids["other"]).state == "active"


def test_a_rows_own_button_without_javascript_posts_the_bars_csrf_field(app, client, auth,
                                                                        picked):
    auth.sign_in_as(picked.operator)
    page = client.get("/bookings").data.decode()
    bar = re.search(r'<form id="bulk-selected".*?</form>', page, re.S).group(0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', bar).group(1)
    failed = picked.ids["failed"][0]
    action = re.search(rf"<button form=bulk-selected formaction=(/bookings/{failed}/retry) ",
                       page).group(1)
    assert 'name="csrf_token"' not in page.split('id="booking-table"')[1]  # one field, the bar's
    response = client.post(action, data={"csrf_token": token}, csrf=False)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Operation).where(
            Operation.booking_id == failed, Operation.state == "queued")) == 1


def test_rows_the_live_poll_sends_keep_their_checkbox(client, auth, picked):
    auth.sign_in_as(picked.operator)
    failed = picked.ids["failed"][0]
    body = client.get(f"/bookings/live?ids={failed}&after=0&since=0",
                      headers={"HX-Request": "true"}).data.decode()
    assert f'<tbody id="booking-{failed}"' in body and 'hx-swap-oob="true"' in body
    assert (f'<input type=checkbox form=bulk-selected name=id value={failed} '
            f'aria-labelledby="sel t{failed}">') in body
