"""Settings > Integrations > Zoom: Connect through Zoom's consent (one-time state, PKCE),
what the card shows, and Disconnect (revoked at Zoom, tokens wiped, audited)."""

import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select, update

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.models import ConnectionStatus, Membership, OAuthState, ZoomConnection
from dashboard.orm import utcnow
from dashboard.zoom.extension import SCOPES
from tests.zoom_builders import (
    ZOOM_ACCOUNT_ID,
    ZOOM_EMAIL,
    ZOOM_USER_ID,
    audit_actions,
    audit_event,
    connection_of,
    endpoints,
    me_body,
    store_connection,
    token_body,
)

CONNECT = "/settings/integrations/zoom/connect"
CALLBACK = "/settings/integrations/zoom/callback"
DISCONNECT = "/settings/integrations/zoom/disconnect"
INTEGRATIONS = "/settings/integrations"
ACCESS, REFRESH = "access-from-the-code", "refresh-from-the-code"
STATE_REFUSED = "This Zoom sign-in is no longer valid"


ALL_SCOPES = " ".join(SCOPES)


def _zoom_accepts_the_code(app, zoom, scope: str = ALL_SCOPES, **me):
    zoom.post(endpoints(app).token_url, json=token_body(ACCESS, REFRESH, scope=scope))
    zoom.get(f"{endpoints(app).api_base_url}/users/me", json=me_body(**me))


def _start(client) -> str:
    """Press Connect; return the ``state`` sent to Zoom."""
    response = client.post(CONNECT)
    assert response.status_code == 303
    return parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]


def _page_after(client, response) -> str:
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == INTEGRATIONS
    return client.get(INTEGRATIONS).data.decode()


def _connections(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ZoomConnection))


def _grant_integrations(app, user, workspace):
    with app.app_context():
        db.session.execute(update(Membership).where(
            Membership.user_id == user.id, Membership.workspace_id == workspace.id)
            .values(manages_integrations=True))
        db.session.commit()


# --- Connect --------------------------------------------------------------------------

def test_connect_sends_the_admin_to_zoom_with_state_and_pkce(app, client, auth, world, zoom):
    auth.sign_in_as(world.admin)
    response = client.post(CONNECT)

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        endpoints(app).authorize_url
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == app.config["ZOOM_CLIENT_ID"]
    assert query["redirect_uri"] == app.config["ZOOM_REDIRECT_URI"]
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32
    with app.app_context():
        pending = db.session.scalars(select(OAuthState)).one()
        assert pending.user_id == world.admin.id and pending.workspace_id == world.acme.id
        assert pending.state_hash == hashlib.sha256(query["state"].encode()).hexdigest()
        assert query["state"] not in pending.state_hash
        verifier = token_cipher.decrypt(pending.code_verifier_enc)
        assert verifier not in pending.code_verifier_enc
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        assert query["code_challenge"] == challenge
        assert timedelta(minutes=9) < pending.expires_at - utcnow() <= timedelta(minutes=10)
    assert len(zoom.calls) == 0


@pytest.mark.parametrize("role", ["operator", "support"])
def test_members_without_the_integrations_grant_may_not_connect(app, client, auth, world, role):
    auth.sign_in_as(getattr(world, role))
    assert client.post(CONNECT).status_code == 403
    page = client.get(INTEGRATIONS).data.decode()
    assert 'id="zoom-connect"' not in page
    assert "Only admins, and operators an admin allows, can connect or disconnect Zoom." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OAuthState)) == 0


def test_an_operator_granted_integrations_may_connect(app, client, auth, world, zoom):
    _grant_integrations(app, world.operator, world.acme)
    _zoom_accepts_the_code(app, zoom)
    auth.sign_in_as(world.operator)
    state = _start(client)
    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))
    assert f"Zoom connected: {ZOOM_EMAIL}." in page
    with app.app_context():
        assert connection_of(world.acme.id).connected_by_id == world.operator.id


