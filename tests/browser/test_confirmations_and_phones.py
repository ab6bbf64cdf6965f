"""Confirmations that say what they do (the dialog and its no-JavaScript page), the API key
shown once, the Settings menu by keyboard, and phones: a compact header, 44 px targets."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import ApiKey, Membership, Workspace
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD


def _issue_key(app, world, name="booking workflow") -> int:
    with app.app_context():
        return api_keys.issue(db.session.get(Workspace, world.acme.id),
                              Actor.of_user(world.admin), name, world.admin.id).key.id


def _revoked(app, key_id) -> bool:
    with app.app_context():
        db.session.expire_all()
        return db.session.get(ApiKey, key_id).revoked_at is not None


def test_revoke_asks_in_a_dialog_escape_keeps_and_focus_returns(app, page, world):
    key_id = _issue_key(app, world)
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/settings/api-keys")
    revoke = page.get_by_role("button", name="Revoke booking workflow")
    revoke.click()
    dialog = page.get_by_role("dialog", name="Revoke the key booking workflow?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Revoke the key")).to_be_visible()
    keep = dialog.get_by_role("button", name="Keep the key")
    expect(keep).to_be_focused()  # focus moved into the dialog, on the safe answer
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(revoke).to_be_focused()  # and back to what opened it
    assert not _revoked(app, key_id)

    revoke.click()
    dialog.get_by_role("button", name="Keep the key").click()
    expect(dialog).to_be_hidden()
    assert not _revoked(app, key_id)

    revoke.click()
    dialog.get_by_role("button", name="Revoke the key").click()
    row = page.locator(f"#api-key-{key_id}")
    expect(row.get_by_text("Revoked", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name=re.compile("Revoke"))).to_have_count(0)
    expect(row).to_be_focused()  # focus stays where the hand was, on the revoked row
    expect(page.get_by_text("revoked: calls with it now get 401")).to_be_visible()
    assert _revoked(app, key_id)


def test_a_plain_form_asks_too_and_keeping_changes_nothing(app, page, world):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/account")
    page.get_by_role("button", name="Sign out everywhere").click()
    dialog = page.get_by_role("dialog", name="Sign out everywhere?")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(page).to_have_url(re.compile("/account$"))
    page.get_by_role("button", name="Sign out everywhere").click()
    dialog.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("You are signed out everywhere")).to_be_visible()


def test_without_javascript_each_control_leads_to_a_confirmation_page(app, browser,
                                                                      live_server, world):
    key_id = _issue_key(app, world)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/settings/api-keys")
    page.get_by_role("button", name="Revoke booking workflow").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Revoke the key booking workflow?")
    assert not _revoked(app, key_id)  # one click asked; it did not revoke
    page.get_by_role("button", name="Keep the key").click()
    expect(page).to_have_url(re.compile("/settings/api-keys$"))
    page.get_by_role("button", name="Revoke booking workflow").click()
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_text("revoked: calls with it now get 401")).to_be_visible()
    assert _revoked(app, key_id)

    page.goto("/settings/members")
    page.get_by_role("button", name="Remove support@acme.test").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Remove support@acme.test from this workspace?")
    page.get_by_role("button", name="Remove support@acme.test").click()
    expect(page.get_by_text("support@acme.test removed from the workspace.")).to_be_visible()

    page.goto("/account")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign out everywhere?")
    context.close()


def test_a_new_key_is_shown_once_and_a_reload_makes_no_second(app, page, world):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/settings/api-keys")
    page.get_by_label("Name").fill("crm")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-api-key").inner_text()
    assert secret.startswith("lks_")
    copy = page.get_by_role("button", name="Copy the new key")
    expect(copy).to_be_visible()
    page.reload()
    expect(page.locator("#new-api-key")).to_have_count(0)
    assert secret not in page.content()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ApiKey)) == 1


def test_the_settings_menu_is_a_menu_button(page, world):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/")
    button = page.locator(".settings-menu summary")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-haspopup", "menu")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("menuitem", name="Integrations")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Members")).to_be_focused()
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(page.get_by_role("menuitem", name="Members")).to_be_hidden()


PHONE_PAGES = ["/", "/settings/integrations", "/settings/members", "/settings/api-keys",
               "/audit", "/account"]


def test_on_a_phone_the_header_is_compact_and_targets_are_44_px(app, page, world):
    _issue_key(app, world)
    with app.app_context():  # two workspaces: the switcher is in the header too
        db.session.add(Membership(user_id=world.admin.id, workspace_id=world.globex.id,
                                  role="admin"))
        db.session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "admin@acme.test", PASSWORD)
    for path in PHONE_PAGES:
        page.goto(path)
        header = page.locator("header.site-header").bounding_box()
        assert header["height"] <= 844 / 6, (path, header["height"])
        small = page.evaluate("""() => [...document.querySelectorAll(
              'header a, header button, header summary, header select, main button:not([hidden]),'
              + ' main [role=button], main select')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.textContent.trim() || e.getAttribute('aria-label'),
                       e.getBoundingClientRect().height])
            .filter(([, h]) => h < 43.5)""")
        assert small == [], (path, small)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_switching_workspace_by_choosing_stays_on_the_page(app, page, world):
    with app.app_context():
        db.session.add(Membership(user_id=world.admin.id, workspace_id=world.globex.id,
                                  role="admin"))
        db.session.commit()
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/settings/api-keys")
    page.get_by_label("Workspace", exact=True).select_option(label="Globex Health")
    expect(page.get_by_text("Now working in Globex Health.")).to_be_visible()
    expect(page).to_have_url(re.compile("/settings/api-keys$"))
