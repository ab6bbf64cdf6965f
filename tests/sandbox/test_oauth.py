"""OAuth as Zoom does it: consent, code exchange with PKCE, rotation, revoke, expiry."""

from __future__ import annotations

import threading

import requests

from .conftest import ADA, CLIENT_ID, OTHER_HOST, REDIRECT_URI, Sandbox, http, parse_forms

DEFAULT_SCOPES = (
    "meeting:read:meeting meeting:write:meeting meeting:update:meeting "
    "meeting:delete:meeting meeting:read:list_meetings user:read:user"
)
INVALID_TOKEN = {"reason": "Invalid Token!", "error": "invalid_grant"}
INVALID_CODE = {"reason": "Invalid authorization code", "error": "invalid_grant"}


def test_consent_page_names_app_scopes_users_and_choices(sandbox: Sandbox) -> None:
    page = http.get(sandbox.url("/oauth/authorize"), params=sandbox.authorize_params())
    assert page.status_code == 200
    assert "Lakesis would like to access your Zoom account" in page.text
    assert "Zoom sandbox" in page.text
    for scope in DEFAULT_SCOPES.split():
        assert scope in page.text
    for email in ("dr.ada@clinic.zoom.test", "front.desk@clinic.zoom.test", "host@other.zoom.test"):
        assert email in page.text
    (form,) = [f for f in parse_forms(page.text) if f.get("method") == "post"]
    assert {f["value"] for f in form["fields"] if f["tag"] == "button"} == {"allow", "deny"}
    assert ">Allow<" in page.text and ">Deny<" in page.text


def test_full_code_flow_with_pkce_returns_zoom_token_body(sandbox: Sandbox) -> None:
    query = sandbox.authorize(scope="meeting:write:meeting user:read:user", state="abc")
    assert query["state"] == "abc"
    answer = sandbox.exchange(query["code"])
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "refresh_token",
        "expires_in",
        "scope",
        "api_url",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3599
    assert body["scope"] == "meeting:write:meeting user:read:user"
    assert body["api_url"] == sandbox.base
    me = sandbox.api("GET", "/users/me", body["access_token"])
    assert me.status_code == 200
    user = me.json()
    assert user["id"] == ADA and user["account_id"] == "sbx-acct-clinic"
    assert user["email"] == "dr.ada@clinic.zoom.test" and user["status"] == "active"
    for key in (
        "first_name",
        "last_name",
        "display_name",
        "type",
        "role_name",
        "timezone",
        "language",
    ):
        assert key in user


def test_default_scopes_are_granted_when_none_are_asked(sandbox: Sandbox) -> None:
    assert sandbox.connect()["scope"] == DEFAULT_SCOPES


def test_deny_redirects_with_access_denied(sandbox: Sandbox) -> None:
    answer = sandbox.consent(decision="deny", state="s1")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{REDIRECT_URI}?error=access_denied&state=s1"


def test_redirect_mismatch_shows_error_4700_without_redirect(sandbox: Sandbox) -> None:
    params = sandbox.authorize_params(redirect_uri="https://evil.example/callback")
    page = http.get(sandbox.url("/oauth/authorize"), params=params, allow_redirects=False)
    assert page.status_code == 400
    assert "4700" in page.text and "Location" not in page.headers
    forged = http.post(
        sandbox.url("/oauth/authorize"),
        data={**params, "user_id": ADA, "decision": "allow"},
        allow_redirects=False,
    )
    assert forged.status_code == 400 and "Location" not in forged.headers


def test_unknown_client_id_shows_error_4700(sandbox: Sandbox) -> None:
    params = sandbox.authorize_params(client_id="someone-else")
    page = http.get(sandbox.url("/oauth/authorize"), params=params, allow_redirects=False)
    assert page.status_code == 400 and "4700" in page.text


def test_scope_outside_the_app_is_refused(sandbox: Sandbox) -> None:
    params = sandbox.authorize_params(scope="recording:read", state="x")
    page = http.get(sandbox.url("/oauth/authorize"), params=params, allow_redirects=False)
    assert page.status_code == 302
    assert page.headers["Location"] == f"{REDIRECT_URI}?error=invalid_scope&state=x"


def test_code_is_one_time(sandbox: Sandbox) -> None:
    code = sandbox.authorize()["code"]
    assert sandbox.exchange(code).status_code == 200
    again = sandbox.exchange(code)
    assert again.status_code == 400 and again.json() == INVALID_CODE


def test_code_expires_after_five_minutes(sandbox: Sandbox) -> None:
    code = sandbox.authorize()["code"]
    sandbox.advance(301)
    answer = sandbox.exchange(code)
    assert answer.status_code == 400 and answer.json() == INVALID_CODE


def test_unknown_code_is_invalid(sandbox: Sandbox) -> None:
    sandbox.authorize_params()
    assert sandbox.exchange("not-a-code").json() == INVALID_CODE


