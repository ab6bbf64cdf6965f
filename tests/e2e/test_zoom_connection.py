"""The Zoom connection end to end: the app calls the sandbox over real HTTP, as it would Zoom."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import AuditEvent, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services.zoom_tokens import NotConnected, TokenProvider
from tests.sandbox_control import ADA, callback_path, connect, query

pytestmark = pytest.mark.usefixtures("sandbox")


def connection(app, workspace) -> ZoomConnection:
    with app.app_context():
        row = db.session.scalars(db.select(ZoomConnection).filter_by(
            workspace_id=workspace.id)).one()
        db.session.expunge(row)
        return row


def test_admin_connects_through_zoom_consent_and_sees_it_connected(app, client, auth, world,
                                                                   sandbox):
    auth.sign_in_as(world.admin)
    page = connect(client, sandbox).data.decode()
    assert "Zoom connected: dr.ada@clinic.zoom.test." in page
    assert 'id="zoom-status">Connected' in page
    assert "sbx-acct-clinic" in page and "user:read:user" in page
    stored = connection(app, world.acme)
    assert stored.status == "connected" and stored.zoom_user_id == ADA
    assert sandbox.state()["live_grants"] == 1


def test_deny_at_zoom_stores_nothing(app, client, auth, world, sandbox):
    auth.sign_in_as(world.admin)
    page = connect(client, sandbox, decision="deny").data.decode()
    assert "Deny was chosen at Zoom" in page
    with app.app_context():
        assert db.session.scalars(db.select(ZoomConnection)).first() is None


def test_replayed_callback_is_refused(app, client, auth, world, sandbox):
    auth.sign_in_as(world.admin)
    started = client.post("/settings/integrations/zoom/connect")
    back = sandbox.consent(started.headers["Location"])
    assert b"Zoom connected" in client.get(callback_path(back), follow_redirects=True).data
    replay = client.get(callback_path(back), follow_redirects=True).data
    assert b"no longer valid" in replay


def test_expired_code_is_refused_and_nothing_is_stored(app, client, auth, world, sandbox):
    auth.sign_in_as(world.admin)
    started = client.post("/settings/integrations/zoom/connect")
    back = sandbox.consent(started.headers["Location"])
    sandbox.advance_clock(6 * 60)  # codes live 5 minutes at Zoom
    page = client.get(callback_path(back), follow_redirects=True).data.decode()
    assert "code expired or was already used" in page
    with app.app_context():
        assert db.session.scalars(db.select(ZoomConnection)).first() is None


def test_token_endpoint_down_gives_a_clear_message(app, client, auth, world, sandbox):
    auth.sign_in_as(world.admin)
    started = client.post("/settings/integrations/zoom/connect")
    back = sandbox.consent(started.headers["Location"])
    sandbox.fault("token", "error_503")
    page = client.get(callback_path(back), follow_redirects=True).data.decode()
    assert "Zoom did not answer" in page
    assert query(back)["state"]
    with app.app_context():
        assert db.session.scalars(db.select(ZoomConnection)).first() is None


def test_expired_access_token_is_refreshed_and_rotation_kills_the_old_refresh_token(
        app, client, auth, world, sandbox):
    auth.sign_in_as(world.admin)
    connect(client, sandbox)
    tokens = TokenProvider(zoom_extension.client_of(app))
    with app.app_context():
        first = tokens.access_token(world.acme.id)
        assert tokens.call(world.acme.id, zoom_extension.client_of(app).get_me)["id"] == ADA
    sandbox.advance_clock(3600)  # Zoom now answers 124 for the old token
    with app.app_context():
        me = tokens.call(world.acme.id, zoom_extension.client_of(app).get_me)
        assert me["id"] == ADA
        assert tokens.access_token(world.acme.id) != first
    assert sandbox.state()["successful_refreshes"] == 1


def test_revoked_refresh_token_moves_the_connection_to_needs_reauth(app, client, auth, world,
                                                                    sandbox):
    auth.sign_in_as(world.admin)
    connect(client, sandbox)
    with app.app_context():
        row = db.session.scalars(db.select(ZoomConnection)).one()
        row.access_expires_at = utcnow() + timedelta(minutes=1)  # due for a refresh
        db.session.commit()
    sandbox.fault("token", "invalid_refresh")
    with app.app_context(), pytest.raises(NotConnected):
        TokenProvider(zoom_extension.client_of(app)).access_token(world.acme.id)
    page = client.get("/").data.decode()
    assert "Zoom needs to be reconnected" in page and "Reconnect" in page
    sandbox.clear_faults()
    assert b"Zoom reconnected" not in connect(client, sandbox).data
    assert "Zoom needs to be reconnected" not in client.get("/").data.decode()
    with app.app_context():
        actions = set(db.session.scalars(db.select(AuditEvent.action)))
    assert {"zoom.needs_reauth", "zoom.reconnected"} <= actions


def test_disconnect_revokes_at_zoom(app, client, auth, world, sandbox):
    auth.sign_in_as(world.admin)
    connect(client, sandbox)
    confirm = client.get("/settings/integrations/zoom/disconnect").data.decode()
    assert ("Lakesis will stop creating new Zoom meetings for this workspace until Zoom is "
            "connected again") in confirm
    page = client.post("/settings/integrations/zoom/disconnect", follow_redirects=True)
    assert b'id="zoom-status">Not connected' in page.data
    assert sandbox.state()["live_grants"] == 0
    stored = connection(app, world.acme)
    assert stored.access_token_enc is None and stored.refresh_token_enc is None


def test_marketplace_removal_disconnects_and_forgets_the_zoom_user(app, client, auth, world,
                                                                   sandbox):
    auth.sign_in_as(world.admin)
    connect(client, sandbox)
    sandbox.remove_app(ADA)  # the sandbox sends a signed app_deauthorized to our webhook
    page = client.get("/settings/integrations").data.decode()
    assert "Removed in the Zoom App Marketplace" in page
    assert 'id="zoom-status">Not connected' in page
    stored = connection(app, world.acme)
    assert (stored.zoom_email, stored.zoom_user_id, stored.refresh_token_enc) == (None,) * 3


def test_one_zoom_user_serves_one_workspace_the_newest_grant_wins(app, client, auth, world,
                                                                   sandbox):
    """Zoom invalidates a user's earlier grant when the user authorizes again (4741): the
    workspace that held it is told to reconnect instead of going on looking connected."""
    auth.sign_in_as(world.admin)
    connect(client, sandbox, ADA)
    with app.app_context():
        from dashboard.models import Membership

        db.session.add(Membership(user_id=world.admin.id, workspace_id=world.globex.id,
                                  role="admin"))
        db.session.commit()
    client.post("/workspaces/switch", data={"workspace_id": world.globex.id})
    page = connect(client, sandbox, ADA).data.decode()
    assert "was connected to another Lakesis workspace" in page
    assert connection(app, world.globex).zoom_user_id == ADA
    assert connection(app, world.globex).status == "connected"
    acme = connection(app, world.acme)
    assert acme.status == "needs_reauth" and acme.refresh_token_enc is None
    with app.app_context():  # globex's grant is the one Zoom honours
        me = TokenProvider(zoom_extension.client_of(app)).call(
            world.globex.id, zoom_extension.client_of(app).get_me)
        assert me["id"] == ADA


def test_revoke_failure_is_recorded_and_the_tokens_are_still_wiped(app, client, auth, world,
                                                                  sandbox):
    auth.sign_in_as(world.admin)
    connect(client, sandbox)
    sandbox.fault("revoke", "error_500")
    page = client.post("/settings/integrations/zoom/disconnect", follow_redirects=True)
    assert b"Zoom did not confirm the revocation" in page.data
    stored = connection(app, world.acme)
    assert stored.status == "disconnected" and stored.refresh_token_enc is None
    assert "Zoom did not confirm the revocation" in stored.last_error


def test_the_deauthorization_zoom_sends_after_our_revoke_is_a_quiet_no_op(app, client, auth,
                                                                         world, sandbox):
    """Revoking uninstalls the app and Zoom then sends ``app_deauthorized`` (zoom/README.md,
    Corrections): the workspace stays "disconnected by" its admin, with no second story."""
    auth.sign_in_as(world.admin)
    connect(client, sandbox)
    client.post("/settings/integrations/zoom/disconnect")

    with app.app_context():
        from dashboard.models import WebhookEvent

        events = list(db.session.scalars(db.select(WebhookEvent.event)))
        actions = list(db.session.scalars(db.select(AuditEvent.action).where(
            AuditEvent.workspace_id == world.acme.id)))
    assert "app_deauthorized" in events  # the sandbox sent it, as Zoom does
    assert "zoom.deauthorized" not in actions
    assert connection(app, world.acme).status_reason == f"Disconnected by {world.admin.email}"


def test_a_registration_without_the_list_scope_is_named_at_connect(app, client, auth, world,
                                                                   sandbox):
    sandbox.set_app_scopes("meeting:read:meeting meeting:write:meeting meeting:update:meeting "
                           "meeting:delete:meeting user:read:user")
    auth.sign_in_as(world.admin)

    page = connect(client, sandbox).data.decode()

    assert "Zoom did not grant meeting:read:list_meetings" in page
    assert connection(app, world.acme).missing_scopes == "meeting:read:list_meetings"
