"""The worker against the Zoom sandbox over real HTTP, with Zoom's failures switched on:
server errors, lost answers, rate limits, the daily cap, dead tokens, meetings deleted,
running or changed in Zoom by someone else (whose webhooks reach the app as well)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Operation, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services import drift, retry_policy
from dashboard.services.zoom_tokens import TokenProvider
from tests.booking_builders import (
    apply_webhooks,
    cancel,
    drain,
    make_due,
    meeting_of,
    new_booking,
    operations_of,
    reschedule,
    retry,
    zoom_meeting,
)
from tests.sandbox_control import FRONT_DESK, connect, query

pytestmark = pytest.mark.usefixtures("sandbox")
FRONT_DESK_EMAIL = "front.desk@clinic.zoom.test"


def _op(app, booking_id: int) -> Operation:
    return operations_of(app, booking_id)[-1]


def _window(moment: datetime, before: datetime, after: datetime) -> tuple[float, float]:
    return (moment - after).total_seconds(), (moment - before).total_seconds()


def _set_attempts(app, booking_id: int, attempts: int) -> None:
    with app.app_context():
        db.session.execute(update(Operation).where(Operation.booking_id == booking_id)
                           .values(attempts=attempts))
        db.session.commit()


def _front_desk_token(app, sandbox) -> str:
    """An access token of another user of the clinic's Zoom account (their own grant)."""
    client = zoom_extension.client_of(app)
    request = client.authorization_request(app.config["ZOOM_REDIRECT_URI"])
    code = query(sandbox.consent(request.url, "allow", FRONT_DESK))["code"]
    return client.exchange_code(code, app.config["ZOOM_REDIRECT_URI"],
                                request.code_verifier).access_token


def test_a_server_error_on_a_create_waits_for_zoom_then_looks_before_retrying(app, connected,
                                                                             sandbox):
    booking = new_booking(app, connected.acme.id)
    sandbox.fault("meetings_create", "error_500", count=1)
    before = utcnow()
    assert drain(app) == 1
    after = utcnow()
    op = operations_of(app, booking)[0]
    assert (op.state, op.attempts) == ("queued", 1)
    # Zoom may have made the meeting before it failed: no retry before it could have finished.
    low, high = _window(op.next_attempt_at, before, after)
    assert high >= retry_policy.CREATE_SETTLE_SECONDS
    make_due(app)
    drain(app)
    assert meeting_of(app, booking).status == "scheduled"
    state = sandbox.state()
    assert state["meetings"]["waiting"] == 1
    assert state["requests"]["meetings_create"] == 2
    assert state["requests"]["meetings_list"] == 1  # looked before creating again


def test_a_timeout_after_zoom_made_the_meeting_is_resolved_by_its_marker(app, connected,
                                                                         sandbox, monkeypatch):
    monkeypatch.setattr(zoom_extension.client_of(app), "_timeout", (1.0, 0.5))
    sandbox.fault("meetings_create", "timeout_after_commit", count=1, delay=1.5)
    booking = new_booking(app, connected.acme.id)
    drain(app)
    assert _op(app, booking).state == "queued"
    make_due(app)
    drain(app)
    assert operations_of(app, booking)[0].outcome.startswith("found Zoom meeting")
    state = sandbox.state()
    assert state["requests"]["meetings_create"] == 1  # not sent again
    assert state["requests"]["meetings_list"] == 1
    assert state["requests"]["meetings_update"] == 0  # already as booked: not sent again
    assert state["meetings"]["waiting"] == 1
    assert meeting_of(app, booking).join_url.startswith(app.config["ZOOM_SANDBOX_URL"] + "/j/")


def test_a_per_second_429_waits_for_its_x_ratelimit_reset_instead_of_the_backoff(
        app, connected, sandbox):
    booking = new_booking(app, connected.acme.id)
    _set_attempts(app, booking, 4)  # the backoff would now be 16-32 s
    # Zoom's per-second 429 says when the next one-second window opens (X-RateLimit-Reset,
    # epoch seconds); it sends no Retry-After (zoom/README.md, Corrections and additions).
    sandbox.fault("meetings_create", "rate_limit", count=1)
    before = utcnow()
    drain(app)
    after = utcnow()
    low, high = _window(_op(app, booking).next_attempt_at, before, after)
    # At most the rest of this second (plus the request's own time), never the backoff.
    assert low <= 1.0 + 0.001 and high <= 1.0 + (after - before).total_seconds() + 0.001


