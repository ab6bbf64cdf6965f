"""Headers as Zoom sends them: rate limits (per-second Reset, daily Retry-After as a date,
the header-less daily variant), the daily cap per meeting host, list meetings as a Medium
call, x-zm-trackingid, and the numbered refusals of a refresh."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from dashboard.sandbox.faults import REFRESH_REFUSALS

from .conftest import FRONT_DESK, Sandbox, http

TRACKING = re.compile(r"v=2\.0;clid=sbx;rid=SBX_[0-9a-f]{32}")
DAILY_MESSAGE = (
    "You have exceeded the daily rate limit ({limit}) of Meeting Create/Update API requests "
    "permitted for this particular user. You may resume these requests at GMT 00:00:00."
)


def sandbox_now(sandbox: Sandbox) -> datetime:
    return datetime.fromisoformat(sandbox.state()["now"].replace("Z", "+00:00"))


def test_daily_cap_counts_per_meeting_host_not_per_caller(sandbox: Sandbox, token: str) -> None:
    sandbox.configure(ZOOM_SANDBOX_DAILY_MEETING_LIMIT=3)
    desk = sandbox.connect(FRONT_DESK)["access_token"]
    # dr.ada schedules two meetings for the front desk: they count against the desk.
    for _ in range(2):
        made = sandbox.api(
            "POST", "/users/me/meetings", token, json={"topic": "a", "schedule_for": FRONT_DESK}
        )
        assert made.status_code == 201
    assert made.headers["X-RateLimit-Remaining"] == "1"
    own = sandbox.api("POST", "/users/me/meetings", desk, json={"topic": "b"})
    assert own.status_code == 201 and own.headers["X-RateLimit-Remaining"] == "0"
    # An update of a meeting the desk hosts counts against the desk, whoever calls.
    capped = sandbox.api("PATCH", f"/meetings/{made.json()['id']}", token, json={"topic": "c"})
    assert capped.status_code == 429
    assert capped.json() == {"code": 429, "message": DAILY_MESSAGE.format(limit=3)}
    assert capped.headers["X-RateLimit-Type"] == "Daily-limit"
    assert capped.headers["X-RateLimit-Category"] == "Light"
    midnight = (sandbox_now(sandbox) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert capped.headers["Retry-After"] == midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
    refused = sandbox.api(
        "POST", "/users/me/meetings", token, json={"topic": "d", "schedule_for": FRONT_DESK}
    )
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Category"] == "Medium"
    # dr.ada's own allowance is untouched by what she scheduled for the desk.
    mine = sandbox.api("POST", "/users/me/meetings", token, json={"topic": "e"})
    assert mine.status_code == 201 and mine.headers["X-RateLimit-Remaining"] == "2"


def test_list_meetings_is_a_medium_call(sandbox: Sandbox, token: str) -> None:
    listing = sandbox.api("GET", "/users/me/meetings", token)
    assert listing.headers["X-RateLimit-Category"] == "Medium"
    sandbox.configure(ZOOM_SANDBOX_QPS_MEDIUM=1, ZOOM_SANDBOX_QPS_LIGHT=1000)
    answers = [sandbox.api("GET", "/users/me/meetings", token) for _ in range(3)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].headers["X-RateLimit-Category"] == "Medium"
    assert limited[0].headers["X-RateLimit-Type"] == "QPS"
    assert "Retry-After" not in limited[0].headers
    assert sandbox.api("GET", "/users/me", token).status_code == 200


def test_header_less_daily_cap_fault(sandbox: Sandbox, token: str) -> None:
    sandbox.fault("meetings_create", "daily_limit_no_headers", count=1)
    answer = sandbox.api("POST", "/users/me/meetings", token, json={"topic": "x"})
    assert answer.status_code == 429
    assert answer.json() == {"code": 429, "message": DAILY_MESSAGE.format(limit=100)}
    for absent in ("Retry-After", "X-RateLimit-Type", "X-RateLimit-Reset"):
        assert absent not in answer.headers
    # Limit/Remaining carry the account's Light quota, not the host's 100.
    assert answer.headers["X-RateLimit-Category"] == "Medium"
    assert answer.headers["X-RateLimit-Limit"] == "6000"
    assert int(answer.headers["X-RateLimit-Remaining"]) > 0
    assert sandbox.api("POST", "/users/me/meetings", token, json={"topic": "y"}).ok


@pytest.mark.parametrize("mode", sorted(REFRESH_REFUSALS))
def test_numbered_refresh_refusals(sandbox: Sandbox, mode: str) -> None:
    tokens = sandbox.connect()
    sandbox.fault("token", mode, count=1)
    refused = sandbox.refresh(tokens["refresh_token"])
    status, body = REFRESH_REFUSALS[mode]
    assert refused.status_code == status and refused.json() == body
    assert sandbox.refresh(tokens["refresh_token"]).status_code == 200


def test_every_api_and_oauth_answer_carries_a_unique_tracking_id(
    sandbox: Sandbox, token: str
) -> None:
    meeting = sandbox.create_meeting(token)
    answers = [
        sandbox.api("GET", "/users/me", token),
        sandbox.api("GET", f"/meetings/{meeting['id']}", token),
        sandbox.api("GET", "/meetings/12345678901", token),  # a 404
        sandbox.api("GET", "/users/me", "made-up"),  # a 401
        sandbox.api("PATCH", f"/meetings/{meeting['id']}", token, json={"topic": "t"}),  # 204
        sandbox.refresh("not-a-token"),  # an OAuth refusal
        http.get(sandbox.url("/oauth/authorize"), params=sandbox.authorize_params()),
        http.post(sandbox.url("/oauth/revoke"), data={"token": "x"}, auth=sandbox.auth),
    ]
    sandbox.fault("users_me", "error_503", count=1)
    answers.append(sandbox.api("GET", "/users/me", token))  # a fault's answer
    ids = [a.headers.get("x-zm-trackingid", "") for a in answers]
    assert all(TRACKING.fullmatch(value) for value in ids), ids
    assert len(set(ids)) == len(ids)
