"""Every main page, at 1280 and 390 px: no sideways scroll, and axe-core finds nothing
serious or critical. Screenshots of each are kept in test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.extensions import db
from dashboard.models import ConnectionStatus, Workspace
from dashboard.orm import utcnow
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from tests.booking_builders import add_booking
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.conftest import PASSWORD
from tests.zoom_builders import store_connection

# One booking in each state, so every badge tone is on the page that lists them.
STATES = [("scheduled", "active", None), ("started", "active", None),
          ("ended", "active", None), ("pending", "active", "queued"),
          ("failed", "active", "failed"), ("waiting_for_connection", "active", "waiting"),
          ("deleted_in_zoom", "active", None), ("cancelled", "cancelled", None)]
ADMIN_PAGES = ["/", "/bookings?since=", "/bookings/{failed}", "/settings/integrations",
               "/settings/members", "/settings/api-keys", "/audit", "/health", "/account",
               "/health?window=7d", "/health/bulk/retry-failed", "/health/bulk/resync-upcoming",
               "/workspaces/health", "/zoom-sandbox/"]
SUPPORT_PAGES = ["/bookings?since=", "/bookings/{failed}", "/health", "/settings/integrations",
                 "/account", "/workspaces/health"]


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
        api_keys.issue(db.session.get(Workspace, world.acme.id), Actor.of_user(world.admin),
                       "booking workflow (production)", world.admin.id)
        store_connection(world.acme.id, status=ConnectionStatus.NEEDS_REAUTH.value,
                         connected_by_id=world.admin.id)
    return ids


def _overflow(page) -> int:
    """How far the page reaches past the viewport's right edge (0: no sideways scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _serious(page) -> list[tuple[str, str, str]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], v["nodes"][0]["html"][:80])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def _audit(page, paths: list[str], label: str, width: int) -> list[str]:
    found = []
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        name = f"{label}-{width}-{path.strip('/').split('?')[0].replace('/', '_') or 'home'}"
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        if _overflow(page) > 0:
            found.append(f"{path}: scrolls sideways by {_overflow(page)} px")
        found += [f"{path}: {violation}" for violation in _serious(page)]
    return found


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_and_passes_axe(page, world, filled, sandbox, width):
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    assert _audit(page, ["/login"], "signed-out", width) == []
    sign_in(page, "admin@acme.test", PASSWORD)
    paths = [p.format(failed=filled["failed"]) for p in ADMIN_PAGES]
    assert _audit(page, paths, "admin", width) == []
    page.goto("/")  # the sandbox's page, last, has no Sign out
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "support@acme.test", PASSWORD)
    paths = [p.format(failed=filled["failed"]) for p in SUPPORT_PAGES]
    assert _audit(page, paths, "support", width) == []
