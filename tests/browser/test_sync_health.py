"""The sync health page in a real browser: support's read-only view, an operator's bulk
retry whose progress bar reaches 100%, the live panels, the workspaces overview, 390 px."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Booking, Membership, Operation, Workspace, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services import bulk_jobs
from tests.booking_builders import add_booking
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.conftest import PASSWORD


def _shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def troubled(app, world):
    now = utcnow()
    with app.app_context():
        acme = world.acme.id
        for n in range(12):
            booking_id = add_booking(acme, f"fail-{n}", title=f"Failed booking {n}",
                                     status="failed", last_error="Zoom refused: 1001 no user")
            db.session.add(Operation(workspace_id=acme, booking_id=booking_id, kind="create",
                                     state="failed", requested_by="test",
                                     last_error=f"Zoom refused: 1001 User {n}0000001 missing",
                                     finished_at=now - timedelta(hours=n)))
        add_booking(acme, "gone", title="Deleted in Zoom one", status="deleted_in_zoom")
        done = add_booking(acme, "done", title="Fine one")
        for n in range(30):
            db.session.add(Operation(workspace_id=acme, booking_id=done, kind="update",
                                     state="succeeded", requested_by="test",
                                     finished_at=now - timedelta(minutes=37 * n)))
        db.session.commit()
    return world


@pytest.fixture
def bulk_worker(app):
    """What ``flask zoom worker`` does for bulk jobs, slowed so the bar is seen moving."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            with app.app_context():
                busy = bulk_jobs.run_chunk(size=4)
                db.session.remove()
            stop.wait(0.6 if busy else 0.3)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)


def test_support_sees_the_page_without_action_buttons(page, troubled):
    sign_in(page, "support@acme.test", PASSWORD)
    page.goto("/health")
    expect(page.locator("#attention-heading")).to_contain_text("(13)")
    expect(page.get_by_text("Zoom refused: 1001 User <number> missing")).to_be_visible()
    expect(page.locator("#bulk-read-only")).to_be_visible()
    for name in ("Retry", "Recreate meeting", "Retry all failed…", "Re-sync upcoming…"):
        expect(page.get_by_role("button", name=re.compile(f"^{re.escape(name)}"))).to_have_count(0)
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_text("An operator or admin can retry or recreate them")).to_be_visible()
    # A number opens the bookings it counts.
    page.locator('[data-state="failed"] a').click()
    expect(page).to_have_url(re.compile(r"/bookings\?.*sync=failed"))
    expect(page.locator("tbody[id^=booking-]")).to_have_count(12)


def test_a_bulk_retry_progress_bar_reaches_100(page, troubled, bulk_worker):
    sign_in(page, "operator@acme.test", PASSWORD)
    page.goto("/health")
    page.get_by_role("button", name="Retry all failed…").click()
    expect(page.locator("#plan-summary")).to_contain_text("13")
    expect(page.locator("#plan-budget")).to_contain_text(re.compile(
        r"This uses 13 of the remaining \d+ changes today for host the connected Zoom user"))
    page.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page).to_have_url(re.compile(r"/health#bulk-job-\d+"))
    bar = page.locator(".bulk-job progress").first
    expect(bar).to_have_attribute("max", "13")
    page.reload()  # the progress survives a reload: it is the job's row
    expect(page.locator(".bulk-job .job-counts").first).to_contain_text(
        "13 of 13 done (100%)", timeout=20_000)
    expect(bar).to_have_attribute("value", "13")
    _shoot(page, "sync_health_bulk_done")
    page.goto("/health")
    expect(page.locator("#nothing-needs-attention")).to_be_visible()


def test_live_panels_refresh_and_keep_the_window(page, troubled):
    sign_in(page, "support@acme.test", PASSWORD)
    page.goto("/health?window=7d")
    stamp = page.locator("#health-updated time").get_attribute("datetime")
    page.evaluate("window.scrollTo(0, 600)")
    page.wait_for_function(
        "s => document.querySelector('#health-updated time').getAttribute('datetime') !== s",
        arg=stamp, timeout=15_000)
    expect(page.locator("#health-updated")).to_contain_text("last 7 days")
    assert page.evaluate("window.scrollY") >= 500
    assert page.url.endswith("/health?window=7d")


def test_the_page_at_390px(page, troubled):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "operator@acme.test", PASSWORD)
    page.goto("/health?window=24h")
    chart = page.locator("#work-chart svg")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert 300 <= box["width"] <= 390 and box["height"] >= 100
    assert page.locator("#work-chart rect").count() >= 10
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    font = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                         "'#work-chart figcaption')).fontSize)")
    assert font >= 12
    _shoot(page, "sync_health_390_chart")


def test_the_overview_puts_the_worst_first(page, app, world):
    with app.app_context():
        support = world.support.id
        calm = Workspace(name="Aardvark Dental", slug="aardvark")
        late = Workspace(name="Zebra Care", slug="zebra")
        db.session.add_all([calm, late])
        db.session.flush()
        for workspace in (calm, late, db.session.get(Workspace, world.globex.id)):
            db.session.add(Membership(user_id=support, workspace_id=workspace.id,
                                      role="support"))
        for workspace in (calm, late):
            db.session.add(ZoomConnection(workspace_id=workspace.id, status="connected",
                                          zoom_email="z@example.test"))
        parked = add_booking(late.id, "parked", status="pending")
        db.session.add(Operation(workspace_id=late.id, booking_id=parked, kind="update",
                                 state="queued", requested_by="test",
                                 next_attempt_at=utcnow() + timedelta(hours=4)))
        db.session.get(Booking, parked).host_email = "h@example.test"
        db.session.commit()
    sign_in(page, "support@acme.test", PASSWORD)
    page.get_by_role("link", name="All workspaces").click()
    items = page.locator("#workspace-lights > li")
    expect(items).to_have_count(4)
    lights = [items.nth(n).get_attribute("data-light") for n in range(4)]
    names = [items.nth(n).get_attribute("data-workspace") for n in range(4)]
    assert lights == ["red", "red", "amber", "green"]
    assert names == ["acme", "globex", "zebra", "aardvark"]
    expect(items.nth(2)).to_contain_text("held by Zoom's daily limit")
    page.get_by_role("button", name="Open sync health of Zebra Care").click()
    expect(page).to_have_url(re.compile(r"/health$"))
    expect(page.locator("#waiting")).to_contain_text("1 held back by Zoom's daily limit")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/workspaces/health")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    _shoot(page, "workspaces_health_390")