def test_pkce_verifier_mismatch_is_invalid_grant_and_burns_the_code(sandbox: Sandbox) -> None:
    code = sandbox.authorize()["code"]
    wrong = sandbox.exchange(code, verifier="x" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert sandbox.exchange(code).json() == INVALID_CODE


def test_redirect_uri_must_match_at_token(sandbox: Sandbox) -> None:
    code = sandbox.authorize()["code"]
    answer = sandbox.exchange(code, redirect_uri="http://127.0.0.1:5000/other")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_bad_client_secret_is_invalid_client(sandbox: Sandbox) -> None:
    code = sandbox.authorize()["code"]
    sandbox.auth = (CLIENT_ID, "wrong")
    answer = sandbox.exchange(code)
    assert answer.status_code == 400
    assert answer.json() == {
        "reason": "Invalid client_id or client_secret",
        "error": "invalid_client",
    }
    no_auth = http.post(sandbox.url("/oauth/token"), data={"grant_type": "refresh_token"})
    assert no_auth.json()["error"] == "invalid_client"


def test_other_grant_type_is_unsupported(sandbox: Sandbox) -> None:
    answer = http.post(
        sandbox.url("/oauth/token"), data={"grant_type": "password"}, auth=sandbox.auth
    )
    assert answer.status_code == 400
    assert answer.json() == {"reason": "unsupported grant type", "error": "unsupported_grant_type"}


def test_refresh_rotates_and_old_token_dies(sandbox: Sandbox) -> None:
    first = sandbox.connect()
    second = sandbox.refresh(first["refresh_token"])
    assert second.status_code == 200
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert body["expires_in"] == 3599 and body["scope"] == first["scope"]
    stale = sandbox.refresh(first["refresh_token"])
    assert stale.status_code == 400 and stale.json() == INVALID_TOKEN
    assert sandbox.refresh(body["refresh_token"]).status_code == 200
    assert sandbox.api("GET", "/users/me", body["access_token"]).status_code == 200


def test_refresh_rotates_once_under_race_across_two_processes(
    sandbox: Sandbox, sandbox_server: tuple, webhook_server: tuple
) -> None:
    """Ten concurrent refreshes with one token, split over two apps sharing the DB file."""
    from dashboard.sandbox import create_standalone_app, shutdown
    from tests.live_server import LiveServer

    from .conftest import sandbox_config

    _, _, db_path = sandbox_server
    twin_app = create_standalone_app(sandbox_config(db_path, webhook_server[1]))
    twin = LiveServer(twin_app)
    try:
        refresh_token = sandbox.connect()["refresh_token"]
        bases = [sandbox.base, twin.url + "/zoom-sandbox"]
        barrier = threading.Barrier(10)
        results: list[requests.Response] = []

        def attempt(i: int) -> None:
            barrier.wait()
            results.append(sandbox.refresh(refresh_token, base=bases[i % 2]))

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        twin.stop()
        shutdown(twin_app)
    winners = [r for r in results if r.status_code == 200]
    losers = [r for r in results if r.status_code != 200]
    assert len(winners) == 1
    assert len(losers) == 9 and all(r.json() == INVALID_TOKEN for r in losers)
    state = sandbox.state()
    assert state["refreshes_served"] == 10 and state["successful_refreshes"] == 1


def test_revoke_kills_access_and_refresh(sandbox: Sandbox) -> None:
    tokens = sandbox.connect()
    answer = http.post(
        sandbox.url("/oauth/revoke"), data={"token": tokens["access_token"]}, auth=sandbox.auth
    )
    assert answer.status_code == 200 and answer.json() == {"status": "success"}
    me = sandbox.api("GET", "/users/me", tokens["access_token"])
    assert me.status_code == 401 and me.json()["code"] == 124
    assert sandbox.refresh(tokens["refresh_token"]).json() == INVALID_TOKEN
    assert sandbox.state()["live_grants"] == 0


def test_revoke_by_refresh_token_and_bad_client(sandbox: Sandbox) -> None:
    tokens = sandbox.connect()
    refused = http.post(
        sandbox.url("/oauth/revoke"),
        data={"token": tokens["refresh_token"]},
        auth=(CLIENT_ID, "nope"),
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
    done = http.post(
        sandbox.url("/oauth/revoke"), params={"token": tokens["refresh_token"]}, auth=sandbox.auth
    )
    assert done.json() == {"status": "success"}
    assert sandbox.api("GET", "/users/me", tokens["access_token"]).status_code == 401


def test_access_token_expires_after_an_hour(sandbox: Sandbox) -> None:
    tokens = sandbox.connect()
    sandbox.advance(3550)
    assert sandbox.api("GET", "/users/me", tokens["access_token"]).status_code == 200
    sandbox.advance(60)
    expired = sandbox.api("GET", "/users/me", tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {"code": 124, "message": "Access token is expired."}
    fresh = sandbox.refresh(tokens["refresh_token"]).json()
    assert sandbox.api("GET", "/users/me", fresh["access_token"]).status_code == 200


def test_unknown_or_missing_token_is_124_invalid(sandbox: Sandbox) -> None:
    unknown = sandbox.api("GET", "/users/me", "made-up")
    assert unknown.status_code == 401
    assert unknown.json() == {"code": 124, "message": "Invalid access token."}
    bare = http.get(sandbox.url("/v2/users/me"))
    assert bare.status_code == 401 and bare.json()["code"] == 124


def test_token_without_user_scope_gets_4711(sandbox: Sandbox) -> None:
    tokens = sandbox.connect(scope="meeting:write:meeting")
    answer = sandbox.api("GET", "/users/me", tokens["access_token"])
    assert answer.status_code == 400
    assert answer.json() == {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:[user:read:user].",
    }


def test_each_user_gets_their_own_grant(sandbox: Sandbox) -> None:
    ada = sandbox.connect(ADA)["access_token"]
    other = sandbox.connect(OTHER_HOST)["access_token"]
    assert sandbox.api("GET", "/users/me", ada).json()["account_id"] == "sbx-acct-clinic"
    assert sandbox.api("GET", "/users/me", other).json()["account_id"] == "sbx-acct-other"
    assert sandbox.state()["live_grants"] == 2
