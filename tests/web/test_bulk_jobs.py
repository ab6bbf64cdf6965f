"""Bulk actions from the sync health page: shown first with their cost to each host's daily
Zoom cap, started only as shown, run in chunks by the worker, progress kept in the job row."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import AuditEvent, Booking, BulkJob, Meeting, Operation, Workspace
from dashboard.orm import utcnow
from dashboard.services import bulk_jobs, daily_budget
from tests.booking_builders import add_booking


def _succeeded_today(workspace_id: int, booking_id: int, count: int) -> None:
    for n in range(count):
        db.session.add(Operation(workspace_id=workspace_id, booking_id=booking_id,
                                 kind="update", state="succeeded", requested_by="test",
                                 finished_at=utcnow() - timedelta(seconds=n)))


@pytest.fixture
def failing(app, world):
    """Five failed bookings of host a (who has 97 changes used today), three of the connected
    user, one cancelled booking whose delete failed, and one meeting deleted in Zoom."""
    with app.app_context():
        acme = world.acme.id
        ids = {"a": [], "plain": []}
        for n in range(5):
            booking_id = add_booking(acme, f"a-{n}", status="failed", zoom_id=8100 + n)
            db.session.get(Booking, booking_id).host_email = "a@example.test"
            ids["a"].append(booking_id)
        for n in range(3):
            ids["plain"].append(add_booking(acme, f"p-{n}", status="failed"))
        ids["cancelled"] = add_booking(acme, "c-1", status="failed", state="cancelled",
                                       zoom_id=8200)
        ids["gone"] = add_booking(acme, "g-1", status="deleted_in_zoom", zoom_id=8300)
        ids["fine"] = add_booking(acme, "ok-1", status="scheduled")
        _succeeded_today(acme, ids["fine"], 0)
        busy = add_booking(acme, "busy", status="scheduled")
        db.session.get(Booking, busy).host_email = "A@example.test"
        _succeeded_today(acme, busy, 97)
        add_booking(world.globex.id, "globex-failed", status="failed")
        db.session.commit()
    world.ids = ids
    return world


def _workspace(world) -> Workspace:
    return db.session.get(Workspace, world.acme.id)


def _drain_jobs() -> None:
    while bulk_jobs.run_chunk(size=2):
        pass


def test_plan_shows_each_hosts_share_and_leaves_out_what_the_cap_does_not_allow(app, failing):
    if utcnow().hour == 23 and utcnow().minute > 55:
        pytest.skip("the daily cap resets at 00:00 UTC")
    with app.app_context():
        plan = bulk_jobs.plan(_workspace(failing), bulk_jobs.BulkJobKind.RETRY_FAILED)
        shares = {share.label: share for share in plan.shares}
        assert (shares["a@example.test"].uses, shares["a@example.test"].remaining,
                shares["a@example.test"].left_out) == (3, 3, 2)
        assert (shares["the connected Zoom user"].uses,
                shares["the connected Zoom user"].remaining) == (4, 100)
        assert plan.not_capped == 1
        assert len(plan.booking_ids) == 3 + 4 + 1


def test_a_job_never_spends_more_than_it_showed(app, client, auth, failing):
    auth.sign_in_as(failing.operator)
    page = client.get("/health/bulk/retry-failed").data.decode()
    assert "This uses <strong>3</strong> of the remaining <strong>3</strong> changes today " \
           "for host a@example.test" in page
    token = re.search(r'name="plan" value="(\w+)"', page).group(1)
    response = client.post("/health/bulk/retry-failed", data={"plan": token})
    assert response.status_code == 302 and "#bulk-job-" in response.location
    with app.app_context():
        job = db.session.scalars(select(BulkJob)).one()
        assert (job.total, job.processed, job.finished_at) == (8, 0, None)
        assert job.budget["a@example.test"] == [3, 3]
        _drain_jobs()
        db.session.refresh(job)
        assert (job.done, job.errors, job.claimed) == (8, 0, 8)
        assert job.finished_at is not None and job.percent == 100
        queued = db.session.execute(
            select(func.lower(Booking.host_email), Operation.kind, func.count())
            .join(Operation.booking).where(Operation.state == "queued")
            .group_by(func.lower(Booking.host_email), Operation.kind)).all()
        changes = {(host, kind): count for host, kind, count in queued}
        # What was shown and no more: 3 for host a, 4 for the connected user, 1 delete.
        assert changes == {("a@example.test", "update"): 3, (None, "create"): 4,
                           (None, "cancel"): 1}
        audit = db.session.scalars(select(AuditEvent.action)).all()
        assert audit.count("booking.retried") == 8 and "bulk.retry_failed" in audit
    page = client.get("/health").data.decode()
    assert 'value="8" max="8"' in page and "8 of 8 done (100%)" in page


def test_a_plan_that_changed_since_it_was_shown_is_refused(app, client, auth, failing):
    auth.sign_in_as(failing.admin)
    page = client.get("/health/bulk/retry-failed").data.decode()
    token = re.search(r'name="plan" value="(\w+)"', page).group(1)
    with app.app_context():  # another failure arrives meanwhile
        add_booking(failing.acme.id, "late-failure", status="failed")
    response = client.post("/health/bulk/retry-failed", data={"plan": token})
    assert response.status_code == 409
    assert "has changed since it was shown" in response.data.decode()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BulkJob)) == 0


def test_resync_upcoming_uses_no_budget_and_runs(app, client, auth, failing):
    auth.sign_in_as(failing.operator)
    page = client.get("/health/bulk/resync-upcoming").data.decode()
    assert "uses none of the hosts" in page
    token = re.search(r'name="plan" value="(\w+)"', page).group(1)
    assert client.post("/health/bulk/resync-upcoming", data={"plan": token}).status_code == 302
    with app.app_context():
        _drain_jobs()
        job = db.session.scalars(select(BulkJob)).one()
        assert job.total == 2 and job.done == 2 and job.finished_at is not None
        kinds = db.session.scalars(select(Operation.kind).where(Operation.state == "queued"))
        assert set(kinds) == {"resync"}


def test_a_booking_that_can_no_longer_be_retried_counts_as_an_error(app, failing):
    with app.app_context():
        workspace = _workspace(failing)
        user = db.session.get(type(failing.operator), failing.operator.id)
        plan = bulk_jobs.plan(workspace, bulk_jobs.BulkJobKind.RETRY_FAILED)
        job = bulk_jobs.start(workspace, user, bulk_jobs.BulkJobKind.RETRY_FAILED, plan.token)
        meeting = db.session.scalar(select(Meeting).where(
            Meeting.booking_id == failing.ids["plain"][0]))
        meeting.status = "scheduled"  # fixed by hand meanwhile
        db.session.commit()
        _drain_jobs()
        db.session.refresh(job)
        assert (job.done, job.errors) == (7, 1)
        assert "p-0: Nothing to retry" in job.last_error


def test_progress_partial_polls_until_done(app, client, auth, failing):
    auth.sign_in_as(failing.support)
    with app.app_context():
        workspace = _workspace(failing)
        user = db.session.get(type(failing.operator), failing.operator.id)
        plan = bulk_jobs.plan(workspace, bulk_jobs.BulkJobKind.RETRY_FAILED)
        job_id = bulk_jobs.start(workspace, user, bulk_jobs.BulkJobKind.RETRY_FAILED,
                                 plan.token).id
        bulk_jobs.run_chunk(size=3)
    htmx = {"HX-Request": "true"}
    running = client.get(f"/health/jobs/{job_id}", headers=htmx).data.decode()
    assert 'hx-trigger="every 2s"' in running and 'value="3" max="8"' in running
    with app.app_context():
        _drain_jobs()
    done = client.get(f"/health/jobs/{job_id}", headers=htmx).data.decode()
    assert "hx-trigger" not in done and "8 of 8 done (100%)" in done
    assert client.get(f"/health/jobs/{job_id}").status_code == 302


def test_support_may_not_start_bulk_jobs(client, auth, failing):
    auth.sign_in_as(failing.support)
    assert client.get("/health/bulk/retry-failed").status_code == 403
    assert client.post("/health/bulk/retry-failed", data={"plan": "x"}).status_code == 403


def test_bulk_routes_check_csrf_kind_and_workspace(app, client, auth, failing):
    auth.sign_in_as(failing.operator)
    assert client.post("/health/bulk/retry-failed", data={"plan": "x"},
                       csrf=False).status_code in (400, 403)
    assert client.get("/health/bulk/everything").status_code == 404
    assert client.post("/health/bulk/retry-failed", data={"plan": "x"}).status_code == 409
    with app.app_context():
        other = add_booking(failing.globex.id, "g-2", status="failed")
        admin = db.session.get(type(failing.outsider), failing.outsider.id)
        globex = db.session.get(Workspace, failing.globex.id)
        plan = bulk_jobs.plan(globex, bulk_jobs.BulkJobKind.RETRY_FAILED)
        assert other in plan.booking_ids
        job_id = bulk_jobs.start(globex, admin, bulk_jobs.BulkJobKind.RETRY_FAILED,
                                 plan.token).id
    assert client.get(f"/health/jobs/{job_id}", headers={"HX-Request": "true"}).status_code == 404


def test_nothing_to_do_is_said(client, auth, world):
    auth.sign_in_as(world.operator)
    page = client.get("/health/bulk/retry-failed").data.decode()
    assert "There is nothing to do" in page and "confirm-bulk" not in page


def test_daily_budget_counts_hosts_case_blind(app, failing):
    with app.app_context():
        budgets = daily_budget.use_today(failing.acme.id, None, utcnow())
        assert [(b.host, b.used) for b in budgets][:1] == [("a@example.test", 97)]


def test_a_job_a_worker_abandoned_is_closed(app, failing):
    with app.app_context():
        workspace = _workspace(failing)
        user = db.session.get(type(failing.operator), failing.operator.id)
        plan = bulk_jobs.plan(workspace, bulk_jobs.BulkJobKind.RETRY_FAILED)
        job = bulk_jobs.start(workspace, user, bulk_jobs.BulkJobKind.RETRY_FAILED, plan.token)
        job.claimed, job.done = job.total, 2  # a worker took the rest and died
        db.session.commit()
        assert bulk_jobs.run_chunk() is False
        db.session.refresh(job)
        assert job.finished_at is None  # not yet: it may still be counting
        job.created_at = utcnow() - bulk_jobs.ABANDONED - timedelta(seconds=1)
        db.session.commit()
        assert bulk_jobs.run_chunk() is False
        db.session.refresh(job)
        assert job.finished_at is not None and (job.done, job.errors) == (2, 6)