def test_a_good_callback_stores_the_connection_and_shows_the_card_without_tokens(
        app, client, auth, world, zoom):
    _zoom_accepts_the_code(app, zoom)
    auth.sign_in_as(world.admin)
    state = _start(client)

    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))

    # What Zoom was asked: the code, the same redirect URI and the PKCE verifier, with Basic.
    exchange = zoom.calls[0].request
    form = {k: v[0] for k, v in parse_qs(exchange.body).items()}
    assert form["grant_type"] == "authorization_code" and form["code"] == "the-code"
    assert form["redirect_uri"] == app.config["ZOOM_REDIRECT_URI"]
    expected_basic = base64.b64encode(
        f"{app.config['ZOOM_CLIENT_ID']}:{app.config['ZOOM_CLIENT_SECRET']}".encode()).decode()
    assert exchange.headers["Authorization"] == f"Basic {expected_basic}"
    assert zoom.calls[1].request.headers["Authorization"] == f"Bearer {ACCESS}"
    with app.app_context():
        verifier = token_cipher.decrypt(db.session.scalars(select(OAuthState)).one()
                                        .code_verifier_enc)
        assert form["code_verifier"] == verifier
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.CONNECTED
        assert connection.zoom_email == ZOOM_EMAIL
        assert connection.zoom_name == "Hanna Host"  # Zoom's display name
        assert connection.zoom_user_id == ZOOM_USER_ID
        assert connection.zoom_account_id == ZOOM_ACCOUNT_ID
        assert "meeting:write:meeting" in connection.scope_list
        assert token_cipher.decrypt(connection.access_token_enc) == ACCESS
        assert token_cipher.decrypt(connection.refresh_token_enc) == REFRESH
        assert ACCESS not in connection.access_token_enc
        assert REFRESH not in connection.refresh_token_enc
        assert timedelta(minutes=55) < connection.access_expires_at - utcnow() \
            <= timedelta(hours=1)
        assert connection.connected_by_id == world.admin.id
        assert connection.connected_at is not None
        # The one date format (dashboard/dates.py), on the workspace's clock (UTC here).
        expiry = connection.access_expires_at.strftime("%-d %b %Y, %H:%M UTC")
        assert audit_actions(world.acme.id) == ["zoom.connect_started", "zoom.connected"]
        connected = audit_event(world.acme.id, "zoom.connected")
        assert connected.actor_label == world.admin.email
        # The append-only trail must not keep Zoom user data that app_deauthorized deletes.
        assert ZOOM_EMAIL not in repr((connected.target_label, connected.details))
        assert ZOOM_ACCOUNT_ID not in repr(connected.details)
    assert f"Zoom connected: {ZOOM_EMAIL}." in page
    assert 'id="zoom-status">Connected<' in page
    assert "Connected as <strong>Hanna Host</strong>" in page
    for shown in (ZOOM_EMAIL, ZOOM_ACCOUNT_ID, ZOOM_USER_ID, "meeting:write:meeting",
                  "user:read:user", world.admin.email, expiry, 'id="zoom-disconnect"'):
        assert shown in page, shown
    assert 'id="zoom-connect"' not in page
    for secret in (ACCESS, REFRESH, "the-code", state, verifier):
        assert secret not in page


def test_deny_at_zoom_shows_a_clear_message_and_stores_nothing(app, client, auth, world, zoom):
    auth.sign_in_as(world.admin)
    state = _start(client)
    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&error=access_denied"))
    assert "Zoom access was not allowed (Deny was chosen at Zoom), so nothing was connected." \
        in page
    assert 'id="zoom-status">Not connected<' in page
    assert _connections(app) == 0
    assert len(zoom.calls) == 0
    with app.app_context():
        assert audit_event(world.acme.id, "zoom.connect_denied").details == \
            {"error": "access_denied"}


