"""Belonging to several workspaces and switching between them."""

from dashboard.extensions import db
from dashboard.models import Membership


def test_member_of_two_workspaces_switches_and_sees_the_other(app, client, auth, world):
    with app.app_context():
        db.session.add(Membership(user_id=world.admin.id, workspace_id=world.globex.id,
                                  role="support"))
        db.session.commit()
    auth.sign_in_as(world.admin)
    assert b"Acme Clinic" in client.get("/").data
    response = client.post("/workspaces/switch", data={"workspace_id": world.globex.id},
                           follow_redirects=True)
    assert b"Now working in Globex Health." in response.data
    assert client.get("/settings/members").status_code == 403  # support in globex


def test_switching_to_a_workspace_one_is_not_in_is_not_found(client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/workspaces/switch", data={"workspace_id": world.globex.id})
    assert response.status_code == 404
    assert b"Acme Clinic" in client.get("/").data


def test_switching_with_a_malformed_id_is_not_found(client, auth, world):
    auth.sign_in_as(world.admin)
    assert client.post("/workspaces/switch", data={"workspace_id": "x"}).status_code == 404


def test_signed_in_user_without_any_workspace_is_told_so(app, client, auth, world):
    with app.app_context():
        db.session.delete(world.member(world.support))
        db.session.commit()
    auth.sign_in_as(world.support)
    response = client.get("/")
    assert response.status_code == 403
    assert b"Ask a workspace admin to add you." in response.data


def _second_membership(app, world, role):
    with app.app_context():
        db.session.add(Membership(user_id=world.admin.id, workspace_id=world.globex.id,
                                  role=role))
        db.session.commit()


def test_switching_stays_on_the_same_page(app, client, auth, world):
    _second_membership(app, world, "admin")
    auth.sign_in_as(world.admin)
    page = client.get("/audit?action=member.removed").data.decode()
    assert 'name="next" value="/audit?action=member.removed"' in page
    response = client.post("/workspaces/switch", data={
        "workspace_id": world.globex.id, "next": "/audit?action=member.removed"})
    assert response.headers["Location"] == "/audit?action=member.removed"
    # A page naming one of the old workspace's records: its list instead.
    response = client.post("/workspaces/switch", data={
        "workspace_id": world.globex.id, "next": "/bookings/123"})
    assert response.headers["Location"] == "/bookings"


def test_switching_lands_on_the_overview_when_the_page_is_not_for_this_role_or_not_ours(
        app, client, auth, world):
    _second_membership(app, world, "support")
    auth.sign_in_as(world.admin)
    for wanted in ("/settings/api-keys", "https://evil.test/", "//evil.test/x", "/nowhere"):
        response = client.post("/workspaces/switch", data={
            "workspace_id": world.globex.id, "next": wanted})
        assert response.headers["Location"] == "/", wanted
