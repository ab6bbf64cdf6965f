"""Settings > Members: change role, grant integrations, remove; all audited (inviting people
is tests/web/test_invitations.py)."""

from dashboard.extensions import db
from dashboard.models import AuditEvent, Membership

HX = {"HX-Request": "true"}


def _actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_role_change_over_htmx_returns_the_row_and_an_out_of_band_message(app, client, auth,
                                                                            world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        member_id = world.member(world.support).id
    response = client.post(f"/settings/members/{member_id}/role", data={"role": "operator"},
                           headers=HX)
    assert response.status_code == 200
    assert response.headers["Vary"] == "HX-Request, Cookie"
    body = response.data.decode()
    assert body.startswith(f'<tr id="member-{member_id}">')
    assert 'hx-swap-oob="true"' in body and "support@acme.test is now operator." in body
    assert _actions(app) == ["member.role_changed"]


def test_the_last_admin_cannot_be_demoted_or_removed(app, client, auth, world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        admin_id = world.member(world.admin).id
    demote = client.post(f"/settings/members/{admin_id}/role", data={"role": "support"},
                         headers=HX)
    assert demote.status_code == 409
    assert b"at least one admin" in demote.data
    # The row shows what is stored, and no longer offers what the server refuses.
    assert b"the only admin" in demote.data and b"<select" not in demote.data
    assert b">Remove</button>" not in demote.data
    remove = client.post(f"/settings/members/{admin_id}/remove")
    assert remove.status_code == 409
    assert b"The last admin cannot be removed." in remove.data
    with app.app_context():
        assert world.member(world.admin).role == "admin"
    assert _actions(app) == []


def test_operator_is_granted_then_withdrawn_manage_integrations(app, client, auth, world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        member_id = world.member(world.operator).id
    client.post(f"/settings/members/{member_id}/integrations", data={"allowed": "y"})
    with app.app_context():
        assert world.member(world.operator).manages_integrations is True
    client.post(f"/settings/members/{member_id}/integrations", data={})
    with app.app_context():
        assert world.member(world.operator).manages_integrations is False
    assert _actions(app) == ["member.integrations_granted", "member.integrations_withdrawn"]


def test_support_cannot_be_granted_manage_integrations(app, client, auth, world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        member_id = world.member(world.support).id
    response = client.post(f"/settings/members/{member_id}/integrations", data={"allowed": "y"},
                           headers=HX)
    assert response.status_code == 409
    assert b"Only operators" in response.data


def test_removing_a_member_over_htmx_empties_the_row(app, client, auth, world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        member_id = world.member(world.support).id
    response = client.post(f"/settings/members/{member_id}/remove", headers=HX)
    assert response.status_code == 200
    assert b"<tr" not in response.data
    assert b"support@acme.test removed from the workspace." in response.data
    with app.app_context():
        assert db.session.get(Membership, member_id) is None
    assert _actions(app) == ["member.removed"]


def test_state_change_without_csrf_token_is_refused_even_over_htmx(app, client, auth, world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        member_id = world.member(world.support).id
    response = client.post(f"/settings/members/{member_id}/remove", headers=HX, csrf=False)
    assert response.status_code == 400
    assert b"security token" in response.data
    with app.app_context():
        assert db.session.get(Membership, member_id) is not None


def test_forbidden_htmx_request_gets_a_partial_saying_so(client, auth, world):
    auth.sign_in_as(world.support)
    response = client.post("/settings/members/1/remove", headers=HX)
    assert response.status_code == 403
    assert response.data.decode().strip() == (
        '<p class="flash flash-error" role="alert">'
        "Your role in this workspace does not allow this.</p>")


def test_the_page_marks_you_and_offers_the_last_admin_no_role_change_or_remove(app, client,
                                                                               auth, world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        admin_id = world.member(world.admin).id
        support_id = world.member(world.support).id
    page = client.get("/settings/members").data.decode()
    admin_row = page.split(f'<tr id="member-{admin_id}">')[1].split("</tr>")[0]
    support_row = page.split(f'<tr id="member-{support_id}">')[1].split("</tr>")[0]
    assert "(you)" in admin_row and "(you)" not in support_row
    assert "<select" not in admin_row and "Remove" not in admin_row
    assert "<select" in support_row and 'data-confirm="Remove support@acme.test"' in support_row
    # Once there are two admins, either may be demoted or removed.
    client.post(f"/settings/members/{support_id}/role", data={"role": "admin"})
    page = client.get("/settings/members").data.decode()
    admin_row = page.split(f'<tr id="member-{admin_id}">')[1].split("</tr>")[0]
    assert "<select" in admin_row and 'data-confirm="Remove yourself"' in admin_row


def test_remove_without_javascript_asks_first(app, client, auth, world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        member_id = world.member(world.support).id
    page = client.get(f"/settings/members/{member_id}/remove")
    assert page.status_code == 200
    assert b"Remove support@acme.test from this workspace?" in page.data
    assert b">Remove support@acme.test</button>" in page.data
    with app.app_context():
        assert db.session.get(Membership, member_id) is not None
    assert _actions(app) == []