def test_a_429_without_retry_after_waits_a_moment_and_uses_up_no_attempt(app, connected,
                                                                         sandbox):
    booking = new_booking(app, connected.acme.id)
    _set_attempts(app, booking, 4)
    sandbox.fault("meetings_create", "rate_limit_no_retry_after", count=1)
    before = utcnow()
    drain(app)
    after = utcnow()
    op = _op(app, booking)
    # A per-second limit is pacing, not failure: a burst must not push work towards dead.
    assert (op.state, op.attempts) == ("queued", 4)
    low, high = _window(op.next_attempt_at, before, after)
    assert high >= 1.0 and low <= 3.0
    make_due(app)
    drain(app)
    assert meeting_of(app, booking).status == "scheduled"


def test_the_daily_cap_parks_creates_and_updates_until_midnight_utc(app, connected, sandbox):
    scheduled = new_booking(app, connected.acme.id, "scheduled")
    drain(app)
    first = new_booking(app, connected.acme.id, "first")
    second = new_booking(app, connected.acme.id, "second")
    reschedule(app, scheduled, duration_minutes=45)
    sandbox.fault("meetings_create", "daily_limit", count=1)
    midnight = (utcnow() + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                      microsecond=0)
    assert drain(app) == 1  # the first create meets the cap; nothing else is sent today
    for booking in (first, second, scheduled):
        op = _op(app, booking)
        assert (op.state, op.attempts, op.next_attempt_at) == ("queued", 0, midnight)
        assert meeting_of(app, booking).note == (
            f"Zoom's daily limit of meeting changes was reached; resumes at "
            f"{midnight:%Y-%m-%d %H:%M} UTC.")
    assert sandbox.state()["requests"]["meetings_update"] == 0
    make_due(app)  # midnight
    assert drain(app) == 3
    for booking in (first, second, scheduled):
        assert meeting_of(app, booking).status == "scheduled"
    assert sandbox.state()["meetings"]["waiting"] == 3


def test_after_the_last_attempt_the_operation_is_dead_until_retried(app, connected, sandbox):
    booking = new_booking(app, connected.acme.id)
    sandbox.fault("meetings_create", "error_503", count=retry_policy.MAX_ATTEMPTS)
    for _ in range(retry_policy.MAX_ATTEMPTS):
        assert drain(app) == 1
        make_due(app)
    op = _op(app, booking)
    assert (op.state, op.attempts) == ("dead", retry_policy.MAX_ATTEMPTS)
    meeting = meeting_of(app, booking)
    assert meeting.status == "failed"
    assert meeting.last_error.startswith(
        f"Gave up after {retry_policy.MAX_ATTEMPTS} attempts: ")
    assert drain(app) == 0
    retry(app, booking)
    assert drain(app) == 1
    assert meeting_of(app, booking).status == "scheduled"
    assert sandbox.state()["meetings"]["waiting"] == 1


