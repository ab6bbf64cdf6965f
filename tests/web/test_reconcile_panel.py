"""Reconcile now: operators ask for a pass, everyone watches it; the panel polls while it runs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ReconcileRun
from dashboard.orm import utcnow

HTMX = {"HX-Request": "true"}


def _runs(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(run.state, run.requested_by) for run in db.session.scalars(
            select(ReconcileRun).order_by(ReconcileRun.id))]


def test_an_operator_asks_for_a_pass_and_the_panel_polls(app, client, auth, world):
    auth.sign_in_as(world.operator)
    response = client.post("/health/reconcile", headers=HTMX)
    assert response.status_code == 200
    body = response.data.decode()
    assert 'id="reconcile-panel"' in body and 'hx-trigger="every 2s"' in body
    assert "Waiting for the worker" in body and "disabled" in body
    assert _runs(app) == [("queued", "operator@acme.test")]
    client.post("/health/reconcile", headers=HTMX)  # a second click adds nothing
    assert len(_runs(app)) == 1


def test_without_javascript_the_form_lands_on_the_panels_page(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/health/reconcile")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/health/reconcile")
    page = client.get("/health/reconcile").data.decode()
    assert "<h1>Reconcile</h1>" in page and "Reconciliation with Zoom" in page


def test_the_last_pass_says_when_how_long_and_what_it_found(app, client, auth, world):
    with app.app_context():
        began = utcnow() - timedelta(minutes=5)
        db.session.add(ReconcileRun(
            workspace_id=world.acme.id, state="stopped", trigger="worker",
            requested_by="Lakesis (periodic reconciliation)", requested_at=began,
            started_at=began, finished_at=began + timedelta(seconds=2.5), hosts_total=2,
            hosts_done=1, meetings_checked=7, drift_found=2, deleted_found=1,
            error="stopped by Zoom's rate limit"))
        db.session.commit()
    auth.sign_in_as(world.support)
    body = client.get("/health/reconcile", headers=HTMX).data.decode()
    assert "stopped early in 2.5 s" in body
    assert "7 meetings checked: 2 changed in Zoom, 1 deleted in Zoom" in body
    assert "stopped by Zoom&#39;s rate limit" in body
    assert "every 2s" not in body  # nothing running: no polling


def test_support_sees_no_button_and_may_not_start_a_pass(app, client, auth, world):
    auth.sign_in_as(world.support)
    body = client.get("/health/reconcile", headers=HTMX).data.decode()
    assert "Reconcile now</button>" not in body
    assert "An operator or admin can start a pass now" in body
    assert client.post("/health/reconcile", headers=HTMX).status_code == 403
    assert _runs(app) == []


def test_starting_a_pass_needs_csrf(app, client, auth, world):
    auth.sign_in_as(world.operator)
    assert client.post("/health/reconcile", csrf=False, headers=HTMX).status_code == 400
    assert _runs(app) == []


def test_the_periodic_pass_asks_only_for_connected_workspaces_not_run_lately(app, world):
    from dashboard.services import reconcile
    from tests.zoom_builders import store_connection

    with app.app_context():
        store_connection(world.acme.id)
        store_connection(world.globex.id, zoom_user_id="zu_Other", zoom_account_id="acct_O",
                         status="needs_reauth")
        assert reconcile.queue_due(timedelta(hours=1)) == 1  # acme; globex cannot be read
        assert reconcile.queue_due(timedelta(hours=1)) == 0  # asked for just now
        run = reconcile.latest(world.acme.id)
        assert (run.state, run.trigger) == ("queued", "worker")
        run.requested_at = utcnow() - timedelta(hours=2)
        run.state = "succeeded"
        db.session.commit()
        assert reconcile.queue_due(timedelta(hours=1)) == 1
        app.config["RECONCILE_INTERVAL_SECONDS"] = 0
        try:
            assert reconcile.interval() is None  # 0: never on its own
        finally:
            app.config["RECONCILE_INTERVAL_SECONDS"] = 3600


def test_a_pass_whose_worker_died_does_not_block_the_button(app, client, auth, world):
    from dashboard.services import reconcile

    with app.app_context():
        long_ago = utcnow() - reconcile.STALE_AFTER - timedelta(minutes=1)
        db.session.add(ReconcileRun(workspace_id=world.acme.id, state="running",
                                    trigger="button", requested_by="x", requested_at=long_ago,
                                    started_at=long_ago))
        db.session.commit()
    auth.sign_in_as(world.operator)
    client.post("/health/reconcile", headers=HTMX)
    assert [state for state, _ in _runs(app)] == ["running", "queued"]
    with app.app_context():
        reconcile._fail_stale()
        stale = db.session.scalars(select(ReconcileRun).order_by(ReconcileRun.id)).first()
        assert stale.state == "failed" and "stopped" in stale.error
