"""A new grant invalidates the earlier one (OAuth error 4741), and revoking uninstalls the
app (``app_deauthorized`` follows), as the README's corrections say."""

from __future__ import annotations

import json

import requests

from dashboard.sandbox.grants import SUPERSEDED_REASON

from .conftest import ADA, CLIENT_ID, FRONT_DESK, Sandbox, http
from .test_webhooks import verified

INVALID_TOKEN = {"reason": "Invalid Token!", "error": "invalid_grant"}


def revoke(sandbox: Sandbox, token: str) -> requests.Response:
    return http.post(sandbox.url("/oauth/revoke"), data={"token": token}, auth=sandbox.auth)


def test_a_new_grant_kills_the_earlier_grants_tokens(sandbox: Sandbox) -> None:
    first = sandbox.connect(ADA)
    rotated = sandbox.refresh(first["refresh_token"]).json()  # rotation still works
    desk = sandbox.connect(FRONT_DESK)
    second = sandbox.connect(ADA)  # the same Zoom user authorizes the app again

    dead = sandbox.refresh(rotated["refresh_token"])
    assert dead.status_code == 400
    assert dead.json() == {"reason": SUPERSEDED_REASON, "error": "invalid_grant"}
    assert "4741" in dead.json()["reason"] and "revoked" in dead.json()["reason"]
    for access in (first["access_token"], rotated["access_token"]):
        old = sandbox.api("GET", "/users/me", access)
        assert old.status_code == 401 and old.json()["code"] == 124

    # The newest grant works and keeps rotating; the rotated-out token is plain dead.
    assert sandbox.api("GET", "/users/me", second["access_token"]).status_code == 200
    newer = sandbox.refresh(second["refresh_token"])
    assert newer.status_code == 200
    assert sandbox.refresh(second["refresh_token"]).json() == INVALID_TOKEN
    # Another user's grant is untouched.
    assert sandbox.api("GET", "/users/me", desk["access_token"]).status_code == 200
    assert sandbox.state()["live_grants"] == 2


def test_revoke_uninstalls_and_sends_app_deauthorized(sandbox: Sandbox) -> None:
    tokens = sandbox.connect(ADA)
    answer = revoke(sandbox, tokens["access_token"])
    assert answer.status_code == 200 and answer.json() == {"status": "success"}
    (item,) = sandbox.webhooks.wait_for(1)
    body = verified(item)
    assert body["event"] == "app_deauthorized"
    payload = body["payload"]
    assert payload["user_id"] == ADA and payload["account_id"] == "sbx-acct-clinic"
    assert payload["client_id"] == CLIENT_ID and payload["user_data_retention"] == "false"
    assert len(payload["signature"]) == 64
    # The app is gone for the user: the Marketplace lists nothing, the tokens are dead.
    manage = http.get(sandbox.url("/marketplace/manage"), params={"user": ADA}).text
    assert "has not added any apps" in manage
    assert sandbox.refresh(tokens["refresh_token"]).json() == INVALID_TOKEN
    assert sandbox.state()["live_grants"] == 0
    # Revoking again (the token is dead now) succeeds quietly: no second event.
    assert revoke(sandbox, tokens["refresh_token"]).json() == {"status": "success"}
    assert revoke(sandbox, "never-issued").json() == {"status": "success"}
    assert sandbox.webhooks.events() == ["app_deauthorized"]


def test_revoke_by_refresh_token_also_uninstalls(sandbox: Sandbox) -> None:
    tokens = sandbox.connect(FRONT_DESK)
    assert revoke(sandbox, tokens["refresh_token"]).json() == {"status": "success"}
    (item,) = sandbox.webhooks.wait_for(1)
    assert json.loads(item["body"])["payload"]["user_id"] == FRONT_DESK
    assert sandbox.api("GET", "/users/me", tokens["access_token"]).status_code == 401


def test_revoke_with_an_expired_access_token_is_refused(sandbox: Sandbox) -> None:
    """Zoom may refuse an expired access token at /oauth/revoke; the refresh token works."""
    tokens = sandbox.connect(ADA)
    sandbox.advance(3601)
    refused = revoke(sandbox, tokens["access_token"])
    assert refused.status_code == 400
    assert refused.json() == {"reason": "Invalid Token!", "error": "invalid_request"}
    assert sandbox.state()["live_grants"] == 1 and sandbox.webhooks.received == []
    # Nothing was revoked: the refresh token still works, and revoking with it uninstalls.
    fresh = sandbox.refresh(tokens["refresh_token"]).json()
    assert revoke(sandbox, fresh["refresh_token"]).json() == {"status": "success"}
    assert sandbox.webhooks.wait_for(1) and sandbox.webhooks.events() == ["app_deauthorized"]
    assert sandbox.state()["live_grants"] == 0


def test_marketplace_removal_and_revoke_share_the_uninstall(sandbox: Sandbox) -> None:
    """Removing in the Marketplace after a revoke finds nothing to remove: no event."""
    tokens = sandbox.connect(ADA)
    revoke(sandbox, tokens["access_token"])
    sandbox.webhooks.wait_for(1)
    http.post(sandbox.url("/marketplace/manage/remove"), data={"user": ADA})
    assert sandbox.webhooks.events() == ["app_deauthorized"]


def test_console_shows_superseded_grants_as_revoked(sandbox: Sandbox) -> None:
    sandbox.connect(ADA)
    sandbox.connect(ADA)
    page = http.get(sandbox.url("/")).text
    assert page.count(">revoked: superseded by a newer authorization (4741)<") == 1
    assert page.count(">live<") == 1
