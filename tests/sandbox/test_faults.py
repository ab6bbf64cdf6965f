"""Fault switches: each mode, per endpoint, for a count or until cleared."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
import requests

from .conftest import ADA, Sandbox, http

TOPIC = {"topic": "Fault test", "start_time": "2030-01-01T10:00:00Z"}


def sandbox_now(sandbox: Sandbox) -> float:
    """The sandbox clock as epoch seconds (to the second)."""
    return datetime.fromisoformat(sandbox.state()["now"].replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize(("mode", "status"), [("error_500", 500), ("error_503", 503)])
def test_server_errors_for_a_count_then_normal(
    sandbox: Sandbox, token: str, mode: str, status: int
) -> None:
    sandbox.fault("users_me", mode, count=2)
    answers = [sandbox.api("GET", "/users/me", token).status_code for _ in range(3)]
    assert answers == [status, status, 200]


def test_fault_only_hits_its_endpoint_and_clears(sandbox: Sandbox, token: str) -> None:
    sandbox.fault("meetings_create", "error_500")
    assert sandbox.api("GET", "/users/me", token).status_code == 200
    for _ in range(2):
        assert sandbox.api("POST", "/users/me/meetings", token, json=TOPIC).status_code == 500
    assert sandbox.state()["faults"][0]["mode"] == "error_500"
    assert sandbox.control("DELETE", "/faults").status_code == 200
    assert sandbox.api("POST", "/users/me/meetings", token, json=TOPIC).status_code == 201


def test_slow_answers_normally_after_the_delay(sandbox: Sandbox, token: str) -> None:
    sandbox.fault("meetings_get", "slow", delay=0.3, count=1)
    created = sandbox.create_meeting(token)
    started = time.monotonic()
    answer = sandbox.api("GET", f"/meetings/{created['id']}", token)
    assert answer.status_code == 200 and time.monotonic() - started >= 0.3


def test_rate_limit_faults(sandbox: Sandbox, token: str) -> None:
    sandbox.fault("meetings_create", "rate_limit", count=1)
    limited = sandbox.api("POST", "/users/me/meetings", token, json=TOPIC)
    # Zoom: per-second 429s carry X-RateLimit-Reset (epoch seconds), not Retry-After.
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert 0 < int(limited.headers["X-RateLimit-Reset"]) - sandbox_now(sandbox) <= 2
    assert limited.headers["X-RateLimit-Category"] == "Medium"
    assert limited.headers["X-RateLimit-Type"] == "QPS"
    sandbox.fault("meetings_create", "rate_limit_no_retry_after", count=1)
    bare = sandbox.api("POST", "/users/me/meetings", token, json=TOPIC)
    assert bare.status_code == 429 and "Retry-After" not in bare.headers
    assert "X-RateLimit-Reset" not in bare.headers
    assert bare.json()["code"] == 429
    assert sandbox.api("POST", "/users/me/meetings", token, json=TOPIC).status_code == 201


def test_daily_limit_fault(sandbox: Sandbox, token: str) -> None:
    sandbox.fault("meetings_update", "daily_limit", count=1)
    created = sandbox.create_meeting(token)
    answer = sandbox.api("PATCH", f"/meetings/{created['id']}", token, json={"topic": "x"})
    assert answer.status_code == 429
    assert answer.headers["X-RateLimit-Type"] == "Daily-limit"
    assert answer.headers["Retry-After"].endswith("T00:00:00Z")
    assert "daily rate limit (100)" in answer.json()["message"]


def test_invalid_refresh_fails_the_next_refresh_only(sandbox: Sandbox) -> None:
    sandbox.fault("token", "invalid_refresh", count=1)
    # A code exchange is not a refresh: the switch waits for the next refresh.
    tokens = sandbox.connect()
    failed = sandbox.refresh(tokens["refresh_token"])
    assert failed.status_code == 400
    assert failed.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    assert sandbox.refresh(tokens["refresh_token"]).status_code == 200


def test_expired_token_answers_124(sandbox: Sandbox, token: str) -> None:
    sandbox.fault("users_me", "expired_token", count=1)
    answer = sandbox.api("GET", "/users/me", token)
    assert answer.status_code == 401
    assert answer.json() == {"code": 124, "message": "Access token is expired."}
    assert sandbox.api("GET", "/users/me", token).status_code == 200


def test_timeout_after_commit_creates_the_meeting_anyway(sandbox: Sandbox, token: str) -> None:
    sandbox.fault("meetings_create", "timeout_after_commit", delay=0.6, count=1)
    with pytest.raises(requests.Timeout):
        http.post(
            sandbox.url("/v2/users/me/meetings"),
            json=TOPIC,
            timeout=0.2,
            headers={"Authorization": f"Bearer {token}"},
        )
    listed = sandbox.api("GET", "/users/me/meetings", token).json()
    assert [m["topic"] for m in listed["meetings"]] == ["Fault test"]
    time.sleep(0.5)  # let the sleeping request thread finish before the next test


def test_faults_on_token_and_revoke_endpoints(sandbox: Sandbox) -> None:
    tokens = sandbox.connect()
    sandbox.fault("revoke", "error_503", count=1)
    revoke = http.post(
        sandbox.url("/oauth/revoke"), data={"token": tokens["access_token"]}, auth=sandbox.auth
    )
    assert revoke.status_code == 503
    sandbox.fault("token", "error_500", count=1)
    assert sandbox.refresh(tokens["refresh_token"]).status_code == 500
    assert sandbox.refresh(tokens["refresh_token"]).status_code == 200


def test_bad_fault_requests_are_refused(sandbox: Sandbox) -> None:
    for spec in (
        {"endpoint": "nope", "mode": "error_500"},
        {"endpoint": "token", "mode": "explode"},
        {"endpoint": "token", "mode": "slow", "count": 0},
    ):
        answer = sandbox.control("POST", "/faults", json=spec)
        assert answer.status_code == 400 and "error" in answer.json()


def test_state_counts_requests_per_endpoint(sandbox: Sandbox, token: str) -> None:
    sandbox.api("GET", "/users/me", token)
    sandbox.api("GET", "/users/me", token)
    state = sandbox.state()
    assert state["requests"]["users_me"] == 2
    assert state["requests"]["token"] == 1
    assert state["live_grants"] == 1


def test_fault_rates_hit_their_share_and_go_with_the_switches(
    sandbox: Sandbox, token: str
) -> None:
    for mode in ("error_500", "error_503"):
        answer = sandbox.control(
            "POST", "/fault_rates", json={"endpoint": "users_me", "mode": mode, "rate": 0.5}
        )
        assert answer.status_code == 200, answer.text
    statuses = {sandbox.api("GET", "/users/me", token).status_code for _ in range(40)}
    assert statuses == {500, 503}  # together they cover every request
    assert sandbox.api("GET", "/users/me", token).status_code in (500, 503)
    sandbox.fault("users_me", "expired_token", count=1)  # a switch goes first
    assert sandbox.api("GET", "/users/me", token).json()["code"] == 124
    assert len(sandbox.state()["fault_rates"]) == 2
    assert sandbox.control("DELETE", "/faults").status_code == 200
    assert sandbox.state()["fault_rates"] == []
    assert sandbox.api("GET", "/users/me", token).status_code == 200


def test_bad_fault_rates_are_refused(sandbox: Sandbox) -> None:
    ok = {"endpoint": "meetings_get", "mode": "error_500", "rate": 0.7}
    assert sandbox.control("POST", "/fault_rates", json=ok).status_code == 200
    for spec in (
        {"endpoint": "meetings_get", "mode": "error_503", "rate": 0.4},  # 1.1 in all
        {"endpoint": "meetings_get", "mode": "error_503", "rate": 0},
        {"endpoint": "meetings_get", "mode": "error_503"},
        {"endpoint": "meetings_get", "mode": "explode", "rate": 0.1},
        {"endpoint": "nope", "mode": "error_500", "rate": 0.1},
        {"endpoint": "meetings_get", "mode": "slow", "rate": 0.1, "delay": -1},
    ):
        answer = sandbox.control("POST", "/fault_rates", json=spec)
        assert answer.status_code == 400 and "error" in answer.json(), spec
    ok["rate"] = 0.2  # re-arming a mode replaces its rate
    assert sandbox.control("POST", "/fault_rates", json=ok).status_code == 200
    assert [r["rate"] for r in sandbox.state()["fault_rates"]] == [0.2]


def test_a_slow_commit_is_not_listed_until_it_lands(sandbox: Sandbox, token: str) -> None:
    sandbox.fault("meetings_create", "slow_commit", delay=0.8, count=1)
    with pytest.raises(requests.Timeout):
        http.post(
            sandbox.url("/v2/users/me/meetings"),
            json=TOPIC,
            timeout=0.3,
            headers={"Authorization": f"Bearer {token}"},
        )
    # The client gave up and looks before creating again: nothing there yet.
    assert sandbox.api("GET", "/users/me/meetings", token).json()["meetings"] == []
    deadline = time.monotonic() + 5
    while not sandbox.api("GET", "/users/me/meetings", token).json()["meetings"]:
        assert time.monotonic() < deadline, "the slow commit never landed"
        time.sleep(0.1)
    listed = sandbox.api("GET", "/users/me/meetings", token).json()["meetings"]
    assert [m["topic"] for m in listed] == ["Fault test"]


def test_expiring_access_tokens_now_leaves_the_refresh_token_working(
    sandbox: Sandbox,
) -> None:
    tokens = sandbox.connect()
    expired = sandbox.control("POST", "/tokens/expire", json={"user": "dr.ada@clinic.zoom.test"})
    assert expired.json() == {"expired": 1}
    answer = sandbox.api("GET", "/users/me", tokens["access_token"])
    assert answer.status_code == 401 and answer.json()["code"] == 124
    fresh = sandbox.refresh(tokens["refresh_token"])
    assert fresh.status_code == 200
    assert sandbox.api("GET", "/users/me", fresh.json()["access_token"]).status_code == 200


def test_revoking_grants_kills_access_and_refresh_tokens(sandbox: Sandbox) -> None:
    tokens = sandbox.connect()
    assert sandbox.control("POST", "/grants/revoke", json={"user": ADA}).json() == {"revoked": 1}
    assert sandbox.api("GET", "/users/me", tokens["access_token"]).status_code == 401
    refused = sandbox.refresh(tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert sandbox.state()["live_grants"] == 0
    assert sandbox.webhooks.received == []  # revoked, not removed: no app_deauthorized
    again = sandbox.connect()  # a new consent is the way back
    assert sandbox.api("GET", "/users/me", again["access_token"]).status_code == 200
    unknown = sandbox.control("POST", "/grants/revoke", json={"user": "nobody"})
    assert unknown.status_code == 404


def test_the_meeting_store_lists_deleted_meetings_without_secrets(
    sandbox: Sandbox, token: str
) -> None:
    kept = sandbox.create_meeting(token, agenda="[lakesis:booking:a] kept")
    gone = sandbox.create_meeting(token, agenda="[lakesis:booking:b] gone")
    assert sandbox.api("DELETE", f"/meetings/{gone['id']}", token).status_code == 204
    stored = {m["id"]: m for m in sandbox.control("GET", "/meetings").json()["meetings"]}
    assert stored[kept["id"]]["deleted"] is False
    assert stored[gone["id"]]["deleted"] is True
    assert stored[kept["id"]]["agenda"] == "[lakesis:booking:a] kept"
    assert stored[kept["id"]]["start_time"] == "2030-03-01T10:00:00Z"
    assert not {"start_url", "password"} & set(stored[kept["id"]])
