"""An operator sees a meeting changed and another deleted on Zoom's side (the sandbox's
console, as a Zoom user would), and fixes both from the bookings page in a real browser;
then asks for a reconciliation pass and watches it finish."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Booking
from dashboard.services import meeting_sync
from tests.booking_builders import apply_webhooks
from tests.browser.conftest import sign_in
from tests.browser.test_bookings import (  # noqa: F401
    create_booking,
    open_menu,
    shoot,
    worker,
)
from tests.browser.test_zoom_connection import connect_zoom, open_zoom_settings
from tests.conftest import PASSWORD


def _zoom_id(app, booking_id: int) -> int:
    with app.app_context():
        return db.session.get(Booking, booking_id).meeting.zoom_meeting_id


@pytest.mark.usefixtures("sandbox")
def test_operator_fixes_a_change_and_a_deletion_made_in_zoom(app, page, world, sandbox,
                                                             worker):  # noqa: F811
    sign_in(page, "admin@acme.test", PASSWORD)
    open_zoom_settings(page)
    connect_zoom(page)
    changed = create_booking(app, world.acme.id, "drift-1", "Consultation with Ana")
    deleted = create_booking(app, world.acme.id, "drift-2", "Consultation with Bea")
    with app.app_context():
        meeting_sync.drain()
    sandbox.edit_meeting(_zoom_id(app, changed), duration=50)
    sandbox.delete_meeting(_zoom_id(app, deleted))
    apply_webhooks(app)  # the worker's next loop

    page.goto("/bookings?since=")
    changed_row = page.locator(f"#booking-{changed}")
    deleted_row = page.locator(f"#booking-{deleted}")
    expect(changed_row.get_by_text("Needs attention")).to_be_visible()
    expect(deleted_row.get_by_text("Deleted in Zoom", exact=True)).to_be_visible()
    shoot(page, "drift-bookings")
    open_menu(page, changed).get_by_role("menuitem", name="Keep Zoom's values").click()
    expect(changed_row.get_by_text("Needs attention")).to_have_count(0)
    expect(changed_row.get_by_text("50 min")).to_be_visible()

    worker()
    deleted_row.get_by_role("button", name="Recreate").click()
    expect(deleted_row.get_by_text("Scheduled")).to_be_visible(timeout=15_000)
    expect(deleted_row.get_by_text("Needs attention")).to_have_count(0)

    page.goto(f"/bookings/{deleted}")
    expect(page.get_by_text("the meeting was made again")).to_be_visible()

    page.goto("/health/reconcile")
    page.get_by_role("button", name="Reconcile now").click()
    expect(page.locator("#reconcile-last")).to_contain_text("2 meetings checked",
                                                            timeout=20_000)
    shoot(page, "drift-reconcile")