def test_a_cancel_of_a_meeting_already_deleted_in_zoom_is_cancelled(app, connected, sandbox):
    booking = new_booking(app, connected.acme.id)
    drain(app)
    meeting_id = meeting_of(app, booking).zoom_meeting_id
    with app.app_context():
        tokens, zoom = TokenProvider(zoom_extension.client_of(app)), zoom_extension.client_of(app)
        tokens.call(connected.acme.id, lambda t: zoom.delete_meeting(t, meeting_id))
    apply_webhooks(app)
    assert meeting_of(app, booking).status == "deleted_in_zoom"  # its webhook came in
    cancel(app, booking)
    drain(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "cancelled" and meeting.join_url is None
    assert _op(app, booking).outcome == "the Zoom meeting was already gone"


def test_a_meeting_in_progress_is_not_deleted_and_says_why(app, connected, sandbox):
    booking = new_booking(app, connected.acme.id)
    drain(app)
    meeting_id = meeting_of(app, booking).zoom_meeting_id
    sandbox.http.post(f"{sandbox.base}/_control/meetings/{meeting_id}/start",
                      timeout=5).raise_for_status()
    apply_webhooks(app)
    assert meeting_of(app, booking).status == "started"  # meeting.started reached the app
    cancel(app, booking)
    drain(app)
    op = _op(app, booking)
    assert op.state == "failed"
    meeting = meeting_of(app, booking)
    assert meeting.status == "failed"
    assert "in progress in Zoom" in meeting.last_error and "code 3002" in meeting.last_error
    sandbox.http.post(f"{sandbox.base}/_control/meetings/{meeting_id}/end",
                      timeout=5).raise_for_status()
    retry(app, booking)
    drain(app)
    assert meeting_of(app, booking).status == "cancelled"
    assert sandbox.state()["meetings"]["deleted"] == 1


def test_started_and_ended_in_zoom_show_on_the_meeting(app, connected, sandbox):
    booking = new_booking(app, connected.acme.id)
    drain(app)
    meeting_id = meeting_of(app, booking).zoom_meeting_id
    for action, status in (("start", "started"), ("end", "ended")):
        sandbox.http.post(f"{sandbox.base}/_control/meetings/{meeting_id}/{action}",
                          timeout=5).raise_for_status()
        apply_webhooks(app)
        assert meeting_of(app, booking).status == status
    assert meeting_of(app, booking).last_event_ts is not None


def test_changes_in_zoom_by_another_user_are_noted_and_deletion_recreated_on_retry(
        app, connected, sandbox):
    booking = new_booking(app, connected.acme.id, host_email=FRONT_DESK_EMAIL)
    drain(app)
    meeting_id = meeting_of(app, booking).zoom_meeting_id
    assert zoom_meeting(sandbox, app, meeting_id)["host_email"] == FRONT_DESK_EMAIL
    token = _front_desk_token(app, sandbox)
    zoom = zoom_extension.client_of(app)

    zoom.update_meeting(token, meeting_id, {"duration": 55})
    apply_webhooks(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled"
    with app.app_context():
        found = drift.open_drift(booking)
        assert found.zoom_operator == FRONT_DESK
        assert found.changes == {"duration": {"old": 30, "new": 55}}

    zoom.delete_meeting(token, meeting_id)
    apply_webhooks(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "deleted_in_zoom" and FRONT_DESK in meeting.note
    retry(app, booking)
    drain(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.zoom_meeting_id != meeting_id
    assert zoom_meeting(sandbox, app, meeting.zoom_meeting_id)["duration"] == 30
    assert meeting.previous_join_url and meeting.previous_join_url != meeting.join_url
    with app.app_context():
        assert drift.open_drift(booking) is None


def test_an_expired_access_token_is_refreshed_once_mid_run(app, connected, sandbox):
    booking = new_booking(app, connected.acme.id)
    before = sandbox.state()
    sandbox.fault("meetings_create", "expired_token", count=1)
    drain(app)
    assert meeting_of(app, booking).status == "scheduled"
    after = sandbox.state()
    assert after["refreshes_served"] - before["refreshes_served"] == 1
    assert after["requests"]["meetings_create"] == 2
    assert _op(app, booking).attempts == 1


def test_a_revoked_grant_waits_for_reconnect_then_resumes_by_itself(app, client, connected,
                                                                    sandbox):
    with app.app_context():  # the access token is due for a refresh
        db.session.execute(update(ZoomConnection).values(
            access_expires_at=utcnow() + timedelta(minutes=1)))
        db.session.commit()
    sandbox.fault("token", "invalid_refresh", count=1)
    booking = new_booking(app, connected.acme.id)
    drain(app)
    op = _op(app, booking)
    assert (op.state, op.attempts) == ("waiting", 0)
    assert meeting_of(app, booking).status == "waiting_for_connection"
    with app.app_context():
        assert db.session.scalars(db.select(ZoomConnection)).one().status == "needs_reauth"
    assert b"Zoom connected" in connect(client, sandbox).data
    assert meeting_of(app, booking).status == "pending"
    assert drain(app) == 1
    assert meeting_of(app, booking).status == "scheduled"
    assert sandbox.state()["meetings"]["waiting"] == 1
