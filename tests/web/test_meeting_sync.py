"""The worker against Zoom mocked with ``responses``: what each failure of Zoom does to an
operation and its meeting, how claims keep one booking's work in order, and that every
body sent to Zoom is one Zoom's own schema accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from sqlalchemy import update

from dashboard.extensions import db
from dashboard.models import ConnectionStatus, Meeting, Operation
from dashboard.orm import utcnow
from dashboard.services import meeting_sync, outbox, retry_policy
from dashboard.services.zoom_tokens import NotConnected, store_tokens
from dashboard.zoom.client import TokenSet
from dashboard.zoom.errors import next_utc_midnight
from tests.booking_builders import (
    cancel,
    drain,
    make_due,
    meeting_of,
    new_booking,
    operations_of,
    reschedule,
    retry,
    run_once,
)
from tests.zoom_builders import (
    FakeZoom,
    connection_of,
    endpoints,
    server_error,
    store_connection,
)

DAILY_MESSAGE = ("You have exceeded the daily rate limit (100) of Meeting Create/Update API "
                 "requests permitted for this particular user. You may resume these requests "
                 "at GMT 00:00:00.")


@pytest.fixture
def zoom(zoom, app) -> FakeZoom:
    """The shared mock (tests/web/conftest.py), answering as Zoom would."""
    return FakeZoom(zoom, endpoints(app).api_base_url, endpoints(app).token_url)


@pytest.fixture
def acme(app, world, zoom) -> int:
    """The acme workspace, connected to Zoom with a fresh access token."""
    with app.app_context():
        store_connection(world.acme.id)
    return world.acme.id


def _op(app, booking_id: int, index: int = -1) -> Operation:
    return operations_of(app, booking_id)[index]


def _seconds_until(moment, before, after) -> tuple[float, float]:
    """How far ahead ``moment`` is, seen from both ends of the window the run took."""
    return (moment - after).total_seconds(), (moment - before).total_seconds()


# --- the happy path and Zoom's schema -----------------------------------------------------

def test_create_then_update_send_bodies_zoom_accepts(app, acme, zoom):
    booking = new_booking(app, acme, host_email="front.desk@lake-clinic.test")
    assert drain(app) == 1
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.zoom_meeting_id in zoom.meetings
    reschedule(app, booking, duration_minutes=45)
    assert drain(app) == 1
    [created] = zoom.bodies("POST")
    [changed] = zoom.bodies("PATCH")
    for body, validator in ((created, zoom.create_validator),
                            (changed, zoom.update_validator)):
        assert list(validator.iter_errors(body)) == []
        assert body["schedule_for"] == "front.desk@lake-clinic.test"
        assert body["agenda"].startswith("[lakesis:booking:")
        assert body["settings"]["auto_recording"] == "none"
    assert changed["duration"] == 45
    assert zoom.meetings[meeting.zoom_meeting_id]["duration"] == 45


# --- retries and backoff ------------------------------------------------------------------

def test_a_5xx_is_retried_with_jittered_backoff_then_succeeds(app, acme, zoom):
    booking = _scheduled(app, acme, zoom)
    reschedule(app, booking, duration_minutes=45)
    zoom.fail("update", server_error(503))
    before = utcnow()
    assert drain(app) == 1  # one attempt; the retry is not due yet
    after = utcnow()
    op = _op(app, booking)
    assert (op.kind, op.state, op.attempts) == ("update", "queued", 1)
    low, high = _seconds_until(op.next_attempt_at, before, after)
    assert high >= 1.0 and low <= 2.0  # BASE_DELAY * 2**0 * uniform(0.5, 1)
    assert meeting_of(app, booking).last_error.startswith("Attempt 1 failed: Internal error")
    make_due(app)
    assert drain(app) == 1
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.last_error is None
    assert zoom.meetings[meeting.zoom_meeting_id]["duration"] == 45


def test_a_5xx_on_a_create_waits_for_zoom_then_looks_before_creating_again(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", server_error(503))
    before = utcnow()
    assert drain(app) == 1
    op = _op(app, booking, 0)
    assert (op.state, op.attempts) == ("queued", 1)
    # Zoom may have made the meeting before failing: not tried again before it could finish.
    assert (op.next_attempt_at - before).total_seconds() >= retry_policy.CREATE_SETTLE_SECONDS
    make_due(app)
    assert drain(app) == 1
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.last_error is None
    assert len(zoom.meetings) == 1
    assert zoom.calls("GET") >= 1  # the second attempt looked for the marker first


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    for attempts in (1, 2, 3, 6):
        delays = [retry_policy.backoff(attempts) for _ in range(200)]
        full = retry_policy.BASE_DELAY * 2 ** (attempts - 1)
        assert all(full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 100  # jitter: no two workers retry in lockstep
    assert retry_policy.backoff(40) <= retry_policy.MAX_DELAY


def test_a_read_timeout_after_the_create_reached_zoom_does_not_duplicate(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", "commit-then-timeout")
    drain(app)
    assert _op(app, booking).state == "queued" and len(zoom.meetings) == 1
    make_due(app)
    drain(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled"
    assert list(zoom.meetings) == [meeting.zoom_meeting_id]
    assert zoom.calls("POST") == 1
    assert _op(app, booking, 0).outcome.startswith("found Zoom meeting")


def test_a_lost_create_for_another_host_is_looked_up_through_me(app, acme, zoom):
    """A user-level app lists through ``me``; ``/users/<email>/meetings`` needs an admin
    scope (zoom/README.md, Corrections and additions)."""
    booking = new_booking(app, acme, host_email="dr.ana@lake-clinic.test")
    zoom.fail("create", "commit-then-timeout")
    drain(app)
    make_due(app)
    drain(app)

    lists = [url for method, url, _ in zoom.sent if method == "GET" and "/meetings?" in url]
    assert lists and all("/users/me/meetings" in url for url in lists)
    assert zoom.bodies("POST")[0]["schedule_for"] == "dr.ana@lake-clinic.test"
    assert meeting_of(app, booking).status == "scheduled" and zoom.calls("POST") == 1


def test_a_429_with_retry_after_is_honoured(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", (429, {"code": 429, "message": "You have reached the maximum "
                                "per-second rate limit for this API. Try again later."},
                         {"Retry-After": "37", "X-RateLimit-Type": "QPS"}))
    before = utcnow()
    drain(app)
    after = utcnow()
    op = _op(app, booking)
    assert (op.state, op.attempts) == ("queued", 0)  # pacing uses up no attempt
    low, high = _seconds_until(op.next_attempt_at, before, after)
    assert low <= 37 <= high + 0.001


def test_a_429_without_retry_after_waits_one_to_three_seconds(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", (429, {"code": 429, "message": "Too many requests"}, {}))
    before = utcnow()
    drain(app)
    after = utcnow()
    op = _op(app, booking)
    assert (op.state, op.attempts) == ("queued", 0)
    low, high = _seconds_until(op.next_attempt_at, before, after)
    assert high >= 1.0 and low <= 3.0


@pytest.mark.parametrize("headers", [
    {"X-RateLimit-Type": "Daily-limit", "Retry-After": "{midnight}"},
    {},  # seen in practice: no headers at all, only the message says so
], ids=["retry-after-iso", "message-only"])
def test_the_daily_cap_parks_the_workspace_until_midnight_utc(app, world, acme, zoom, headers):
    with app.app_context():
        store_connection(world.globex.id, zoom_user_id="zu_Other", zoom_account_id="acct_Other")
    first, second = new_booking(app, acme, "a"), new_booking(app, acme, "b")
    scheduled = new_booking(app, acme, "c")
    other_workspace = new_booking(app, world.globex.id, "g")
    midnight = next_utc_midnight(utcnow())
    with app.app_context():  # c already has its meeting; its reschedule is an update
        db.session.execute(update(Meeting).where(Meeting.booking_id == scheduled)
                           .values(zoom_meeting_id=81_999, status="scheduled"))
        db.session.execute(update(Operation).where(Operation.booking_id == scheduled)
                           .values(state="succeeded"))
        db.session.commit()
    zoom.meetings[81_999] = {"id": 81_999, "status": "waiting"}
    reschedule(app, scheduled, duration_minutes=40)
    cancelled = new_booking(app, acme, "d")
    with app.app_context():  # a cancel waiting behind a running create is not a create/update
        db.session.execute(update(Operation).where(Operation.booking_id == cancelled)
                           .values(state="running", lease_until=utcnow() + timedelta(hours=1)))
        db.session.commit()
    cancel(app, cancelled)
    zoom.fail("create", (429, {"code": 429, "message": DAILY_MESSAGE},
                         {k: v.format(midnight=midnight.strftime("%Y-%m-%dT%H:%M:%SZ"))
                          for k, v in headers.items()}))

    assert run_once(app)
    op = _op(app, first)
    assert (op.state, op.attempts, op.next_attempt_at) == ("queued", 0, midnight)
    for booking in (second, scheduled):
        assert _op(app, booking).next_attempt_at == midnight
    for booking in (first, second, scheduled):
        note = meeting_of(app, booking).note
        assert note == (f"Zoom's daily limit of meeting changes was reached; resumes at "
                        f"{midnight:%Y-%m-%d %H:%M} UTC.")
    assert _op(app, cancelled).next_attempt_at < midnight
    # Nothing more of acme is sent today; globex (another Zoom user) goes on.
    posts = zoom.calls("POST")
    assert drain(app) == 1
    assert meeting_of(app, other_workspace).status == "scheduled"
    assert zoom.calls("POST") == posts + 1 and zoom.calls("PATCH") == 0
    # At midnight the work resumes by itself.
    make_due(app)
    drain(app)
    for booking in (first, second, scheduled):
        assert meeting_of(app, booking).status == "scheduled"
        assert meeting_of(app, booking).note is None


def test_after_max_attempts_the_operation_is_dead_and_retry_brings_it_back(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", *[server_error()] * retry_policy.MAX_ATTEMPTS)
    zoom.fail("list", *[server_error()] * retry_policy.MAX_ATTEMPTS)
    for _ in range(retry_policy.MAX_ATTEMPTS):
        assert drain(app) == 1
        make_due(app)
    op = _op(app, booking)
    assert (op.state, op.attempts) == ("dead", retry_policy.MAX_ATTEMPTS)
    meeting = meeting_of(app, booking)
    assert meeting.status == "failed"
    assert meeting.last_error.startswith(f"Gave up after {retry_policy.MAX_ATTEMPTS} attempts: ")
    assert drain(app) == 0  # dead stays dead until someone retries

    zoom.failures.clear()
    assert retry(app, booking).kind == "create"
    assert meeting_of(app, booking).status == "pending"
    assert drain(app) == 1
    assert meeting_of(app, booking).status == "scheduled"
    assert len(zoom.meetings) == 1


def test_retrying_a_dead_create_finds_the_meeting_an_earlier_attempt_made(app, acme, zoom):
    booking = new_booking(app, acme)
    # Attempt 1 reaches Zoom but its answer is lost; every later look-up fails.
    zoom.fail("create", "commit-then-timeout")
    zoom.fail("list", *[server_error()] * (retry_policy.MAX_ATTEMPTS - 1))
    for _ in range(retry_policy.MAX_ATTEMPTS):
        drain(app)
        make_due(app)
    assert _op(app, booking).state == "dead"
    retry(app, booking)
    drain(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled"
    assert list(zoom.meetings) == [meeting.zoom_meeting_id]
    assert zoom.calls("POST") == 1


def test_a_found_meeting_gets_the_values_of_a_reschedule_made_meanwhile(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", "commit-then-timeout")
    drain(app)
    reschedule(app, booking, duration_minutes=75)  # collapses into the queued create
    assert len(operations_of(app, booking)) == 1
    make_due(app)
    drain(app)
    meeting = meeting_of(app, booking)
    assert list(zoom.meetings) == [meeting.zoom_meeting_id]
    assert zoom.meetings[meeting.zoom_meeting_id]["duration"] == 75
    assert meeting.synced_duration == 75


# --- Zoom's answers about the meeting itself ----------------------------------------------

def _scheduled(app, acme, zoom) -> int:
    booking = new_booking(app, acme)
    drain(app)
    assert meeting_of(app, booking).status == "scheduled"
    return booking


def test_an_update_of_a_meeting_deleted_in_zoom_recreates_it(app, acme, zoom):
    booking = _scheduled(app, acme, zoom)
    old = meeting_of(app, booking).zoom_meeting_id
    del zoom.meetings[old]  # someone deleted it in Zoom
    reschedule(app, booking, duration_minutes=50)
    drain(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.zoom_meeting_id != old
    assert meeting.recreated_count == 1
    assert meeting.note == (f"The Zoom meeting {old} was gone (deleted in Zoom); Lakesis "
                            f"created {meeting.zoom_meeting_id} instead.")
    assert zoom.meetings[meeting.zoom_meeting_id]["duration"] == 50


def test_a_recreation_whose_answer_was_lost_is_not_made_twice(app, acme, zoom):
    booking = _scheduled(app, acme, zoom)
    del zoom.meetings[meeting_of(app, booking).zoom_meeting_id]
    reschedule(app, booking, duration_minutes=50)
    zoom.fail("create", "commit-then-timeout")
    drain(app)
    make_due(app)
    drain(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and meeting.recreated_count == 1
    assert list(zoom.meetings) == [meeting.zoom_meeting_id]


def test_an_update_keeps_a_meeting_that_is_running_in_zoom_started(app, acme, zoom):
    booking = _scheduled(app, acme, zoom)
    zoom.meetings[meeting_of(app, booking).zoom_meeting_id]["status"] = "started"
    reschedule(app, booking, duration_minutes=60)
    drain(app)
    assert meeting_of(app, booking).status == "started"


def test_a_cancel_of_a_meeting_already_gone_is_done(app, acme, zoom):
    booking = _scheduled(app, acme, zoom)
    zoom.meetings.clear()
    cancel(app, booking)
    drain(app)
    meeting = meeting_of(app, booking)
    assert meeting.status == "cancelled" and meeting.join_url is None
    assert _op(app, booking).outcome == "the Zoom meeting was already gone"


def test_a_cancel_of_a_meeting_in_progress_fails_with_a_clear_message(app, acme, zoom):
    booking = _scheduled(app, acme, zoom)
    meeting_id = meeting_of(app, booking).zoom_meeting_id
    zoom.fail("delete", (400, {"code": 3002, "message": f"Meeting {meeting_id} is in progress"},
                         {}))
    cancel(app, booking)
    drain(app)
    op = _op(app, booking)
    assert (op.state, op.attempts) == ("failed", 1)
    meeting = meeting_of(app, booking)
    assert meeting.status == "failed"
    assert meeting.last_error.startswith("Zoom refused: the meeting is in progress in Zoom, so "
                                         "it cannot be deleted now; Retry once it has ended")
    retry(app, booking)  # after it ended
    drain(app)
    assert meeting_of(app, booking).status == "cancelled" and zoom.meetings == {}


def test_a_cancel_supersedes_a_create_still_queued_without_calling_zoom(app, acme, zoom):
    booking = new_booking(app, acme)
    cancel(app, booking)
    assert drain(app) == 1
    create, cancel_op = operations_of(app, booking)
    assert (create.state, create.outcome, create.attempts) == (
        "succeeded", "superseded by cancel", 0)
    assert cancel_op.outcome == "no Zoom meeting to delete"
    assert meeting_of(app, booking).status == "cancelled"
    assert zoom.sent == []


def test_a_cancel_after_a_lost_create_answer_deletes_what_the_create_made(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", "commit-then-timeout")
    drain(app)
    cancel(app, booking)  # supersedes the queued retry of the create
    drain(app)
    assert meeting_of(app, booking).status == "cancelled"
    assert zoom.meetings == {} and zoom.calls("DELETE") == 1


# --- tokens --------------------------------------------------------------------------------

def test_an_access_token_refused_mid_run_is_refreshed_once_and_the_call_retried(app, acme,
                                                                               zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", (401, {"code": 124, "message": "Access token is expired."}, {}))
    drain(app)
    assert meeting_of(app, booking).status == "scheduled"
    assert zoom.calls("POST") == 2 and len(zoom.meetings) == 1
    with app.app_context():
        assert connection_of(acme).status == "connected"


def test_a_revoked_grant_parks_the_work_until_zoom_is_connected_again(app, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, expires_in=timedelta(minutes=1))  # due for refresh
    booking = new_booking(app, world.acme.id)
    with responses.RequestsMock() as dead_grant:
        dead_grant.add("POST", endpoints(app).token_url, status=400,
                       json={"reason": "Invalid Token!", "error": "invalid_grant"})
        drain(app)
    op = _op(app, booking)
    assert (op.state, op.attempts) == ("waiting", 0)
    meeting = meeting_of(app, booking)
    assert meeting.status == "waiting_for_connection"
    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == "needs_reauth"
        # What a reconnect does: new tokens, and the parked work resumed, in one transaction.
        connection.status = "connected"
        store_tokens(connection, TokenSet("access-new", "refresh-new",
                                          utcnow() + timedelta(hours=1), ()), utcnow())
        outbox.resume_waiting(world.acme.id)
        db.session.commit()
    assert meeting_of(app, booking).status == "pending"
    drain(app)
    assert meeting_of(app, booking).status == "scheduled"


# --- claims --------------------------------------------------------------------------------

def test_two_operations_of_one_booking_never_run_at_once(app, acme, zoom):
    first = new_booking(app, acme, "a")
    with app.app_context():
        running = outbox.claim("worker-1")
    assert running == _op(app, first).id
    reschedule(app, first, duration_minutes=45)  # the create runs: a separate update waits
    assert [op.kind for op in operations_of(app, first)] == ["create", "update"]
    other = new_booking(app, acme, "b")
    with app.app_context():
        assert outbox.claim("worker-2") == _op(app, other).id
        assert outbox.claim("worker-3") is None  # only the waiting update is left
        meeting_sync.execute(running, "worker-1")
        assert outbox.claim("worker-3") == _op(app, first).id


def test_an_expired_lease_is_taken_over_and_the_late_result_discarded(app, acme, zoom):
    booking = new_booking(app, acme)
    with app.app_context():
        op_id = outbox.claim("killed-worker")
        assert outbox.claim("worker-2") is None  # the lease is live
        later = utcnow() + outbox.lease() + timedelta(seconds=1)
        assert outbox.claim("worker-2", now=later) == op_id
        taken = db.session.get(Operation, op_id)
        assert (taken.locked_by, taken.attempts) == ("worker-2", 2)
        meeting_sync.execute(op_id, "killed-worker")  # it was only slow: too late now
        db.session.expire_all()
        assert db.session.get(Operation, op_id).state == "running"
        meeting_sync.execute(op_id, "worker-2")
    op = _op(app, booking, 0)
    assert op.state == "succeeded"
    # The slow worker's create reached Zoom; the takeover (attempt 2) looked first.
    assert op.outcome.startswith("found Zoom meeting")
    meeting = meeting_of(app, booking)
    assert meeting.status == "scheduled" and list(zoom.meetings) == [meeting.zoom_meeting_id]


def test_the_lease_length_comes_from_the_settings(tmp_path):
    from dashboard.config import ConfigError, load_config

    assert load_config({}, tmp_path)["OUTBOX_LEASE_SECONDS"] == 120
    config = load_config({"LAKESIS_OUTBOX_LEASE_SECONDS": "7"}, tmp_path)
    assert config["OUTBOX_LEASE_SECONDS"] == 7
    with pytest.raises(ConfigError, match="LAKESIS_OUTBOX_LEASE_SECONDS"):
        load_config({"LAKESIS_OUTBOX_LEASE_SECONDS": "nonsense"}, tmp_path)


def test_operations_waiting_behind_others_do_not_starve_the_rest(app, acme, zoom):
    blocked = [new_booking(app, acme, f"blocked-{n}") for n in range(25)]
    with app.app_context():
        # Each create failed and waits an hour to retry; an update is queued behind it.
        db.session.execute(update(Operation).values(next_attempt_at=utcnow()
                                                    + timedelta(hours=1)))
        for booking_id in blocked:
            db.session.add(Operation(workspace_id=acme, booking_id=booking_id, kind="update",
                                     requested_by="test", next_attempt_at=utcnow()
                                     - timedelta(minutes=5)))
        db.session.commit()
    fresh = new_booking(app, acme, "fresh")
    with app.app_context():
        assert outbox.claim("worker") == _op(app, fresh).id


def test_a_create_refused_with_429_is_not_looked_up_before_the_retry(app, acme, zoom):
    booking = new_booking(app, acme)
    zoom.fail("create", (429, {"code": 429, "message": "Too many requests"},
                         {"Retry-After": "1"}))
    drain(app)
    make_due(app)
    drain(app)
    assert meeting_of(app, booking).status == "scheduled"
    # Zoom said no before doing anything, so no list call is spent looking for the meeting.
    assert zoom.calls("GET") == 0
    assert zoom.calls("POST") == 2


def test_a_per_second_429_holds_back_the_workspaces_other_queued_work(app, acme, zoom):
    first, second = new_booking(app, acme, "first"), new_booking(app, acme, "second")
    zoom.fail("create", (429, {"code": 429, "message": "Too many requests"},
                         {"Retry-After": "5"}))
    assert run_once(app)
    # The second booking is not sent into the same limit a moment later.
    assert not run_once(app)
    assert zoom.calls("POST") == 1
    held = {_op(app, booking).next_attempt_at for booking in (first, second)}
    assert len(held) == 1 and min(held) > utcnow()


def test_the_daily_cap_holds_back_only_the_work_of_the_same_meeting_host(app, acme, zoom):
    """Zoom's 100 create/update a day count per meeting host (the schedule_for user), so one
    host reaching it must not stop the other hosts' meetings (zoom/README.md, Corrections)."""
    capped = new_booking(app, acme, "a", host_email="dr.ana@lake-clinic.test")
    same_host = new_booking(app, acme, "b", host_email="Dr.Ana@lake-clinic.test")
    other_host = new_booking(app, acme, "c", host_email="dr.rui@lake-clinic.test")
    connected_user = new_booking(app, acme, "d")
    midnight = next_utc_midnight(utcnow())
    zoom.fail("create", (429, {"code": 429, "message": DAILY_MESSAGE},
                         {"X-RateLimit-Type": "Daily-limit",
                          "Retry-After": midnight.strftime("%Y-%m-%dT%H:%M:%SZ")}))

    assert run_once(app)
    assert _op(app, capped).next_attempt_at == midnight
    assert _op(app, same_host).next_attempt_at == midnight
    assert drain(app) == 2  # the other host's and the connected user's go on today
    assert meeting_of(app, other_host).status == "scheduled"
    assert meeting_of(app, connected_user).status == "scheduled"
    assert meeting_of(app, same_host).status == "pending"


