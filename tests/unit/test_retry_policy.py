"""What a failed Zoom operation does next, as a table: failure x attempt -> decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.models import MeetingStatus, OperationState
from dashboard.services.retry_policy import (
    CREATE_SETTLE_SECONDS,
    MAX_ATTEMPTS,
    WAITING_NOTE,
    Refused,
    backoff,
    decide,
)
from dashboard.services.zoom_tokens import NotConnected
from dashboard.zoom.errors import (
    AccessTokenExpired,
    CreateOutcomeUnknown,
    MeetingInProgress,
    RateLimited,
    UserNotFound,
    ZoomTimeout,
    ZoomUnavailable,
    ZoomValidationError,
)

NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 12, 2, tzinfo=UTC)


def no_jitter(low: float, high: float) -> float:
    return high


def per_second(retry_after: float | None = None) -> RateLimited:
    return RateLimited("per second", retry_after=retry_after, daily=False, resume_at=None,
                       status=429)


def daily(resume_at: datetime | None = MIDNIGHT) -> RateLimited:
    return RateLimited("daily", retry_after=None, daily=True, resume_at=resume_at, status=429)


# failure, attempts so far, state, seconds until the next attempt (None: none), attempt given
# back, meeting status (None: unchanged)
TABLE = [
    (NotConnected("needs_reauth"), 3, OperationState.WAITING, None, True,
     MeetingStatus.WAITING_FOR_CONNECTION),
    (per_second(), 1, OperationState.QUEUED, 3.0, True, None),
    (per_second(retry_after=7), 5, OperationState.QUEUED, 7.0, True, None),
    (daily(), 2, OperationState.QUEUED, (MIDNIGHT - NOW).total_seconds(), True, None),
    (daily(resume_at=None), 2, OperationState.QUEUED, (MIDNIGHT - NOW).total_seconds(), True,
     None),
    (ZoomUnavailable("502", status=502), 1, OperationState.QUEUED, 2.0, False, None),
    (ZoomTimeout("slow"), 3, OperationState.QUEUED, 8.0, False, None),
    (AccessTokenExpired("124", status=401, code=124), 2, OperationState.QUEUED, 4.0, False,
     None),
    (RuntimeError("a bug"), 1, OperationState.QUEUED, 2.0, False, None),
    (ZoomUnavailable("502", status=502), MAX_ATTEMPTS, OperationState.DEAD, None, False,
     MeetingStatus.FAILED),
    (UserNotFound("no such user", status=404, code=1001), 1, OperationState.FAILED, None,
     False, MeetingStatus.FAILED),
    (ZoomValidationError("bad", errors=[], status=400, code=300), 1, OperationState.FAILED,
     None, False, MeetingStatus.FAILED),
    (MeetingInProgress("running", status=400, code=3002), 1, OperationState.FAILED, None,
     False, MeetingStatus.FAILED),
    # A create whose answer was lost waits until Zoom could have finished it, then longer
    # as the backoff grows past that.
    (CreateOutcomeUnknown("slow"), 1, OperationState.QUEUED, CREATE_SETTLE_SECONDS, False,
     None),
    (CreateOutcomeUnknown("slow"), 7, OperationState.QUEUED, 128.0, False, None),
    (Refused("taken"), 1, OperationState.FAILED, None, False, MeetingStatus.FAILED),
]


@pytest.mark.parametrize(("error", "attempts", "state", "wait", "refund", "status"), TABLE,
                         ids=[f"{type(row[0]).__name__}-{row[1]}" for row in TABLE])
def test_each_failure_leads_to_its_decision(error, attempts, state, wait, refund, status):
    decision = decide(error, attempts, NOW, jitter=no_jitter)

    assert decision.state == state
    assert decision.refund_attempt is refund
    assert decision.meeting_status == status
    if wait is None:
        assert decision.next_attempt_at is None
    else:
        assert decision.next_attempt_at == NOW + timedelta(seconds=wait)


def test_rate_limits_hold_back_the_workspaces_other_work():
    second = decide(per_second(retry_after=2), 1, NOW, jitter=no_jitter)
    cap = decide(daily(), 1, NOW, jitter=no_jitter)

    assert second.hold.until == NOW + timedelta(seconds=2)
    assert set(second.hold.kinds) == {"create", "update", "cancel", "resync"}
    assert cap.hold.until == MIDNIGHT and cap.hold.same_host and not second.hold.same_host
    assert set(cap.hold.kinds) == {"create", "update"}  # the cap counts creates and updates
    assert "resumes at 2026-12-02 00:00 UTC" in cap.meeting_note


def test_a_window_that_opened_already_is_tried_again_at_once_not_in_seconds():
    """X-RateLimit-Reset may be this very moment (or just past) by the time it is read: the
    window is open, so wait a few milliseconds, not the 1 to 3 s kept for a 429 that says
    nothing (that pause halved a burst's pace)."""
    opened = decide(per_second(retry_after=0.0), 1, NOW, jitter=lambda low, high: high)
    unknown = decide(per_second(retry_after=None), 1, NOW, jitter=lambda low, high: low)

    assert NOW < opened.next_attempt_at <= NOW + timedelta(seconds=0.1)
    assert opened.hold.until == opened.next_attempt_at
    assert unknown.next_attempt_at == NOW + timedelta(seconds=1)


def test_the_meeting_says_what_is_happening():
    waiting = decide(NotConnected("disconnected"), 1, NOW)
    retrying = decide(ZoomUnavailable("Zoom is down", status=503), 3, NOW)
    dead = decide(ZoomUnavailable("Zoom is down", status=503), MAX_ATTEMPTS, NOW)
    refused = decide(UserNotFound("User does not exist", status=404, code=1001), 1, NOW)
    in_progress = decide(MeetingInProgress("busy", status=400, code=3002), 1, NOW)

    assert waiting.meeting_note == WAITING_NOTE
    assert retrying.meeting_error.startswith("Attempt 3 failed: Zoom is down")
    assert dead.meeting_error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts: ")
    assert refused.meeting_error.startswith("Zoom refused: User does not exist")
    assert "cannot be deleted now" in in_progress.error


def test_the_wait_after_an_unknown_create_outcome_is_the_callers_to_set():
    error = CreateOutcomeUnknown("Zoom did not answer in time", status=None)

    decision = decide(error, 1, NOW, jitter=no_jitter, settle_seconds=90)

    assert decision.next_attempt_at == NOW + timedelta(seconds=90)
    assert decision.error == "Zoom did not answer in time"


def test_a_refusal_of_lakesis_own_says_so():
    refused = decide(Refused("Zoom meeting 81 already belongs to booking ext-2"), 1, NOW)

    assert refused.meeting_error == ("Lakesis refused: Zoom meeting 81 already belongs to "
                                     "booking ext-2")


def test_backoff_doubles_up_to_its_cap():
    assert [backoff(n, no_jitter) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff(40, no_jitter) == 900.0
