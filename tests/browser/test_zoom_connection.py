"""The user guide, word for word: connect Zoom, disconnect it, and remove the app at Zoom."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD


def open_zoom_settings(page) -> None:
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_text("Settings", exact=True).click()
    menu.get_by_text("Integrations", exact=True).click()
    expect(page.get_by_role("heading", name="Zoom")).to_be_visible()


def connect_zoom(page) -> None:
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Lakesis would like to access your Zoom account")
    page.get_by_label(re.compile("dr.ada@clinic.zoom.test")).check()
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#zoom-status")).to_have_text("Connected")


def test_connect_disconnect_and_marketplace_removal(page, world, sandbox):
    sign_in(page, "admin@acme.test", PASSWORD)
    open_zoom_settings(page)
    expect(page.locator("#zoom-status")).to_have_text("Not connected")
    connect_zoom(page)
    expect(page.get_by_text("dr.ada@clinic.zoom.test").first).to_be_visible()

    page.get_by_role("button", name="Disconnect").click()
    dialog = page.get_by_role("dialog", name="Disconnect Zoom?")
    expect(dialog.get_by_text("Lakesis stops creating Zoom meetings for this workspace "
                              "until Zoom is connected again")).to_be_visible()
    dialog.get_by_role("button", name="Disconnect Zoom").click()
    expect(page.locator("#zoom-status")).to_have_text("Not connected")

    connect_zoom(page)
    page.get_by_role("link", name="Zoom sandbox").click()
    page.get_by_role("link", name=re.compile("Marketplace")).first.click()
    page.get_by_role("link", name="Manage").click()
    page.get_by_label("Signed in to Zoom as").select_option(
        label="dr.ada@clinic.zoom.test (sbx-acct-clinic)")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Added Apps")).to_be_visible()
    page.get_by_role("button", name="Remove Lakesis").click()
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("The app was removed.")).to_be_visible()

    page.goto("/settings/integrations")
    expect(page.locator("#zoom-status")).to_have_text("Not connected")
    expect(page.locator("#zoom-status-reason")).to_contain_text(
        "Removed in the Zoom App Marketplace")


def test_support_sees_the_state_but_no_buttons(page, world):
    sign_in(page, "support@acme.test", PASSWORD)
    page.goto("/settings/integrations")
    expect(page.locator("#zoom-status")).to_have_text("Not connected")
    expect(page.get_by_role("button", name="Connect")).to_have_count(0)
    expect(page.get_by_text("Only admins, and operators an admin allows")).to_be_visible()
