"""Every main page, at 1280 and 390 px, in each main state: no sideways scroll, and axe-core
finds nothing serious or critical. Screenshots of each are kept in test-artifacts/screenshots/
(the test prints where)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import (
    ConnectionStatus,
    DeliveryAttempt,
    MeetingDrift,
    ReconcileRun,
    WebhookDelivery,
    Workspace,
)
from dashboard.orm import utcnow
from dashboard.sandbox import mail_catcher
from dashboard.services import api_keys, booking_events, webhook_endpoints
from dashboard.services.audit import Actor
from tests.booking_builders import add_booking
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.browser.test_zoom_connection import connect_zoom
from tests.conftest import PASSWORD
from tests.zoom_builders import store_connection

# One booking in each state, so every badge tone is on the page that lists them.
STATES = [("scheduled", "active", None), ("started", "active", None),
          ("ended", "active", None), ("pending", "active", "queued"),
          ("failed", "active", "failed"), ("waiting_for_connection", "active", "waiting"),
          ("deleted_in_zoom", "active", None), ("cancelled", "cancelled", None)]
ADMIN_PAGES = ["/", "/bookings?since=", "/bookings/{failed}", "/bookings/{scheduled}",
               "/bookings/{deleted_in_zoom}", "/bookings/{failed}/cancel",
               "/settings/integrations",
               "/settings/members", "/settings/api-keys", "/settings/webhooks",
               "/settings/webhooks/{endpoint}", "/audit", "/health", "/health/reconcile",
               "/account", "/health?window=7d", "/health/bulk/retry-failed",
               "/health/bulk/resync-upcoming", "/workspaces/health",
               # the no-JavaScript confirmation pages
               "/settings/api-keys/{key}/revoke", "/settings/members/{support}/remove",
               "/settings/integrations/zoom/disconnect", "/account/sign-out-everywhere",
               "/zoom-sandbox/", "/zoom-sandbox/mail", "/zoom-sandbox/mail/{mail}"]
SUPPORT_PAGES = ["/bookings?since=", "/bookings/{failed}", "/bookings/{scheduled}", "/health",
                 "/health/reconcile", "/settings/integrations", "/account",
                 "/workspaces/health"]


@pytest.fixture
def filled(app, world):
    """A workspace with every kind of row: bookings in each state (with long emails), an API
    key, audit entries, and a connection whose grant Zoom no longer accepts (the banner)."""
    with app.app_context():
        ids = {}
        for n, (status, state, operation) in enumerate(STATES):
            ids[status] = add_booking(
                world.acme.id, f"a11y-{status}", status=status, state=state,
                operation=operation, customer=f"Maximiliana Wolfeschlegelsteinhausen{n}",
                start=(utcnow() + timedelta(days=1, hours=n)).replace(microsecond=0))
        # Zoom changed one meeting and deleted another: both need attention.
        for status, kind, changes in (
                ("scheduled", "changed", {"duration": {"old": 30, "new": 45},
                                          "passcode": {"old": None, "new": "changed"}}),
                ("deleted_in_zoom", "deleted", {})):
            db.session.add(MeetingDrift(workspace_id=world.acme.id, booking_id=ids[status],
                                        kind=kind, changes=changes, detected_at=utcnow(),
                                        detected_by="webhook", zoom_operator="zu_FrontDesk"))
        db.session.add(ReconcileRun(workspace_id=world.acme.id, state="succeeded",
                                    trigger="worker", requested_by="Lakesis",
                                    started_at=utcnow(), finished_at=utcnow(),
                                    meetings_checked=8, drift_found=1, deleted_found=1))
        ids["key"] = api_keys.issue(
            db.session.get(Workspace, world.acme.id), Actor.of_user(world.admin),
            "booking workflow (production)", world.admin.id).key.id
        revoked = api_keys.issue(db.session.get(Workspace, world.acme.id),
                                 Actor.of_user(world.admin), "old workflow", world.admin.id)
        api_keys.revoke(db.session.get(Workspace, world.acme.id), Actor.of_user(world.admin),
                        revoked.key.id)
        ids["support"] = world.member(world.support).id
        ids["endpoint"] = _endpoint_with_a_log(world.acme.id)
        store_connection(world.acme.id, status=ConnectionStatus.NEEDS_REAUTH.value,
                         connected_by_id=world.admin.id)
    return ids


def _endpoint_with_a_log(workspace_id: int) -> int:
    """A webhook endpoint with a long URL, one delivery and a failed attempt in its log."""
    endpoint = webhook_endpoints.create(
        db.session.get(Workspace, workspace_id), Actor.system(),
        "https://booking-workflow.lake-clinic.example.test/integrations/zoom/webhooks/in",
        list(webhook_endpoints.EVENT_TYPES))
    booking_events.record(workspace_id, "connection.disconnected", {"reason": "a11y"})
    db.session.flush()
    delivery = db.session.scalar(select(WebhookDelivery))
    db.session.add(DeliveryAttempt(endpoint_id=endpoint.id, delivery_id=delivery.id, attempt=1,
                                   delivered=False, status_code=503, latency_ms=120,
                                   response_excerpt="Service Unavailable",
                                   error="the receiver answered HTTP 503"))
    db.session.commit()
    return endpoint.id


def _overflow(page) -> int:
    """How far the page reaches past the viewport's right edge (0: no sideways scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _serious(page) -> list[tuple[str, str, str]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], v["nodes"][0]["html"][:80])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