@pytest.mark.parametrize("query", [
    "code=the-code",
    "state=&code=the-code",
    "state=not-a-state-we-issued&code=the-code",
], ids=["missing", "empty", "unknown"])
def test_a_callback_without_a_state_we_issued_is_refused(app, client, auth, world, zoom, query):
    _zoom_accepts_the_code(app, zoom)
    auth.sign_in_as(world.admin)
    _start(client)
    page = _page_after(client, client.get(f"{CALLBACK}?{query}"))
    assert STATE_REFUSED in page
    assert _connections(app) == 0
    assert len(zoom.calls) == 0


def test_a_replayed_callback_is_refused_and_does_not_exchange_the_code_again(
        app, client, auth, world, zoom):
    _zoom_accepts_the_code(app, zoom)
    auth.sign_in_as(world.admin)
    state = _start(client)
    client.get(f"{CALLBACK}?state={state}&code=the-code")
    calls_after_first = len(zoom.calls)

    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))

    assert STATE_REFUSED in page
    assert len(zoom.calls) == calls_after_first
    assert _connections(app) == 1


def test_a_replayed_state_after_a_deny_stores_nothing(app, client, auth, world, zoom):
    _zoom_accepts_the_code(app, zoom)
    auth.sign_in_as(world.admin)
    state = _start(client)
    client.get(f"{CALLBACK}?state={state}&error=access_denied")
    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))
    assert STATE_REFUSED in page
    assert _connections(app) == 0 and len(zoom.calls) == 0


def test_a_state_started_by_someone_else_is_refused(app, client, auth, world, zoom):
    _zoom_accepts_the_code(app, zoom)
    _grant_integrations(app, world.operator, world.acme)
    auth.sign_in_as(world.admin)
    state = _start(client)
    auth.sign_in_as(world.operator)  # a manager of the same workspace, but not who started
    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))
    assert STATE_REFUSED in page
    assert _connections(app) == 0 and len(zoom.calls) == 0


def test_an_expired_state_is_refused(app, client, auth, world, zoom):
    _zoom_accepts_the_code(app, zoom)
    auth.sign_in_as(world.admin)
    state = _start(client)
    with app.app_context():
        db.session.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))
    assert STATE_REFUSED in page
    assert _connections(app) == 0 and len(zoom.calls) == 0


@pytest.mark.parametrize("failure", [
    {"status": 500, "body": "<html>Internal Server Error</html>"},
    {"status": 503, "json": {"code": 503, "message": "Service unavailable"}},
    {"body": requests.exceptions.ConnectionError("Connection refused")},
], ids=["500", "503", "refused"])
def test_zoom_not_answering_the_code_exchange_stores_nothing(
        app, client, auth, world, zoom, failure):
    zoom.post(endpoints(app).token_url, **failure)
    auth.sign_in_as(world.admin)
    state = _start(client)
    response = client.get(f"{CALLBACK}?state={state}&code=the-code")
    page = _page_after(client, response)
    assert "Zoom did not answer. Nothing was stored; try Connect again in a minute." in page
    assert _connections(app) == 0
    assert 'id="zoom-connect"' in page


def test_users_me_failing_after_the_exchange_stores_nothing(app, client, auth, world, zoom):
    zoom.post(endpoints(app).token_url, json=token_body(ACCESS, REFRESH))
    zoom.get(f"{endpoints(app).api_base_url}/users/me", status=502, body="Bad Gateway")
    auth.sign_in_as(world.admin)
    state = _start(client)
    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))
    assert "Zoom did not answer" in page
    assert _connections(app) == 0
    assert ACCESS not in page


def test_an_expired_authorization_code_is_refused_with_a_message(
        app, client, auth, world, zoom):
    zoom.post(endpoints(app).token_url, status=400,
              json={"reason": "Invalid authorization code", "error": "invalid_grant"})
    auth.sign_in_as(world.admin)
    state = _start(client)
    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=stale-code"))
    assert "Zoom refused the authorization (the code expired or was already used). " \
        "Nothing was stored; connect again." in page
    assert _connections(app) == 0


