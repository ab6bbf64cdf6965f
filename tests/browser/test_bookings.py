"""An operator's day on the bookings page, in a real browser, with the worker running."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Booking, Operation, Workspace
from dashboard.orm import utcnow
from dashboard.services import bookings
from dashboard.services.audit import Actor
from dashboard.services.booking_input import parse_new_booking
from dashboard.services.worker import start_thread
from tests.booking_builders import add_booking
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.browser.test_pages_accessible import _overflow, _serious
from tests.browser.test_zoom_connection import connect_zoom, open_zoom_settings
from tests.conftest import PASSWORD


def create_booking(app, workspace_id: int, ref: str, title: str, days: int = 2) -> int:
    start = (utcnow() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        fields = parse_new_booking({
            "external_ref": ref, "title": title, "start_time": start.isoformat(),
            "duration_minutes": 30, "timezone": "Europe/Lisbon",
            "customer": {"name": "Ana Silva", "email": "ana@example.test"}}, utcnow())
        booking, _ = bookings.create(db.session.get(Workspace, workspace_id), Actor.system(),
                                     fields)
        return booking.id


def failed_bookings(app, workspace_id: int, count: int) -> list[int]:
    """``count`` failed bookings an hour apart from tomorrow, in table order."""
    base = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        return [add_booking(workspace_id, f"fail-{n:02d}", title=f"Failed session {n:02d}",
                            customer=f"Customer {n:02d}", status="failed", operation="dead",
                            last_error="Gave up after 8 attempts: Zoom is unavailable",
                            start=base + timedelta(hours=n)) for n in range(count)]


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_menu(page, booking_id: int):
    page.locator(f"#menu-button-{booking_id}").click()
    menu = page.locator(f"#menu-{booking_id}")
    expect(menu).to_be_visible()
    return menu


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
    status, sync = page.locator(f"#status-{booking_id}"), page.locator(f"#sync-{booking_id}")
    expect(status).to_have_text("Not in Zoom yet")
    expect(sync).to_have_text("Queued")
    worker()  # the meeting is made while the page is open: the table's poll brings it
    expect(status).to_have_text("Scheduled")
    expect(sync).to_have_text("In sync")
    expect(page.locator("#live-updated")).to_contain_text("updated")
    join = row.get_by_role("link", name="Join")
    expect(join).to_have_attribute("href", re.compile(r"/zoom-sandbox/j/\d+\?pwd="))
    expect(row).not_to_have_class(re.compile("is-live"))
    menu = open_menu(page, booking_id)
    expect(menu.get_by_role("menuitem", name="Copy join link")).to_be_visible()
    shoot(page, "bookings_scheduled_menu_1280")

    menu.get_by_role("menuitem", name="Reschedule").click()
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
    expect(page.locator("#toasts")).to_contain_text("now starts")
    expect(form).to_have_count(0)
    expect(status).to_have_text("Scheduled")
    expect(row).to_contain_text(f"{day:%d %b %Y}")
    expect(row).to_contain_text("50 min")

    open_menu(page, booking_id).get_by_role("menuitem", name="Cancel booking…").click()
    dialog = page.get_by_role("dialog", name="Cancel “Consultation with Ana”?")
    dialog.get_by_role("button", name="Cancel booking and delete its meeting").click()
    expect(page.locator("#toasts")).to_contain_text("cancelled; its Zoom meeting is being")
    expect(status).to_have_text("Cancelled")
    open_menu(page, booking_id)
    expect(page.get_by_role("menuitem", name="Cancel booking…")).to_have_count(0)
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
    expect(page.locator(f"#sync-{booking_id}")).to_have_text("Queued")
    for name in ("Retry", "Reschedule", "Cancel", "Re-sync"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    menu = open_menu(page, booking_id)
    expect(menu.get_by_role("menuitem")).to_have_text(["Open booking"])
    page.get_by_label("Search").press_sequentially("nobody")  # no Enter: it searches as typed
    expect(page.get_by_text("No bookings match these filters.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/bookings\?.*q=nobody"))
    page.get_by_role("link", name="Sync health").click()
    expect(page.locator("#health-zoom-status")).to_have_text("Not connected")
    shoot(page, "sync_health_1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "sync_health_390")


def test_feedback_after_an_action_on_row_40_is_in_the_viewport(app, page, world):
    ids = failed_bookings(app, world.acme.id, 45)
    sign_in(page, "operator@acme.test", PASSWORD)
    page.goto("/bookings")
    row = page.locator(f"#booking-{ids[39]}")
    heights = page.locator("tbody.booking").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)")
    assert all(40 <= h <= 56 for h in heights), heights  # a table you can scan
    row.scroll_into_view_if_needed()
    row.get_by_role("button", name="Retry").click()
    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("Trying again")
    expect(toast).to_be_in_viewport()
    expect(row).to_have_class(re.compile("just-changed"))
    expect(page.locator(f"#sync-{ids[39]}")).to_have_text("Queued")
    expect(page.locator(f"#menu-button-{ids[39]}")).to_be_focused()  # focus stays in the row
    shoot(page, "bookings_feedback_row_40_1280")


def test_a_double_click_sends_one_request(app, page, world):
    ids = failed_bookings(app, world.acme.id, 1)
    sign_in(page, "operator@acme.test", PASSWORD)
    page.goto("/bookings")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.locator(f"#booking-{ids[0]}").get_by_role("button", name="Retry").dblclick()
    expect(page.locator("#toasts")).to_contain_text("Trying again")
    page.wait_for_timeout(500)
    assert [url for url in posts if url.endswith("/retry")] == [
        f"{page.url.split('/bookings')[0]}/bookings/{ids[0]}/retry"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Operation).where(
            Operation.booking_id == ids[0], Operation.state == "queued")) == 1


def test_a_retrying_booking_shows_its_meeting_and_its_sync_apart(app, page, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "retrying", title="Retrying session",
                                 status="pending", operation="queued", zoom_id=81200000055)
        db.session.execute(db.update(Operation).where(Operation.booking_id == booking_id)
                           .values(attempts=3, next_attempt_at=utcnow() + timedelta(seconds=40)))
        db.session.commit()
    sign_in(page, "support@acme.test", PASSWORD)
    page.goto("/bookings")
    expect(page.locator(f"#status-{booking_id}")).to_have_text("Scheduled")
    expect(page.locator(f"#sync-{booking_id}")).to_have_text("Retrying")
    expect(page.locator(f"#booking-{booking_id}")).to_contain_text(
        re.compile(r"attempt 4 of 8, next try in [1-4]\d s"))
    shoot(page, "bookings_retrying_1280")


def test_keyboard_only_reschedule_returns_focus_to_the_row(app, page, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "keys", title="Keyboard session",
                                 zoom_id=81200000066,
                                 start=(utcnow() + timedelta(days=3)).replace(microsecond=0))
    sign_in(page, "operator@acme.test", PASSWORD)
    page.goto("/bookings")
    button = page.locator(f"#menu-button-{booking_id}")
    button.focus()
    page.keyboard.press("Enter")
    menu = page.locator(f"#menu-{booking_id}")
    expect(menu.get_by_role("menuitem").first).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")  # Escape closes the menu and gives focus back
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    expect(menu.get_by_role("menuitem").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Reschedule")).to_be_focused()
    page.keyboard.press("Enter")
    form = page.get_by_role("form", name="Reschedule Keyboard session")
    expect(form.get_by_label("Date", exact=True)).to_be_focused()
    page.keyboard.press("Escape")  # Escape closes the form; focus returns to the row
    expect(form).to_have_count(0)
    expect(page.locator(f"#menu-button-{booking_id}")).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.locator(f"#menu-{booking_id}").get_by_role("menuitem").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    form = page.get_by_role("form", name="Reschedule Keyboard session")
    minutes = form.get_by_label("Minutes", exact=True)
    expect(form.get_by_label("Date", exact=True)).to_be_focused()
    for _ in range(8):  # past the date's and the time's parts to the minutes
        if minutes.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(minutes).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("45")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("for 45 min")
    expect(page.locator("#live-announce")).to_contain_text("Keyboard session")
    expect(page.locator(f"#menu-button-{booking_id}")).to_be_focused()
    with app.app_context():
        assert db.session.get(Booking, booking_id).duration_minutes == 45


def test_new_bookings_and_webhook_changes_appear_without_reload(app, page, world):
    with app.app_context():
        first = add_booking(world.acme.id, "first", title="Already here", zoom_id=81200000088,
                            start=(utcnow() + timedelta(days=1)).replace(microsecond=0))
    sign_in(page, "support@acme.test", PASSWORD)
    page.goto("/bookings")
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator(f"#status-{first}")).to_have_text("Scheduled")
    with app.app_context():  # what a meeting.started webhook does to the meeting
        booking = db.session.get(Booking, first)
        booking.meeting.status = "started"
        db.session.commit()
    expect(page.locator(f"#status-{first}")).to_have_text("In progress")
    expect(page.locator(f"#booking-{first}")).to_have_class(re.compile("just-changed"))

    new_id = create_booking(app, world.acme.id, "arrived", "Arrived while watching")
    notice = page.locator("#live-notice")
    expect(notice).to_contain_text("1 new booking.")
    notice.get_by_role("link", name="Show").click()
    expect(page.locator(f"#booking-{new_id}")).to_contain_text("Arrived while watching")
    expect(notice).to_be_hidden()
    assert page.evaluate("window.stillTheSamePage") is True  # no reload happened


def test_a_live_update_of_the_focused_row_keeps_the_keyboard_focus(app, page, world):
    with app.app_context():
        watched = add_booking(world.acme.id, "focused", title="Focused row", zoom_id=81200000089,
                              start=(utcnow() + timedelta(days=1)).replace(microsecond=0))
    sign_in(page, "operator@acme.test", PASSWORD)
    page.goto("/bookings")
    button = page.locator(f"#menu-button-{watched}")
    button.focus()
    expect(button).to_be_focused()
    with app.app_context():  # Zoom's meeting.started, applied while the operator is on it
        db.session.get(Booking, watched).meeting.status = "started"
        db.session.commit()
    expect(page.locator(f"#status-{watched}")).to_have_text("In progress")  # the row swapped
    expect(page.locator(f"#menu-button-{watched}")).to_be_focused()


def test_polling_stops_while_the_tab_is_hidden(app, page, world):
    failed_bookings(app, world.acme.id, 2)
    sign_in(page, "support@acme.test", PASSWORD)
    page.goto("/bookings")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/bookings/live" in r.url else None)
    page.wait_for_timeout(6000)
    seen = len(polls)
    assert 1 <= seen <= 2  # one request per interval for the whole table (5 s when idle)
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {value: true, configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(6000)
    assert len(polls) == seen


def test_the_table_stacks_at_390_px_with_44_px_targets(app, page, world):
    ids = failed_bookings(app, world.acme.id, 3)
    sign_in(page, "operator@acme.test", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/bookings", "/bookings?since=&sort=-start", f"/bookings/{ids[0]}",
                 f"/bookings/{ids[0]}/cancel"):
        page.goto(path)
        assert _overflow(page) <= 0, path
    page.goto("/bookings")
    for target in (page.locator(f"#booking-{ids[0]}").get_by_role("button", name="Retry"),
                   page.locator(f"#menu-button-{ids[0]}")):
        box = target.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
    shoot(page, "bookings_390")


def test_cancel_without_javascript_asks_on_a_page_of_its_own(app, browser, live_server, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "nojs", title="No script session",
                                 zoom_id=81200000099)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "operator@acme.test", PASSWORD)
        page.goto("/bookings")
        # No menu button without JavaScript: the title is the link to what it offers.
        expect(page.locator(f"#booking-{booking_id}").get_by_role("link", name="Actions")
               ).to_have_count(0)
        page.locator(f"#booking-{booking_id}").get_by_role("link", name="No script session").click()
        expect(page).to_have_url(re.compile(rf"/bookings/{booking_id}$"))
        page.get_by_role("button", name="Cancel booking").click()
        expect(page.get_by_role("heading", name="Cancel “No script session”?")).to_be_visible()
        page.get_by_role("button", name="Keep booking").click()
        expect(page).to_have_url(re.compile(rf"/bookings/{booking_id}$"))
        page.get_by_role("button", name="Cancel booking").click()
        page.get_by_role("button", name="Cancel booking and delete its meeting").click()
        expect(page.get_by_text("cancelled; its Zoom meeting is being deleted")).to_be_visible()
        with app.app_context():
            assert db.session.get(Booking, booking_id).state == "cancelled"
    finally:
        context.close()


def test_the_bookings_pages_pass_axe_in_each_state(app, page, world):
    ids = failed_bookings(app, world.acme.id, 3)
    with app.app_context():
        retrying = add_booking(world.acme.id, "axe-retrying", status="pending",
                               operation="queued", zoom_id=81200000111)
        db.session.execute(db.update(Operation).where(Operation.booking_id == retrying)
                           .values(attempts=2))
        db.session.commit()
    sign_in(page, "operator@acme.test", PASSWORD)
    found = []
    for retried, width in ((ids[1], 1280), (ids[2], 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/bookings")
        found += [f"table {width}: {v}" for v in _serious(page)]
        open_menu(page, ids[0])
        found += [f"menu open {width}: {v}" for v in _serious(page)]
        page.get_by_role("menuitem", name="Reschedule").click()
        expect(page.get_by_role("form", name=re.compile("Reschedule"))).to_be_visible()
        found += [f"reschedule open {width}: {v}" for v in _serious(page)]
        page.locator(f"#booking-{retried}").get_by_role("button", name="Retry").click()
        expect(page.locator("#toasts .toast")).to_be_visible()
        found += [f"after an action {width}: {v}" for v in _serious(page)]
        for path in (f"/bookings/{ids[0]}", f"/bookings/{ids[0]}/cancel",
                     "/bookings?q=nothing-matches"):
            page.goto(path)
            found += [f"{path} {width}: {v}" for v in _serious(page)]
    assert found == []
