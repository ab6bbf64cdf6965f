"""A person signs in, switches workspace and signs out, in chromium."""

import re

from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Membership
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD


def test_sign_in_switch_workspace_and_sign_out(app, page, world):
    with app.app_context():
        db.session.add(Membership(user_id=world.admin.id, workspace_id=world.globex.id,
                                  role="support"))
        db.session.commit()
    sign_in(page, "admin@acme.test", "wrong password")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    sign_in(page, "admin@acme.test", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Clinic")
    # Choosing switches at once (the Switch button is for browsers without JavaScript).
    page.get_by_label("Workspace", exact=True).select_option(label="Globex Health")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Health")
    expect(page.get_by_text("Now working in Globex Health.")).to_be_visible()
    expect(page.get_by_role("link", name="Members")).to_have_count(0)  # support there
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url("/login?next=/")


def test_admin_changes_a_role_inline_with_htmx(app, page, world):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/settings/members")
    row = page.locator("tr", has_text="support@acme.test")
    row.get_by_label("Role of support@acme.test").select_option("operator")
    row.get_by_role("button", name="Save role").click()
    expect(page.get_by_text("support@acme.test is now operator.")).to_be_visible()
    expect(page.locator("tr", has_text="support@acme.test").get_by_text("Not allowed")
           ).to_be_visible()
    # the last admin: offered neither a role change nor Remove (the server refuses both)
    admin_row = page.locator("tr", has_text="admin@acme.test")
    expect(admin_row.get_by_text("the only admin")).to_be_visible()
    expect(admin_row.get_by_label("Role of admin@acme.test")).to_have_count(0)
    expect(admin_row.get_by_role("button", name=re.compile("Remove"))).to_have_count(0)
    expect(admin_row.get_by_text("(you)")).to_be_visible()


def test_admin_invites_someone_new_who_joins_through_the_link(app, page, browser, live_server,
                                                             world):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/settings/members")
    invite = page.locator("article", has=page.get_by_role("heading", name="Invite someone"))
    invite.get_by_label("Email").fill("new.person@acme.test")
    # The label wraps the select, so its name also holds the chosen option ("Role Operator").
    invite.get_by_label("Role").select_option("support")
    invite.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_role("heading", name="Invitation created for new.person@acme.test")
           ).to_be_visible()
    link = page.locator("#invitation-link").inner_text()
    context = browser.new_context(base_url=live_server.url)
    invitee = context.new_page()
    try:
        invitee.goto(link)
        expect(invitee).to_have_url("/invitations/accept")  # the token left the address bar
        invitee.get_by_label("Your name").fill("New Person")
        invitee.get_by_label("New password", exact=True).fill("a long first password")
        invitee.get_by_label("New password again").fill("a long first password")
        invitee.get_by_role("button", name="Create my account and join").click()
        expect(invitee.get_by_text("You joined Acme Clinic as support.")).to_be_visible()
    finally:
        context.close()
    page.goto("/settings/members")  # not a reload: that would post the invitation again
    expect(page.locator("tr", has_text="new.person@acme.test")).to_have_count(1)