def test_a_zoom_user_connected_elsewhere_moves_here_and_the_other_workspace_must_reconnect(
        app, client, auth, world, zoom):
    """Zoom keeps one grant per user and app: the code exchange has already revoked the other
    workspace's tokens (4741), so it must not go on looking connected."""
    with app.app_context():
        store_connection(world.globex.id, access_token="globex-access",
                         refresh_token="globex-refresh", connected_by_id=world.outsider.id)
    _zoom_accepts_the_code(app, zoom)  # /users/me answers the same Zoom user
    auth.sign_in_as(world.admin)
    state = _start(client)

    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))

    assert f"{ZOOM_EMAIL} was connected to another Lakesis workspace" in page
    assert "Globex" not in page  # the other workspace is not named to this one
    with app.app_context():
        assert connection_of(world.acme.id).status == ConnectionStatus.CONNECTED
        globex = connection_of(world.globex.id)
        assert globex.status == ConnectionStatus.NEEDS_REAUTH
        assert "Zoom keeps only the newest authorization" in globex.status_reason
        assert globex.access_token_enc is None and globex.refresh_token_enc is None
        assert audit_actions(world.globex.id)[-1] == "zoom.needs_reauth"
    assert not [c for c in zoom.calls if "revoke" in c.request.url]


def test_a_grant_without_a_needed_scope_is_named_at_connect(app, client, auth, world, zoom):
    _zoom_accepts_the_code(app, zoom, scope="meeting:write:meeting user:read:user")
    auth.sign_in_as(world.admin)
    state = _start(client)

    page = _page_after(client, client.get(f"{CALLBACK}?state={state}&code=the-code"))

    assert "Zoom did not grant meeting:read:meeting, meeting:read:list_meetings" in page
    with app.app_context():
        assert "meeting:read:list_meetings" in connection_of(world.acme.id).missing_scopes


# --- Disconnect -----------------------------------------------------------------------

def test_the_disconnect_page_names_the_consequence(app, client, auth, world):
    with app.app_context():
        store_connection(world.acme.id)
    auth.sign_in_as(world.admin)
    page = client.get(INTEGRATIONS).data.decode()
    assert f'href="{DISCONNECT}"' in page
    response = client.get(DISCONNECT)
    assert response.status_code == 200
    page = response.data.decode()
    assert "Lakesis will stop creating new Zoom meetings for this workspace until Zoom is " \
        "connected again." in page
    assert ZOOM_EMAIL in page
    with app.app_context():
        assert connection_of(world.acme.id).status == ConnectionStatus.CONNECTED


def test_disconnect_revokes_at_zoom_wipes_the_tokens_and_is_audited(
        app, client, auth, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, access_token="access-to-revoke")
    zoom.post(endpoints(app).revoke_url, json={"status": "success"})
    auth.sign_in_as(world.admin)

    page = _page_after(client, client.post(DISCONNECT))

    revoke = zoom.calls[0].request
    assert revoke.url == endpoints(app).revoke_url
    assert parse_qs(revoke.body) == {"token": ["access-to-revoke"]}
    expected_basic = base64.b64encode(
        f"{app.config['ZOOM_CLIENT_ID']}:{app.config['ZOOM_CLIENT_SECRET']}".encode()).decode()
    assert revoke.headers["Authorization"] == f"Basic {expected_basic}"
    assert "Zoom disconnected. Lakesis will not create Zoom meetings for this workspace" in page
    assert 'id="zoom-status">Not connected<' in page
    assert f"Disconnected by {world.admin.email}" in page
    assert 'id="zoom-connect"' in page
    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.access_token_enc is None and connection.refresh_token_enc is None
        assert connection.last_error is None
        event = audit_event(world.acme.id, "zoom.disconnected")
        assert event.actor_label == world.admin.email
        assert event.details == {"revoked_at_zoom": True, "revoke_error": None}


