"""An operator's day on the bookings page, in a real browser, with the worker running."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Workspace
from dashboard.orm import utcnow
from dashboard.services import bookings
from dashboard.services.audit import Actor
from dashboard.services.booking_input import parse_new_booking
from dashboard.services.worker import start_thread
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.browser.test_zoom_connection import connect_zoom, open_zoom_settings
from tests.conftest import PASSWORD


def create_booking(app, workspace_id: int, ref: str, title: str) -> int:
    start = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        fields = parse_new_booking({
            "external_ref": ref, "title": title, "start_time": start.isoformat(),
            "duration_minutes": 30, "timezone": "Europe/Lisbon",
            "customer": {"name": "Ana Silva", "email": "ana@example.test"}}, utcnow())
        booking, _ = bookings.create(db.session.get(Workspace, workspace_id), Actor.system(),
                                     fields)
        return booking.id


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def worker(app):
    """The Zoom worker in a thread of the test, started by the test when it wants it."""
    stops = []

    def start() -> None:
        stops.append(start_thread(app, poll_seconds=0.2))

    yield start
    for stop in stops:
        stop.set()


def test_operator_watches_a_booking_get_its_meeting_then_fixes_it(app, page, world, sandbox,
                                                                   worker):
    sign_in(page, "admin@acme.test", PASSWORD)
    open_zoom_settings(page)
    connect_zoom(page)
    booking_id = create_booking(app, world.acme.id, "browser-1", "Consultation with Ana")

    page.get_by_role("link", name="Bookings", exact=True).click()
    row = page.locator(f"#booking-{booking_id}")
    status = page.locator(f"#status-{booking_id}")
    expect(status).to_have_text("Pending")
    worker()  # the meeting is made while the page is open: the row updates by itself
    expect(status).to_have_text("Scheduled")
    join = row.get_by_role("link", name=re.compile(r"Join meeting \d+ \d{4} \d{4}"))
    # The sandbox's join links open its meeting page, under its own URL.
    expect(join).to_have_attribute("href", re.compile(r"/zoom-sandbox/j/\d+\?pwd="))
    expect(row).not_to_have_attribute("hx-trigger", re.compile("every"))
    expect(row.get_by_role("button", name="Copy join link")).to_be_visible()
    shoot(page, "bookings_scheduled_1280")

    row.get_by_role("button", name="Reschedule").click()
    form = page.get_by_role("form", name="Reschedule Consultation with Ana")
    form.get_by_label("Date", exact=True).fill("2020-03-01")
    form.locator("input[name=time]").fill("10:00")
    form.get_by_role("button", name="Save new time").click()
    expect(form.get_by_text("Must be in the future.")).to_be_visible()
    shoot(page, "bookings_reschedule_error_1280")

    day = (utcnow() + timedelta(days=9)).date()
    form.get_by_label("Date", exact=True).fill(day.isoformat())
    form.locator("input[name=time]").fill("15:45")
    form.get_by_label("Minutes", exact=True).fill("50")
    form.get_by_role("button", name="Save new time").click()
    expect(page.locator("#flashes")).to_contain_text("now starts")
    expect(form).to_have_count(0)
    expect(status).to_have_text("Scheduled")
    expect(row).to_contain_text(f"{day:%d %b %Y}")
    expect(row).to_contain_text("50 min")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cancel").click()
    expect(page.locator("#flashes")).to_contain_text("cancelled; its Zoom meeting is being")
    expect(status).to_have_text("Cancelled")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    assert sandbox.state()["meetings"]["deleted"] == 1

    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "bookings_cancelled_390")
    page.get_by_role("link", name="Consultation with Ana").click()
    expect(page.locator("#meeting-status")).to_have_text("Cancelled")
    expect(page.get_by_text("booking.cancelled")).to_be_visible()
    shoot(page, "booking_detail_390")


def test_support_sees_bookings_and_health_without_actions(app, page, world):
    booking_id = create_booking(app, world.acme.id, "browser-2", "Follow-up with Bea")
    sign_in(page, "support@acme.test", PASSWORD)
    page.get_by_role("link", name="Bookings", exact=True).click()
    expect(page.locator(f"#status-{booking_id}")).to_have_text("Pending")
    for name in ("Retry", "Reschedule", "Cancel", "Re-sync"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    page.get_by_label("Search").fill("nobody")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_text("No bookings match these filters.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/bookings\?.*q=nobody"))
    page.get_by_role("link", name="Sync health").click()
    expect(page.locator("#health-zoom-status")).to_have_text("Not connected")
    shoot(page, "sync_health_1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "sync_health_390")
