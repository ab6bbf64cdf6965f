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
    assert b'<option value="admin" selected>' in demote.data  # the row shows what is stored
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
