"""Carry out one outbox operation against Zoom, and record what came of it.

No database transaction is held while Zoom is called: the job is read, committed, sent,
and its result written in a new transaction, only if this worker still holds the lease.
What a failure means is decided by ``retry_policy``; how Zoom spells a meeting, by
``zoom.meetings``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

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
from dashboard.services import outbox, retry_policy
from dashboard.services.connections import connection_of
from dashboard.services.meeting_defaults import defaults_for
from dashboard.services.meeting_spec import meeting_spec
from dashboard.services.zoom_session import ZoomSession, zoom_for
from dashboard.services.zoom_tokens import NotConnected
from dashboard.zoom.errors import MeetingNotFound, ZoomError, ZoomUnavailable
from dashboard.zoom.meetings import (
    MeetingSpec,
    ZoomMeeting,
    booking_marker,
    differs,
    find_marked_meeting,
    meeting_body,
    read_meeting,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Job:
    """What one operation needs, read before Zoom is called (no session held after)."""

    kind: OperationKind
    workspace_id: int
    meeting_id: int  # our meetings row
    booking_active: bool
    spec: MeetingSpec
    zoom_meeting_id: int | None
    # A create was sent and its outcome never learned (timeout, 5xx, a killed worker): look
    # for the marker before creating, or when deleting.
    maybe_created: bool = False

    @cached_property
    def body(self) -> dict[str, Any]:
        return meeting_body(self.spec)

    @cached_property
    def zoom(self) -> ZoomSession:
        return zoom_for(self.workspace_id)


@dataclass(frozen=True)
class Outcome:
    text: str
    status: MeetingStatus | None = None
    zoom: ZoomMeeting | None = None
    note: str | None = None
    recreated: bool = False
    clear_links: bool = False


def _find_marked(job: Job) -> ZoomMeeting | None:
    # Through "me" even for another host's meeting: a user-level app may not list another
    # user's meetings (that needs an admin scope), and the scheduler's list has them.
    meetings = job.zoom.list_meetings()
    found = find_marked_meeting(meetings, booking_marker(job.spec.booking_public_id))
    return read_meeting(found) if found else None


def _adopt(job: Job, found: ZoomMeeting) -> ZoomMeeting:
    """A meeting an earlier attempt made: bring it up to the booking's latest values (a
    reschedule collapsed into the queued create while the first answer was lost)."""
    if differs(found, job.body):
        job.zoom.update_meeting(found.id, job.body)
    return job.zoom.get_meeting(found.id)


def _mark_unconfirmed(job: Job, unconfirmed: bool) -> None:
    db.session.execute(update(Meeting).where(Meeting.id == job.meeting_id)
                       .values(create_unconfirmed=unconfirmed))
    db.session.commit()


def _send_create(job: Job) -> ZoomMeeting:
    """Create the meeting, noting first that a create is on its way: if the answer is lost
    (or this worker is killed), the next attempt knows to look before creating again."""
    _mark_unconfirmed(job, True)
    try:
        return job.zoom.create_meeting(job.body)
    except NotConnected:
        _mark_unconfirmed(job, False)
        raise
    except ZoomError as error:
        if not (isinstance(error, ZoomUnavailable) and error.maybe_sent):
            _mark_unconfirmed(job, False)  # refused or never sent: nothing was made
        raise


def _create(job: Job) -> Outcome:
    found = _find_marked(job) if job.maybe_created else None
    if found:
        data = _adopt(job, found)
        return Outcome(f"found Zoom meeting {data.id} from an earlier attempt",
                       MeetingStatus.SCHEDULED, data)
    data = _send_create(job)
    return Outcome(f"created Zoom meeting {data.id}", MeetingStatus.SCHEDULED, data)


def _update(job: Job) -> Outcome:
    try:
        job.zoom.update_meeting(job.zoom_meeting_id, job.body)
    except MeetingNotFound:
        # The gone meeting is not listed; a marked one is this operation's earlier
        # recreation whose answer was lost.
        found = _find_marked(job) if job.maybe_created else None
        data = _adopt(job, found) if found else _send_create(job)
        note = (f"The Zoom meeting {job.zoom_meeting_id} was gone (deleted in Zoom); "
                f"Lakesis created {data.id} instead.")
        return Outcome(f"recreated as Zoom meeting {data.id}", MeetingStatus.SCHEDULED,
                       data, note=note, recreated=True)
    data = job.zoom.get_meeting(job.zoom_meeting_id)
    # A meeting running (or over) in Zoom stays so: an update does not make it "scheduled".
    return Outcome(f"updated Zoom meeting {job.zoom_meeting_id}",
                   MeetingStatus(data.state), data)


def _skip_cancelled(job: Job) -> Outcome:
    return Outcome("booking is cancelled: nothing to update")


def _cancel(job: Job) -> Outcome:
    meeting_id = job.zoom_meeting_id
    if not meeting_id and job.maybe_created:
        # A create whose answer was lost (then superseded by this cancel) may have made it.
        found = _find_marked(job)
        meeting_id = found.id if found else None
    if not meeting_id:
        return Outcome("no Zoom meeting to delete", MeetingStatus.CANCELLED, clear_links=True)
    try:
        job.zoom.delete_meeting(meeting_id)
    except MeetingNotFound:
        return Outcome("the Zoom meeting was already gone", MeetingStatus.CANCELLED,
                       clear_links=True)
    return Outcome(f"deleted Zoom meeting {meeting_id}", MeetingStatus.CANCELLED,
                   clear_links=True)


def _resync(job: Job) -> Outcome:
    if not job.zoom_meeting_id:
        return Outcome("no Zoom meeting yet: nothing to re-sync")
    try:
        data = job.zoom.get_meeting(job.zoom_meeting_id)
    except MeetingNotFound:
        status = MeetingStatus.DELETED_IN_ZOOM if job.booking_active else MeetingStatus.CANCELLED
        return Outcome("the meeting no longer exists in Zoom", status, clear_links=True,
                       note="Deleted in Zoom: Retry creates a new meeting."
                       if job.booking_active else None)
    return Outcome("re-synced from Zoom", MeetingStatus(data.state), data,
                   note=_drift(job, data))


def _drift(job: Job, data: ZoomMeeting) -> str | None:
    zoom_start = data.start_at
    booking_start, booking_duration = job.spec.start_at, job.spec.duration_minutes
    differences = []
    if zoom_start and zoom_start != booking_start:
        differences.append(f"Zoom starts {zoom_start:%Y-%m-%d %H:%M} UTC, the booking "
                           f"{booking_start:%Y-%m-%d %H:%M} UTC")
    if data.duration_minutes and data.duration_minutes != booking_duration:
        differences.append(f"Zoom lasts {data.duration_minutes} min, the booking "
                           f"{booking_duration} min")
    if not differences:
        return None
    return "Changed in Zoom: " + "; ".join(differences) + ". Reschedule to put Zoom right."


def handler_for(job: Job) -> Callable[[Job], Outcome]:
    """Create and update both bring Zoom in line with the booking: update the meeting it
    has, else create one (a cancelled booking's update has nothing to do)."""
    if job.kind == OperationKind.CANCEL:
        return _cancel
    if job.kind == OperationKind.RESYNC:
        return _resync
    if (job.zoom_meeting_id or job.kind == OperationKind.UPDATE) and not job.booking_active:
        return _skip_cancelled
    return _update if job.zoom_meeting_id else _create


def _job(op: Operation) -> Job:
    booking, meeting = op.booking, op.booking.meeting
    connection = connection_of(booking.workspace)
    spec = meeting_spec(booking, defaults_for(booking.workspace_id),
                        connection.zoom_email if connection else None)
    return Job(kind=OperationKind(op.kind), workspace_id=booking.workspace_id,
               meeting_id=meeting.id, booking_active=booking.state == BookingState.ACTIVE,
               spec=spec, zoom_meeting_id=meeting.zoom_meeting_id,
               maybe_created=meeting.create_unconfirmed)


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
            outcome = handler_for(job)(job)
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
    if outcome.status is not None:
        meeting.status = outcome.status.value
    if outcome.zoom:
        _keep_zoom_copy(meeting, outcome.zoom)
    if outcome.clear_links:
        meeting.join_url = meeting.start_url_enc = None
    if outcome.recreated:
        meeting.recreated_count += 1
    meeting.note = outcome.note
    meeting.last_error = None
    meeting.last_synced_at = utcnow()
    if op.kind != OperationKind.RESYNC:  # create/update/cancel settled what Zoom holds
        meeting.create_unconfirmed = False
    outbox.release(op, OperationState.SUCCEEDED, outcome=outcome.text)


def _keep_zoom_copy(meeting: Meeting, data: ZoomMeeting) -> None:
    """What Zoom now holds for the meeting (its start_url, the host's key, encrypted)."""
    meeting.zoom_meeting_id = data.id
    meeting.zoom_uuid = data.uuid or meeting.zoom_uuid
    meeting.join_url = data.join_url or meeting.join_url
    if data.start_url:
        meeting.start_url_enc = token_cipher.encrypt(data.start_url)
    meeting.synced_start_at = data.start_at
    meeting.synced_duration = data.duration_minutes


def _fail(op: Operation, error: BaseException) -> None:
    decision = retry_policy.decide(error, op.attempts, utcnow())
    if decision.refund_attempt:
        op.attempts -= 1
    outbox.release(op, decision.state, error=decision.error,
                   next_attempt_at=decision.next_attempt_at)
    meeting = op.booking.meeting
    if decision.meeting_status is not None:
        meeting.status = decision.meeting_status.value
    if decision.meeting_note is not None:
        meeting.note = decision.meeting_note
    if decision.meeting_error is not None:
        meeting.last_error = decision.meeting_error
    hold = decision.hold
    if hold is not None:
        host = None
        if hold.same_host:
            connection = connection_of(op.booking.workspace)
            host = outbox.Host.of_booking(op.booking, connection.zoom_email if connection
                                          else None)
        outbox.park_until(op.workspace_id, hold.until, hold.kinds, hold.note, host=host)


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

