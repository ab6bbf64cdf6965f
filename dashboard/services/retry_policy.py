"""What a failed Zoom operation does next: a pure function of the failure and the attempt.

Tests drive :func:`decide` with a table (``tests/unit/test_retry_policy.py``); the worker
applies the :class:`Decision` to the operation and its meeting.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dashboard.models import MeetingStatus, OperationKind, OperationState
from dashboard.services.zoom_tokens import NotConnected
from dashboard.zoom.errors import (
    AccessTokenExpired,
    CreateOutcomeUnknown,
    MeetingInProgress,
    RateLimited,
    ZoomError,
    ZoomUnavailable,
    next_utc_midnight,
)

MAX_ATTEMPTS = 8
BASE_DELAY, MAX_DELAY = 2.0, 900.0
#: Queued work due later than any backoff can push it was parked (Zoom's daily cap holds
#: it until 00:00 UTC): it is not "on its way", and nobody should poll for it.
PARKED_AFTER = timedelta(seconds=MAX_DELAY)
#: After a create whose answer was lost, the next attempt waits this long before it looks
#: for the meeting (or makes another): longer than Zoom's slowest commits seen (~20 s), so
#: the look finds what the lost create made. Configurable (``ZOOM_CREATE_SETTLE_SECONDS``).
CREATE_SETTLE_SECONDS = 60.0
#: How many re-syncs, that far apart, look over a booking's meetings for late copies of a
#: lost create before it is taken as settled (list calls: Medium, never the daily cap).
LATE_COPY_LOOKS = 3
Jitter = Callable[[float, float], float]
WAITING_NOTE = "Waiting for Zoom to be connected again; resumes by itself after."


class Refused(Exception):
    """Lakesis itself refuses what Zoom answered (a Zoom meeting that already belongs to
    another booking): like Zoom refusing the work, not retried; an operator decides."""


@dataclass(frozen=True, kw_only=True)
class Hold:
    """Hold back the workspace's other queued work of ``kinds`` until ``until``."""

    until: datetime
    kinds: tuple[str, ...]
    note: str | None = None
    #: only the work of meetings with the same Zoom host (Zoom's daily cap is per host)
    same_host: bool = False


@dataclass(frozen=True, kw_only=True)
class Decision:
    state: OperationState
    error: str  # the operation's last_error
    next_attempt_at: datetime | None = None
    #: the failure was not Zoom refusing the work (pacing, no connection): the attempt
    #: it took is given back
    refund_attempt: bool = False
    meeting_status: MeetingStatus | None = None  # None: unchanged
    meeting_note: str | None = None  # None: unchanged
    meeting_error: str | None = None  # None: unchanged
    hold: Hold | None = None


def backoff(attempts: int, jitter: Jitter = random.uniform, *, base: float = BASE_DELAY,
            most: float = MAX_DELAY, least: float = 0.5) -> float:
    """Exponential backoff with jitter, so a burst of failures does not retry in lockstep:
    ``base`` doubling per attempt up to ``most``, times a random ``least`` to 1. The outbox,
    webhook deliveries and mail each pass their own pace."""
    delay = min(most, base * 2 ** max(attempts - 1, 0))
    return delay * jitter(least, 1.0)


def decide(error: BaseException, attempts: int, now: datetime,
           jitter: Jitter = random.uniform,
           settle_seconds: float = CREATE_SETTLE_SECONDS,
           backoff_seconds: tuple[float, float] = (BASE_DELAY, MAX_DELAY)) -> Decision:
    """How an operation that has now made ``attempts`` attempts goes on after ``error``.

    ``settle_seconds``: the least wait after a create whose outcome is unknown;
    ``backoff_seconds``: the first and the longest wait between retries."""
    message = str(error) or error.__class__.__name__
    if isinstance(error, NotConnected):
        return Decision(state=OperationState.WAITING, error=message, refund_attempt=True,
                        meeting_status=MeetingStatus.WAITING_FOR_CONNECTION,
                        meeting_note=WAITING_NOTE)
    if isinstance(error, RateLimited):
        return _rate_limited(error, message, now, jitter)
    # Zoom down, slow, busy or refusing a just-refreshed token: try again later. Zoom
    # refusing the request itself (validation, 3002, 3003, 1001): an operator decides.
    retryable = isinstance(error, ZoomUnavailable | AccessTokenExpired) or (
        not isinstance(error, ZoomError | Refused))
    if isinstance(error, MeetingInProgress):
        message = ("the meeting is in progress in Zoom, so it cannot be deleted now; "
                   f"Retry once it has ended ({message})")
    if retryable and attempts < MAX_ATTEMPTS:
        base, most = backoff_seconds
        wait = getattr(error, "retry_after", None) or backoff(attempts, jitter, base=base,
                                                              most=most)
        if isinstance(error, CreateOutcomeUnknown):
            wait = max(wait, settle_seconds)
        return Decision(state=OperationState.QUEUED, error=message,
                        next_attempt_at=now + timedelta(seconds=wait),
                        meeting_error=f"Attempt {attempts} failed: {message}"[:500])
    prefix = (f"Gave up after {attempts} attempts: " if retryable
              else "Lakesis refused: " if isinstance(error, Refused) else "Zoom refused: ")
    return Decision(state=OperationState.DEAD if retryable else OperationState.FAILED,
                    error=message, meeting_status=MeetingStatus.FAILED,
                    meeting_error=(prefix + message)[:500])


def _rate_limited(error: RateLimited, message: str, now: datetime, jitter: Jitter) -> Decision:
    if error.daily:
        resume = error.resume_at or next_utc_midnight(now)
        note = (f"Zoom's daily limit of meeting changes was reached; resumes at "
                f"{resume:%Y-%m-%d %H:%M} UTC.")
        return Decision(state=OperationState.QUEUED, error=message, next_attempt_at=resume,
                        refund_attempt=True, meeting_note=note,
                        hold=Hold(until=resume, note=note, same_host=True, kinds=(
                            OperationKind.CREATE.value, OperationKind.UPDATE.value)))
    # Zoom's per-second limit: a matter of pacing, not a failure, so no attempt is used up
    # (a burst would otherwise kill work that only had to wait a second). The limit is the
    # account's: the workspace's other queued work would only be refused too, so every
    # worker holds it back for the same moment.
    # A reset already reached when read (0 s) means the window is open: a few milliseconds
    # of jitter, not the 1 to 3 s kept for a 429 that says nothing.
    wait = (jitter(1.0, 3.0) if error.retry_after is None
            else error.retry_after or jitter(0.01, 0.1))
    resume = now + timedelta(seconds=wait)
    return Decision(state=OperationState.QUEUED, error=message, next_attempt_at=resume,
                    refund_attempt=True,
                    hold=Hold(until=resume, kinds=tuple(k.value for k in OperationKind)))
