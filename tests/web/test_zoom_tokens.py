"""Zoom access tokens: refreshed under a lock, rotated refresh tokens saved encrypted, and a
dead grant shown to the workspace as "reconnect Zoom"."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sqlalchemy import select, text, update

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import ConnectionStatus, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services.zoom_tokens import NotConnected, TokenProvider
from dashboard.zoom.errors import AccessTokenExpired, ZoomUnavailable
from tests.zoom_builders import (
    audit_actions,
    audit_event,
    connection_of,
    endpoints,
    me_body,
    store_connection,
    token_body,
)

DEAD_GRANT = "Zoom no longer accepts Lakesis's authorization"


def _provider(app) -> TokenProvider:
    return TokenProvider(zoom_extension.client_of(app))


def _form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def _banner(page: bytes) -> str | None:
    match = re.search(r'<div class="banner" role="alert" id="reauth-banner">(.*?)</div>',
                      page.decode(), re.DOTALL)
    return match.group(1) if match else None


def test_a_fresh_token_is_returned_without_calling_zoom(app, app_context, world, zoom):
    store_connection(world.acme.id, access_token="access-fresh",
                     expires_in=timedelta(minutes=6))
    assert _provider(app).access_token(world.acme.id) == "access-fresh"
    assert len(zoom.calls) == 0


def test_a_token_expiring_within_5_minutes_is_refreshed_once_and_stored_encrypted(
        app, app_context, world, zoom):
    store_connection(world.acme.id, access_token="access-old", refresh_token="refresh-old",
                     expires_in=timedelta(minutes=4))
    zoom.post(endpoints(app).token_url, json=token_body("access-rotated", "refresh-rotated"))

    assert _provider(app).access_token(world.acme.id) == "access-rotated"
    assert _provider(app).access_token(world.acme.id) == "access-rotated"  # now fresh

    assert len(zoom.calls) == 1
    assert _form(zoom.calls[0]) == {"grant_type": "refresh_token",
                                    "refresh_token": "refresh-old"}
    assert zoom.calls[0].request.headers["Authorization"].startswith("Basic ")
    connection = connection_of(world.acme.id)
    assert token_cipher.decrypt(connection.refresh_token_enc) == "refresh-rotated"
    assert token_cipher.decrypt(connection.access_token_enc) == "access-rotated"
    assert connection.access_expires_at > utcnow() + timedelta(minutes=55)
    assert connection.last_refreshed_at is not None
    raw_row = db.session.execute(text("SELECT * FROM zoom_connections")).mappings().one()
    stored = " ".join(str(value) for value in raw_row.values())
    for plaintext in ("refresh-rotated", "access-rotated", "refresh-old", "access-old"):
        assert plaintext not in stored


def test_the_rotated_refresh_token_is_saved_before_the_new_access_token_is_used(
        app, app_context, world, zoom):
    connection_id = store_connection(world.acme.id, refresh_token="refresh-old",
                                     expires_in=timedelta(minutes=1))
    zoom.post(endpoints(app).token_url, json=token_body("access-new", "refresh-new"))
    seen_in_database = []

    def request(token):
        # What another process would read at this moment, through its own connection.
        with db.engine.connect() as other:
            saved = other.scalar(select(ZoomConnection.refresh_token_enc)
                                 .where(ZoomConnection.id == connection_id))
        seen_in_database.append(token_cipher.decrypt(saved))
        return token

    assert _provider(app).call(world.acme.id, request) == "access-new"
    assert seen_in_database == ["refresh-new"]


def test_a_refresh_by_another_process_seen_under_the_lock_is_used_without_calling_zoom(
        app, app_context, world, zoom, monkeypatch):
    connection_id = store_connection(world.acme.id, access_token="access-old",
                                     refresh_token="refresh-old",
                                     expires_in=timedelta(minutes=2))
    original_lock = TokenProvider._lock

    def lock_after_another_process_refreshed(self, wanted_id):
        # Between our first read and our lock, another worker refreshed and committed.
        with db.engine.begin() as other:
            other.execute(update(ZoomConnection).where(ZoomConnection.id == wanted_id).values(
                access_token_enc=token_cipher.encrypt("access-by-other-worker"),
                refresh_token_enc=token_cipher.encrypt("refresh-by-other-worker"),
                access_expires_at=utcnow() + timedelta(hours=1)))
        return original_lock(self, wanted_id)

    monkeypatch.setattr(TokenProvider, "_lock", lock_after_another_process_refreshed)

    assert _provider(app).access_token(world.acme.id) == "access-by-other-worker"
    assert len(zoom.calls) == 0  # the old refresh token was not burned a second time
    connection = connection_of(world.acme.id)
    assert connection.id == connection_id
    assert token_cipher.decrypt(connection.refresh_token_enc) == "refresh-by-other-worker"


@pytest.mark.parametrize("refusal", [
    {"json": {"code": 124, "message": "Access token is expired."}},
    {"json": {"code": 124, "message": "Invalid access token."}},
    {"body": "Unauthorized"},
], ids=["124-expired", "124-invalid", "bare-401"])
def test_an_access_token_refused_with_401_is_refreshed_once_and_the_call_retried_once(
        app, app_context, world, zoom, refusal):
    store_connection(world.acme.id, access_token="access-revoked", refresh_token="refresh-1")
    api = endpoints(app).api_base_url
    zoom.get(f"{api}/users/me", status=401, **refusal)
    zoom.get(f"{api}/users/me", json=me_body())
    zoom.post(endpoints(app).token_url, json=token_body("access-2", "refresh-2"))
    client = zoom_extension.client_of(app)

    me = _provider(app).call(world.acme.id, client.get_me)

    assert me["email"] == "host@lake-clinic.test"
    urls = [call.request.url.split("?")[0] for call in zoom.calls]
    assert urls == [f"{api}/users/me", endpoints(app).token_url, f"{api}/users/me"]
    assert zoom.calls[0].request.headers["Authorization"] == "Bearer access-revoked"
    assert zoom.calls[2].request.headers["Authorization"] == "Bearer access-2"
    assert token_cipher.decrypt(connection_of(world.acme.id).refresh_token_enc) == "refresh-2"


def test_a_second_124_after_the_refresh_is_raised_to_the_caller(app, app_context, world, zoom):
    store_connection(world.acme.id)
    api = endpoints(app).api_base_url
    zoom.get(f"{api}/users/me", status=401,
             json={"code": 124, "message": "Access token is expired."})
    zoom.post(endpoints(app).token_url, json=token_body("access-2", "refresh-2"))
    client = zoom_extension.client_of(app)

    with pytest.raises(AccessTokenExpired):
        _provider(app).call(world.acme.id, client.get_me)

    token_calls = [c for c in zoom.calls if c.request.url == endpoints(app).token_url]
    assert len(token_calls) == 1 and len(zoom.calls) == 3
    assert connection_of(world.acme.id).status == ConnectionStatus.CONNECTED


@pytest.mark.parametrize(("status", "body"), [
    (400, {"reason": "Invalid Token!", "error": "invalid_grant"}),
    (400, {"error": "invalid_grant"}),
    (401, {"reason": "Invalid Token!", "error": "invalid_grant"}),
    (401, {"error": "invalid_grant"}),
], ids=["400-reason", "400-bare", "401-reason", "401-bare"])
def test_a_dead_refresh_token_moves_the_connection_to_needs_reauth(
        app, app_context, world, zoom, status, body):
    store_connection(world.acme.id, expires_in=timedelta(minutes=-1))
    zoom.post(endpoints(app).token_url, status=status, json=body)

    with pytest.raises(NotConnected) as raised:
        _provider(app).access_token(world.acme.id)

    assert raised.value.status == ConnectionStatus.NEEDS_REAUTH
    connection = connection_of(world.acme.id)
    assert connection.status == ConnectionStatus.NEEDS_REAUTH
    assert DEAD_GRANT in connection.status_reason
    assert connection.access_token_enc is None and connection.refresh_token_enc is None
    assert connection.access_expires_at is None
    assert audit_actions(world.acme.id) == ["zoom.needs_reauth"]
    assert audit_event(world.acme.id, "zoom.needs_reauth").actor_type == "zoom"
    # Parked: the next caller is told at once, without another call to Zoom.
    with pytest.raises(NotConnected):
        _provider(app).access_token(world.acme.id)
    assert len(zoom.calls) == 1


def test_a_missing_scope_4711_moves_the_connection_to_needs_reauth(app, app_context, world, zoom):
    store_connection(world.acme.id)
    zoom.get(f"{endpoints(app).api_base_url}/users/me", status=401, json={
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:[user:read:user]"})
    client = zoom_extension.client_of(app)

    with pytest.raises(NotConnected):
        _provider(app).call(world.acme.id, client.get_me)

    connection = connection_of(world.acme.id)
    assert connection.status == ConnectionStatus.NEEDS_REAUTH
    assert "user:read:user" in connection.status_reason
    assert connection.refresh_token_enc is None
    assert audit_actions(world.acme.id) == ["zoom.needs_reauth"]
    assert len(zoom.calls) == 1  # no refresh: a new token would lack the scope too


def test_zoom_failing_during_a_refresh_keeps_the_connection_and_records_the_error(
        app, client, auth, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, refresh_token="refresh-kept",
                         expires_in=timedelta(minutes=1))
    zoom.post(endpoints(app).token_url, status=503, body="<html>Service Unavailable</html>")

    with app.app_context(), pytest.raises(ZoomUnavailable):
        _provider(app).access_token(world.acme.id)

    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.CONNECTED
        assert connection.last_error.startswith("Token refresh failed")
        assert connection.last_error_at is not None
        assert token_cipher.decrypt(connection.refresh_token_enc) == "refresh-kept"
        assert audit_actions(world.acme.id) == []
    auth.sign_in_as(world.admin)
    page = client.get("/settings/integrations").data
    assert b"Connected" in page and b"Token refresh failed" in page
    assert _banner(page) is None


def _lose_the_grant(app, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, expires_in=timedelta(0))
    zoom.post(endpoints(app).token_url, status=400,
              json={"reason": "Invalid Token!", "error": "invalid_grant"})
    with app.app_context(), pytest.raises(NotConnected):
        _provider(app).access_token(world.acme.id)


PAGES = ["/", "/settings/integrations", "/settings/members", "/settings/api-keys", "/audit"]


def test_an_admin_sees_the_reconnect_banner_on_every_page_of_the_workspace(
        app, client, auth, world, zoom):
    _lose_the_grant(app, world, zoom)
    auth.sign_in_as(world.admin)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        banner = _banner(response.data)
        assert banner is not None, path
        assert "Zoom needs to be reconnected" in banner
        assert 'action="/settings/integrations/zoom/connect"' in banner
        assert "Reconnect</button>" in banner


def test_support_sees_the_banner_without_a_reconnect_button(app, client, auth, world, zoom):
    _lose_the_grant(app, world, zoom)
    auth.sign_in_as(world.support)
    for path in ["/", "/settings/integrations", "/audit"]:
        banner = _banner(client.get(path).data)
        assert banner is not None, path
        assert "Ask an admin to reconnect it" in banner
        assert "<button" not in banner and "/zoom/connect" not in banner


def test_another_workspace_does_not_see_the_banner(app, client, auth, world, zoom):
    _lose_the_grant(app, world, zoom)
    auth.sign_in_as(world.outsider)
    assert _banner(client.get("/").data) is None


def test_reconnecting_clears_the_banner(app, client, auth, world, zoom):
    _lose_the_grant(app, world, zoom)
    zoom.replace(responses.POST, endpoints(app).token_url,
                 json=token_body("access-again", "refresh-again"))
    zoom.get(f"{endpoints(app).api_base_url}/users/me", json=me_body())
    auth.sign_in_as(world.admin)
    assert _banner(client.get("/").data) is not None

    consent = client.post("/settings/integrations/zoom/connect")  # the banner's button
    assert consent.status_code == 303
    state = parse_qs(urlsplit(consent.headers["Location"]).query)["state"][0]
    back = client.get(f"/settings/integrations/zoom/callback?state={state}&code=code-1")
    assert back.status_code == 302

    for path in PAGES:
        assert _banner(client.get(path).data) is None, path
    page = client.get("/settings/integrations").data
    assert b'id="zoom-status">Connected<' in page
    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.CONNECTED
        assert token_cipher.decrypt(connection.refresh_token_enc) == "refresh-again"
        assert audit_actions(world.acme.id)[-1] == "zoom.reconnected"
        assert _provider(app).access_token(world.acme.id) == "access-again"


def test_a_missing_scope_met_on_the_retry_after_a_refresh_also_needs_reauth(
        app, app_context, world, zoom):
    store_connection(world.acme.id)
    me_url = f"{endpoints(app).api_base_url}/users/me"
    zoom.get(me_url, status=401, json={"code": 124, "message": "Access token is expired."})
    zoom.get(me_url, status=401, json={
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:[user:read:user]"})
    zoom.post(endpoints(app).token_url, json=token_body("access-2", "refresh-2"))
    client = zoom_extension.client_of(app)

    with pytest.raises(NotConnected):
        _provider(app).call(world.acme.id, client.get_me)

    assert connection_of(world.acme.id).status == ConnectionStatus.NEEDS_REAUTH
    assert audit_actions(world.acme.id) == ["zoom.needs_reauth"]


def test_a_long_list_of_missing_scopes_still_parks_the_connection(app, app_context, world, zoom):
    store_connection(world.acme.id)
    missing = ",".join(f"meeting:write:meeting_setting_{n}" for n in range(12))
    zoom.get(f"{endpoints(app).api_base_url}/users/me", status=401, json={
        "code": 4711, "message": f"Invalid access token, does not contain scopes:[{missing}]"})

    with pytest.raises(NotConnected):
        _provider(app).call(world.acme.id, zoom_extension.client_of(app).get_me)

    connection = connection_of(world.acme.id)
    assert connection.status == ConnectionStatus.NEEDS_REAUTH
    assert connection.status_reason.startswith("The Zoom app registration lacks the scope")
    assert len(connection.status_reason) <= 200 and len(connection.last_error) <= 500
