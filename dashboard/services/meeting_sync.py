"""Carry out one outbox operation against Zoom, and decide what a failure means.

No database transaction is held while Zoom is called: the job is read, committed, sent,
and its result written in a new transaction, only if this worker still holds the lease.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import update

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.models import (
    BookingState,
    Meeting,
    MeetingStatus,
    Operation,
    OperationKind,
    OperationState,
)
from dashboard.orm import utcnow
from dashboard.services import outbox
from dashboard.services.connections import connection_of
from dashboard.services.meeting_body import defaults_for, meeting_body
from dashboard.zoom.client import find_marked_meeting, meeting_marker
from dashboard.zoom.errors import (
    AccessTokenExpired,
    MeetingInProgress,
    MeetingNotFound,
    RateLimited,
    ZoomError,
    ZoomUnavailable,
    next_utc_midnight,
)
from dashboard.zoom.tokens import NotConnected

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BASE_DELAY, MAX_DELAY = 2.0, 900.0
ZOOM_STATUS = {"waiting": MeetingStatus.SCHEDULED, "started": MeetingStatus.STARTED,
               "finished": MeetingStatus.ENDED, "ended": MeetingStatus.ENDED}


@dataclass(frozen=True)
class Job:
    op_id: int
    kind: str
    attempts: int
    workspace_id: int
    booking_active: bool
    marker: str
    body: dict[str, Any]
    zoom_meeting_id: int | None
    list_user: str
    booking_start: datetime
    booking_duration: int
    meeting_id: int = 0
    # A create was sent and its outcome never learned (timeout, 5xx, a killed worker): look
    # for the marker before creating, or when deleting.
    maybe_created: bool = False


@dataclass(frozen=True)
class Outcome:
    text: str
    status: MeetingStatus | None = None
    zoom: dict[str, Any] | None = None
    note: str | None = None
    recreated: bool = False
    clear_links: bool = False


def backoff(attempts: int) -> float:
    """Exponential backoff with jitter, so a burst of failures does not retry in lockstep."""
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** max(attempts - 1, 0))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


def _zoom(job: Job, request: Callable[[Any, str], Any]) -> Any:
    client = current_app.extensions["zoom_client"]
    tokens = current_app.extensions["zoom_tokens"]
    return tokens.call(job.workspace_id, lambda token: request(client, token))


def _find_marked(job: Job) -> dict[str, Any] | None:
    return _zoom(job, lambda c, t: find_marked_meeting(
        c.list_meetings(t, job.list_user), job.marker))


_COMPARED = ("topic", "start_time", "duration", "timezone", "agenda")


def _adopt(job: Job, found: dict[str, Any]) -> dict[str, Any]:
    """A meeting an earlier attempt made: bring it up to the booking's latest values (a
    reschedule collapsed into the queued create while the first answer was lost)."""
    if any(k in found and found[k] != job.body.get(k) for k in _COMPARED):
        _zoom(job, lambda c, t: c.update_meeting(t, found["id"], job.body))
    return _zoom(job, lambda c, t: c.get_meeting(t, found["id"]))


def _mark_unconfirmed(job: Job, unconfirmed: bool) -> None:
    db.session.execute(update(Meeting).where(Meeting.id == job.meeting_id)
                       .values(create_unconfirmed=unconfirmed))
    db.session.commit()


def _send_create(job: Job) -> dict[str, Any]:
    """Create the meeting, noting first that a create is on its way: if the answer is lost
    (or this worker is killed), the next attempt knows to look before creating again."""
    _mark_unconfirmed(job, True)
    try:
        return _zoom(job, lambda c, t: c.create_meeting(t, job.body))
    except NotConnected:
        _mark_unconfirmed(job, False)
        raise
    except ZoomError as error:
        if not (isinstance(error, ZoomUnavailable) and error.maybe_sent):
            _mark_unconfirmed(job, False)  # refused or never sent: nothing was made
        raise


def _create(job: Job) -> Outcome:
    if job.zoom_meeting_id:
        return _update(job)
    if job.maybe_created:
        found = _find_marked(job)
        if found:
            data = _adopt(job, found)
            return Outcome(f"found Zoom meeting {data['id']} from an earlier attempt",
                           MeetingStatus.SCHEDULED, data)
    data = _send_create(job)
    return Outcome(f"created Zoom meeting {data['id']}", MeetingStatus.SCHEDULED, data)


def _update(job: Job) -> Outcome:
    if not job.booking_active:
        return Outcome("booking is cancelled: nothing to update")
    if not job.zoom_meeting_id:
        return _create(job)
    try:
        _zoom(job, lambda c, t: c.update_meeting(t, job.zoom_meeting_id, job.body))
    except MeetingNotFound:
        # The gone meeting is not listed; a marked one is this operation's earlier
        # recreation whose answer was lost.
        found = _find_marked(job) if job.maybe_created else None
        data = _adopt(job, found) if found else _send_create(job)
        note = (f"The Zoom meeting {job.zoom_meeting_id} was gone (deleted in Zoom); "
                f"Lakesis created {data['id']} instead.")
        return Outcome(f"recreated as Zoom meeting {data['id']}", MeetingStatus.SCHEDULED,
                       data, note=note, recreated=True)
    data = _zoom(job, lambda c, t: c.get_meeting(t, job.zoom_meeting_id))
    # A meeting running (or over) in Zoom stays so: an update does not make it "scheduled".
    status = ZOOM_STATUS.get(str(data.get("status")), MeetingStatus.SCHEDULED)
    return Outcome(f"updated Zoom meeting {job.zoom_meeting_id}", status, data)


def _cancel(job: Job) -> Outcome:
    meeting_id = job.zoom_meeting_id
    if not meeting_id and job.maybe_created:
        # A create whose answer was lost (then superseded by this cancel) may have made it.
        found = _find_marked(job)
        meeting_id = found["id"] if found else None
    if not meeting_id:
        return Outcome("no Zoom meeting to delete", MeetingStatus.CANCELLED, clear_links=True)
    try:
        _zoom(job, lambda c, t: c.delete_meeting(t, meeting_id))
    except MeetingNotFound:
        return Outcome("the Zoom meeting was already gone", MeetingStatus.CANCELLED,
                       clear_links=True)
    return Outcome(f"deleted Zoom meeting {meeting_id}", MeetingStatus.CANCELLED,
                   clear_links=True)


def _resync(job: Job) -> Outcome:
    if not job.zoom_meeting_id:
        return Outcome("no Zoom meeting yet: nothing to re-sync")
    try:
        data = _zoom(job, lambda c, t: c.get_meeting(t, job.zoom_meeting_id))
    except MeetingNotFound:
        status = MeetingStatus.DELETED_IN_ZOOM if job.booking_active else MeetingStatus.CANCELLED
        return Outcome("the meeting no longer exists in Zoom", status, clear_links=True,
                       note="Deleted in Zoom: Retry creates a new meeting."
                       if job.booking_active else None)
    status = ZOOM_STATUS.get(str(data.get("status")), MeetingStatus.SCHEDULED)
    return Outcome("re-synced from Zoom", status, data, note=_drift(job, data))


def _drift(job: Job, data: dict[str, Any]) -> str | None:
    zoom_start = _parse_time(data.get("start_time"))
    differences = []
    if zoom_start and zoom_start != job.booking_start:
        differences.append(f"Zoom starts {zoom_start:%Y-%m-%d %H:%M} UTC, the booking "
                           f"{job.booking_start:%Y-%m-%d %H:%M} UTC")
    if data.get("duration") and data["duration"] != job.booking_duration:
        differences.append(f"Zoom lasts {data['duration']} min, the booking "
                           f"{job.booking_duration} min")
    if not differences:
        return None
    return "Changed in Zoom: " + "; ".join(differences) + ". Reschedule to put Zoom right."


HANDLERS: dict[str, Callable[[Job], Outcome]] = {
    OperationKind.CREATE: _create, OperationKind.UPDATE: _update,
    OperationKind.CANCEL: _cancel, OperationKind.RESYNC: _resync,
}


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _job(op: Operation) -> Job:
    booking, meeting = op.booking, op.booking.meeting
    connection = connection_of(booking.workspace)
    body = meeting_body(booking, defaults_for(booking.workspace_id),
                        connection.zoom_email if connection else None)
    return Job(op.id, op.kind, op.attempts, booking.workspace_id,
               booking.state == BookingState.ACTIVE, meeting_marker(booking.public_id), body,
               meeting.zoom_meeting_id, body.get("schedule_for") or "me",
               booking.start_at, booking.duration_minutes, meeting.id,
               meeting.create_unconfirmed)


def execute(op_id: int, worker: str) -> None:
    """Run a claimed operation to one of: succeeded, queued again, waiting, failed, dead."""
    outcome: Outcome | BaseException
    try:
        job = _job(db.session.get(Operation, op_id))
    except Exception as error:  # a bug reading the job must not leave it running forever
        log.exception("operation %s could not be prepared", op_id)
        db.session.rollback()
        job, outcome = None, error
    db.session.commit()
    if job is not None:
        try:
            outcome = HANDLERS[job.kind](job)
        except (ZoomError, NotConnected) as error:
            outcome = error
        except Exception as error:  # a bug must not lose the work: retried, then dead
            log.exception("operation %s failed unexpectedly", op_id)
            outcome = error
    op = db.session.get(Operation, op_id, populate_existing=True)
    if op is None or not outbox.still_mine(op, worker):
        log.warning("operation %s: lease lost before the result was saved", op_id)
        db.session.rollback()
        return
    if isinstance(outcome, Outcome):
        _succeed(op, outcome)
    else:
        _fail(op, outcome)
    db.session.commit()


def _succeed(op: Operation, outcome: Outcome) -> None:
    meeting = op.booking.meeting
    now = utcnow()
    if outcome.status is not None:
        meeting.status = outcome.status.value
    if outcome.zoom:
        data = outcome.zoom
        meeting.zoom_meeting_id = int(data["id"])
        meeting.zoom_uuid = data.get("uuid") or meeting.zoom_uuid
        meeting.join_url = data.get("join_url") or meeting.join_url
        if data.get("start_url"):
            meeting.start_url_enc = token_cipher.encrypt(data["start_url"])
        meeting.synced_start_at = _parse_time(data.get("start_time"))
        meeting.synced_duration = data.get("duration")
    if outcome.clear_links:
        meeting.join_url = meeting.start_url_enc = None
    if outcome.recreated:
        meeting.recreated_count += 1
    meeting.note = outcome.note
    meeting.last_error = None
    meeting.last_synced_at = now
    if op.kind != OperationKind.RESYNC:  # create/update/cancel settled what Zoom holds
        meeting.create_unconfirmed = False
    outbox.release(op, OperationState.SUCCEEDED, outcome=outcome.text)


def _fail(op: Operation, error: BaseException) -> None:
    meeting = op.booking.meeting
    now = utcnow()
    message = str(error) or error.__class__.__name__
    if isinstance(error, NotConnected):
        op.attempts -= 1  # not Zoom's failure: it does not use up an attempt
        outbox.release(op, OperationState.WAITING, error=message)
        meeting.status = MeetingStatus.WAITING_FOR_CONNECTION.value
        meeting.note = "Waiting for Zoom to be connected again; resumes by itself after."
        return
    if isinstance(error, RateLimited) and error.daily:
        op.attempts -= 1
        resume = error.resume_at or next_utc_midnight(now)
        outbox.release(op, OperationState.QUEUED, next_attempt_at=resume, error=message)
        meeting.note = (f"Zoom's daily limit of meeting changes was reached; resumes at "
                        f"{resume:%Y-%m-%d %H:%M} UTC.")
        outbox.park_until(op.workspace_id, resume,
                          (OperationKind.CREATE.value, OperationKind.UPDATE.value), meeting.note)
        return
    if isinstance(error, RateLimited):
        # Zoom's per-second limit: a matter of pacing, not a failure, so no attempt is used
        # up (a burst would otherwise kill work that only had to wait a second).
        op.attempts -= 1
        wait = error.retry_after or random.uniform(1.0, 3.0)  # noqa: S311 - jitter
        resume = now + timedelta(seconds=wait)
        outbox.release(op, OperationState.QUEUED, error=message, next_attempt_at=resume)
        # The limit is the account's: the workspace's other queued work would only be
        # refused too, so every worker holds it back for the same moment.
        outbox.park_until(op.workspace_id, resume, tuple(OperationKind))
        return
    # Zoom down, slow, busy or refusing a just-refreshed token: try again later. Zoom
    # refusing the request itself (validation, 3002, 3003, 1001): an operator decides.
    retryable = isinstance(error, ZoomUnavailable | AccessTokenExpired) or (
        not isinstance(error, ZoomError))
    if isinstance(error, MeetingInProgress):
        message = ("the meeting is in progress in Zoom, so it cannot be deleted now; "
                   f"Retry once it has ended ({message})")
    if retryable and op.attempts < MAX_ATTEMPTS:
        wait = getattr(error, "retry_after", None) or backoff(op.attempts)
        outbox.release(op, OperationState.QUEUED, error=message,
                       next_attempt_at=now + timedelta(seconds=wait))
        meeting.last_error = f"Attempt {op.attempts} failed: {message}"[:500]
        return
    state = OperationState.DEAD if retryable else OperationState.FAILED
    outbox.release(op, state, error=message)
    meeting.status = MeetingStatus.FAILED.value
    prefix = f"Gave up after {op.attempts} attempts: " if retryable else "Zoom refused: "
    meeting.last_error = (prefix + message)[:500]


def run_once(worker: str | None = None) -> bool:
    """Claim and run one due operation; False when there was nothing to do."""
    worker = worker or outbox.worker_id()
    op_id = outbox.claim(worker)
    if op_id is None:
        return False
    execute(op_id, worker)
    return True


def drain(limit: int = 10_000, worker: str | None = None) -> int:
    """Run due operations until none is left (or ``limit``); returns how many ran."""
    done = 0
    while done < limit and run_once(worker):
        done += 1
    return done