def test_work_that_lost_the_connection_while_a_reconnect_landed_runs_again(app, acme, zoom,
                                                                           monkeypatch):
    """A worker learns 'not connected' while the admin's reconnect commits: the reconnect
    resumed only what was waiting then, so the worker must not park this one for good."""
    booking = new_booking(app, acme)

    def lost_the_connection(job):
        raise NotConnected(ConnectionStatus.NEEDS_REAUTH, "the grant was revoked")

    monkeypatch.setattr(meeting_sync, "handler_for", lambda job: lost_the_connection)
    run_once(app)
    op = _op(app, booking)
    assert (op.state, op.attempts) == ("queued", 0)
    assert meeting_of(app, booking).status == "pending"


@pytest.mark.parametrize("name,raw,key,value", [
    ("LAKESIS_ZOOM_READ_TIMEOUT_SECONDS", "1.5", "ZOOM_READ_TIMEOUT_SECONDS", 1.5),
    ("LAKESIS_RETRY_BASE_SECONDS", "0.25", "RETRY_BASE_SECONDS", 0.25),
    ("LAKESIS_RETRY_MAX_SECONDS", "4", "RETRY_MAX_SECONDS", 4.0)])
def test_zoom_patience_comes_from_the_settings(tmp_path, name, raw, key, value):
    from dashboard.config import ConfigError, load_config

    assert load_config({name: raw}, tmp_path)[key] == value
    for bad in ("nonsense", "0", "nan", "-1", "1e9"):
        with pytest.raises(ConfigError, match=name):
            load_config({name: bad}, tmp_path)


def test_the_zoom_client_waits_as_long_as_the_setting_says(tmp_path):
    from dashboard.config import load_config
    from dashboard.zoom.extension import client_from_config

    assert client_from_config(load_config({}, tmp_path))._timeout == (3.05, 10.0)
    quick = load_config({"LAKESIS_ZOOM_READ_TIMEOUT_SECONDS": "1.5"}, tmp_path)
    assert client_from_config(quick)._timeout == (1.5, 1.5)


def test_retries_wait_as_the_backoff_settings_say(app, acme, zoom):
    app.config.update(RETRY_BASE_SECONDS=100.0, RETRY_MAX_SECONDS=150.0)
    booking = _scheduled(app, acme, zoom)
    reschedule(app, booking, duration_minutes=45)
    for attempt in (1, 2, 3):
        zoom.fail("update", server_error(503))
        make_due(app)
        before = utcnow()
        assert drain(app) == 1
        after = utcnow()
        low, high = _seconds_until(_op(app, booking).next_attempt_at, before, after)
        expected = min(150.0, 100.0 * 2 ** (attempt - 1))  # times uniform(0.5, 1)
        assert expected * 0.5 - 1 <= low and high <= expected + 1, (attempt, low, high)
