"""Zoom's rate limits: per account per second by category, and 100 create/update a day."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from .conftest import FRONT_DESK, OTHER_HOST, Sandbox

QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."


def test_per_second_limit_answers_429_with_zoom_headers(sandbox: Sandbox, token: str) -> None:
    sandbox.configure(ZOOM_SANDBOX_QPS_LIGHT=2)
    # Five quick calls split over at most two one-second windows: one window holds >= 3.
    answers = [sandbox.api("GET", "/meetings/12345678901", token) for _ in range(5)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    first = limited[0]
    assert first.json() == {"code": 429, "message": QPS_MESSAGE}
    assert first.headers["X-RateLimit-Category"] == "Light"
    assert first.headers["X-RateLimit-Type"] == "QPS"
    # Zoom: X-RateLimit-Reset (epoch seconds) on per-second 429s; Retry-After only on
    # daily limits.
    assert "Retry-After" not in first.headers
    assert first.headers["X-RateLimit-Reset"].isdigit()
    assert 0 < int(first.headers["X-RateLimit-Reset"]) - time.time() <= 2
    other = sandbox.connect(OTHER_HOST)["access_token"]
    assert sandbox.api("GET", "/meetings/12345678901", other).status_code == 404


def test_create_is_counted_in_the_medium_category(sandbox: Sandbox, token: str) -> None:
    sandbox.configure(ZOOM_SANDBOX_QPS_MEDIUM=1, ZOOM_SANDBOX_QPS_LIGHT=1000)
    body = {"topic": "t", "start_time": "2030-01-01T10:00:00Z"}
    answers = [sandbox.api("POST", "/users/me/meetings", token, json=body) for _ in range(3)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].headers["X-RateLimit-Category"] == "Medium"
    # A Light call is not held back by the Medium limit (listing is Medium: see below).
    assert sandbox.api("GET", "/users/me", token).status_code == 200


def test_daily_create_update_cap_per_user(sandbox: Sandbox, token: str) -> None:
    sandbox.configure(ZOOM_SANDBOX_DAILY_MEETING_LIMIT=3)
    first = sandbox.api("POST", "/users/me/meetings", token, json={"topic": "a"})
    assert first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["X-RateLimit-Remaining"] == "2"
    meeting_id = first.json()["id"]
    second = sandbox.api("PATCH", f"/meetings/{meeting_id}", token, json={"topic": "b"})
    assert second.status_code == 204 and second.headers["X-RateLimit-Remaining"] == "1"
    third = sandbox.api("POST", "/users/me/meetings", token, json={"topic": "c"})
    assert third.headers["X-RateLimit-Remaining"] == "0"

    capped = sandbox.api("PATCH", f"/meetings/{meeting_id}", token, json={"topic": "d"})
    assert capped.status_code == 429
    assert capped.json() == {
        "code": 429,
        "message": "You have exceeded the daily rate limit (3) of Meeting Create/Update API "
        "requests permitted for this particular user. You may resume these requests at "
        "GMT 00:00:00.",
    }
    assert capped.headers["X-RateLimit-Type"] == "Daily-limit"
    now = datetime.fromisoformat(sandbox.state()["now"].replace("Z", "+00:00"))
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert capped.headers["Retry-After"] == midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Reads are not capped; another user of the same account has their own allowance.
    assert sandbox.api("GET", f"/meetings/{meeting_id}", token).status_code == 200
    desk = sandbox.connect(FRONT_DESK)["access_token"]
    assert sandbox.api("POST", "/users/me/meetings", desk, json={"topic": "e"}).status_code == 201

    # The cap resets at 00:00 UTC on the sandbox clock (a new token: the old one expired).
    sandbox.advance((midnight - now).total_seconds() + 1)
    fresh = sandbox.connect()["access_token"]
    again = sandbox.api("PATCH", f"/meetings/{meeting_id}", fresh, json={"topic": "f"})
    assert again.status_code == 204 and again.headers["X-RateLimit-Remaining"] == "2"


def test_retry_after_date_is_the_next_utc_midnight() -> None:
    from dashboard.sandbox.ratelimit import next_utc_midnight

    moment = datetime(2030, 5, 31, 23, 59, 59, tzinfo=UTC)
    assert next_utc_midnight(moment) == datetime(2030, 6, 1, tzinfo=UTC)
