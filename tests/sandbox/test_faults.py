"""Fault switches: each mode, per endpoint, for a count or until cleared."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
import requests

from .conftest import Sandbox, http

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