SCREENSHOTS = ARTIFACTS / "screenshots"


def _check_here(page, path: str, name: str) -> list[str]:
    """The page as it stands: a screenshot, then its sideways scroll and axe findings."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    found = []
    if _overflow(page) > 0:
        found.append(f"{path}: scrolls sideways by {_overflow(page)} px")
    return found + [f"{path}: {violation}" for violation in _serious(page)]


def _audit(page, paths: list[str], label: str, width: int) -> list[str]:
    found = []
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        name = f"{label}-{width}-{path.strip('/').split('?')[0].replace('/', '_') or 'home'}"
        found += _check_here(page, path, name)
    return found


def _caught_mail(app) -> int:
    """One invitation in the sandbox's mailbox (its reset, before each test, empties it)."""
    raw = (b"Message-ID: <a11y@lakesis>\r\nFrom: Lakesis <lakesis@localhost>\r\n"
           b"To: maximiliana.wolfeschlegelsteinhausen@example.test\r\n"
           b"Subject: Invitation: Consultation with Maximiliana, Fri 04 Dec 2026, 10:00\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: text/plain\r\n\r\nHello,\r\n  Join on Zoom: "
           b"https://zoom.example.test/j/123?pwd=abcdefghijklmnopqrstuvwxyz0123456789\r\n"
           b"--b\r\nContent-Type: text/calendar; method=REQUEST\r\n"
           b"Content-Disposition: attachment; filename=invitation.ics\r\n\r\n"
           b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n--b--\r\n")
    return mail_catcher.store(app.extensions["zoom_sandbox"].engine, raw, "lakesis@localhost",
                              ["maximiliana.wolfeschlegelsteinhausen@example.test"])


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_and_passes_axe(app, page, world, filled, sandbox, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {SCREENSHOTS}")
    mail = _caught_mail(app)
    page.set_viewport_size({"width": width, "height": 900})
    assert _audit(page, ["/login"], "signed-out", width) == []
    sign_in(page, "admin@acme.test", PASSWORD)
    paths = [p.format(**filled, mail=mail) for p in ADMIN_PAGES]
    assert _audit(page, paths, "admin", width) == []
    # The other main states: a dialog open, a new key on show, an invitation waiting.
    page.goto("/settings/api-keys")
    page.get_by_role("button", name="Revoke booking workflow (production)").click()
    assert _check_here(page, "revoke dialog", f"admin-{width}-dialog_revoke") == []
    page.keyboard.press("Escape")
    page.get_by_label("Name").fill("crm")
    page.get_by_role("button", name="Create key").click()
    assert _check_here(page, "new key", f"admin-{width}-settings_api-keys_new") == []
    page.goto("/settings/members")
    page.get_by_label("Email").fill("someone.with.a.very.long.address@example-clinic.test")
    page.get_by_role("button", name="Invite", exact=True).click()
    assert _check_here(page, "invitation", f"admin-{width}-settings_members_invited") == []
    page.goto("/account")  # the sandbox's page, last, has no Sign out; a phone's header neither
    page.locator("#account-sign-out").click()
    sign_in(page, "support@acme.test", PASSWORD)
    paths = [p.format(**filled) for p in SUPPORT_PAGES]
    assert _audit(page, paths, "support", width) == []


@pytest.mark.parametrize("width", [1280, 390])
def test_connected_and_removed_in_the_marketplace_states(page, world, sandbox, width):
    """Integrations and the overview connected, then after Zoom's Marketplace removal (the
    red alert, and the banner on every page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/settings/integrations")
    connect_zoom(page)
    found = _audit(page, ["/settings/integrations", "/"], "connected", width)
    sandbox.remove_app()
    found += _audit(page, ["/settings/integrations", "/", "/settings/members"], "removed",
                    width)
    assert found == []
    page.goto("/")
    assert "Zoom was removed in the Marketplace" in page.locator("#reauth-banner").inner_text()