def test_a_failed_revoke_still_disconnects_and_warns(app, client, auth, world, zoom):
    with app.app_context():
        store_connection(world.acme.id)
    zoom.post(endpoints(app).revoke_url, status=500, body="Internal Server Error")
    auth.sign_in_as(world.admin)

    page = _page_after(client, client.post(DISCONNECT))

    assert len(zoom.calls) == 1
    assert "Zoom disconnected here, but Zoom did not confirm the revocation" in page
    assert "Zoom App Marketplace &gt; Manage &gt; Added Apps" in page
    assert 'id="zoom-status">Not connected<' in page
    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.access_token_enc is None and connection.refresh_token_enc is None
        assert connection.last_error.startswith("Zoom did not confirm the revocation")
        assert connection.last_error_at is not None
        event = audit_event(world.acme.id, "zoom.disconnected")
        assert event.details["revoked_at_zoom"] is False
        assert event.details["revoke_error"] == connection.last_error


@pytest.mark.parametrize("role", ["operator", "support"])
def test_members_without_the_integrations_grant_may_not_disconnect(
        app, client, auth, world, zoom, role):
    with app.app_context():
        store_connection(world.acme.id)
    auth.sign_in_as(getattr(world, role))
    assert client.get(DISCONNECT).status_code == 403
    assert client.post(DISCONNECT).status_code == 403
    assert 'id="zoom-disconnect"' not in client.get(INTEGRATIONS).data.decode()
    assert len(zoom.calls) == 0
    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.CONNECTED
        assert connection.refresh_token_enc is not None


def test_disconnect_needs_the_csrf_token(app, client, auth, world, zoom):
    with app.app_context():
        store_connection(world.acme.id)
    auth.sign_in_as(world.admin)
    assert client.post(DISCONNECT, csrf=False).status_code == 400
    assert len(zoom.calls) == 0
    with app.app_context():
        assert connection_of(world.acme.id).status == ConnectionStatus.CONNECTED


def test_disconnect_when_not_connected_says_so(app, client, auth, world, zoom):
    auth.sign_in_as(world.admin)
    page = _page_after(client, client.post(DISCONNECT))
    assert "Zoom is not connected." in page
    assert client.get(DISCONNECT).status_code == 404
    with app.app_context():
        store_connection(world.acme.id, status=ConnectionStatus.DISCONNECTED.value)
    page = _page_after(client, client.post(DISCONNECT))
    assert "Zoom is not connected." in page
    assert len(zoom.calls) == 0


def test_a_connection_needing_reauth_can_be_disconnected_without_calling_zoom(
        app, client, auth, world, zoom):
    with app.app_context():
        connection_id = store_connection(world.acme.id)
        db.session.execute(update(ZoomConnection).where(ZoomConnection.id == connection_id)
                           .values(status=ConnectionStatus.NEEDS_REAUTH.value,
                                   access_token_enc=None, refresh_token_enc=None))
        db.session.commit()
    auth.sign_in_as(world.admin)
    assert client.get(DISCONNECT).status_code == 200
    page = _page_after(client, client.post(DISCONNECT))
    assert 'id="zoom-status">Not connected<' in page
    assert len(zoom.calls) == 0
    with app.app_context():
        assert audit_event(world.acme.id, "zoom.disconnected").details["revoked_at_zoom"] \
            is False


def test_disconnect_with_an_expired_access_token_revokes_the_refresh_token(
        app, client, auth, world, zoom):
    """Zoom may refuse to revoke an expired access token; the refresh token still works."""
    with app.app_context():
        store_connection(world.acme.id, access_token="access-expired",
                         refresh_token="refresh-still-good", expires_in=timedelta(minutes=-5))
    zoom.post(endpoints(app).revoke_url, json={"status": "success"})
    auth.sign_in_as(world.admin)

    _page_after(client, client.post(DISCONNECT))

    assert parse_qs(zoom.calls[0].request.body) == {"token": ["refresh-still-good"]}
