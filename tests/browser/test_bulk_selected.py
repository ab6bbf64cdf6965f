"""Bulk selection on the bookings table in a real browser: tick two failed bookings (the
ticks survive a row being swapped in again), Retry selected, confirm, and watch the
progress bar reach 100%, again after a reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_bookings import failed_bookings, shoot
from tests.browser.test_sync_health import bulk_worker  # noqa: F401  (a fixture)
from tests.conftest import PASSWORD


def test_retry_two_selected_bookings_and_watch_the_bar_reach_100(app, page, world,
                                                                 bulk_worker):  # noqa: F811
    ids = failed_bookings(app, world.acme.id, 3)
    sign_in(page, "operator@acme.test", PASSWORD)
    page.goto("/bookings")
    bar = page.locator("#bulk-selected")
    retry = bar.get_by_role("button", name="Retry selected")
    expect(bar.locator("#bulk-count")).to_have_text("0 selected")
    expect(retry).to_be_disabled()
    page.get_by_role("checkbox", name="Select Failed session 00").check()
    page.get_by_role("checkbox", name="Select Failed session 01").check()
    expect(bar.locator("#bulk-count")).to_have_text("2 selected")
    expect(retry).to_be_enabled()
    # A row swapped in again (as the live poll and the row's own actions do) keeps its tick.
    page.evaluate("id => htmx.ajax('GET', `/bookings/${id}/row`, "
                  "{target: `#booking-${id}`, swap: 'outerHTML'})", ids[0])
    expect(page.locator(f"#booking-{ids[0]}.just-changed, #booking-{ids[0]}")).to_have_count(1)
    page.wait_for_timeout(300)
    expect(page.get_by_role("checkbox", name="Select Failed session 00")).to_be_checked()
    expect(bar.locator("#bulk-count")).to_have_text("2 selected")
    retry.click()
    expect(page.locator("#plan-summary")).to_contain_text("Retry 2 bookings")
    expect(page.locator("#plan-budget")).to_contain_text(re.compile(
        r"This uses 2 of the remaining \d+ changes today for host the connected Zoom user"))
    page.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page).to_have_url(re.compile(r"/bookings\?job=\d+#bulk-job-\d+"))
    progress = page.locator(".bulk-job progress").first
    expect(progress).to_have_attribute("max", "2")
    expect(page.locator(".bulk-job .job-counts").first).to_contain_text(
        "2 of 2 done (100%)", timeout=20_000)
    expect(progress).to_have_attribute("value", "2")
    page.reload()
    expect(page.locator(".bulk-job .job-counts").first).to_contain_text("2 of 2 done (100%)")
    expect(page.locator(f"#sync-{ids[0]}")).to_have_text("Queued")
    expect(page.locator(f"#sync-{ids[2]}")).to_have_text("Failed")
    shoot(page, "bookings_bulk_retry_done")


def test_select_all_on_this_page_ticks_every_row(app, page, world):
    failed_bookings(app, world.acme.id, 4)
    sign_in(page, "operator@acme.test", PASSWORD)
    page.goto("/bookings")
    page.get_by_role("checkbox", name="Select all on this page").check()
    expect(page.locator("#bulk-count")).to_have_text("4 selected")
    page.get_by_role("checkbox", name="Select Failed session 02").uncheck()
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    expect(page.get_by_role("checkbox", name="Select all on this page")).not_to_be_checked()
