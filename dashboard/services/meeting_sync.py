"""Carry out one outbox operation against Zoom, and record what came of it.

No database transaction is held while Zoom is called: the job is read, committed, sent
(``meeting_handlers``), and its result written in a new transaction, only if this worker
still holds the lease. What a failure means is decided by ``retry_policy``; how Zoom
spells a meeting, by ``zoom.meetings``.

A create whose answer was lost (``Meeting.create_unconfirmed``) may still make a meeting,
even after the retry made another: until that is settled, the flag stays set, so every
operation of the booking looks for the booking's marker, and a re-sync due a minute later
looks again (``LATE_COPY_LOOKS`` times) and deletes any copy that is not the booking's
meeting.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dashboard import log_format, token_cipher
from dashboard.extensions import db
from dashboard.models import (
    BookingState,
    ConnectionStatus,
    DriftSource,
    Meeting,
    MeetingStatus,
    Operation,
    OperationKind,
    OperationState,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import (
    drift,
    echoes,
    meeting_events,
    meeting_lookup,
    outbox,
    retry_policy,
)
from dashboard.services.audit import Actor, record
from dashboard.services.connections import connection_of
from dashboard.services.meeting_defaults import defaults_for
from dashboard.services.meeting_handlers import Job, Outcome, handler_for
from dashboard.services.meeting_spec import meeting_spec
from dashboard.services.zoom_tokens import NotConnected
from dashboard.zoom.errors import RateLimited, ZoomError
from dashboard.zoom.meetings import MarkerLookup, ZoomMeeting

log = logging.getLogger(__name__)
#: Who asks for the looks for late copies, in a booking's history.
LATE_COPY_CHECK = "Lakesis (looking for late copies of the meeting)"


def _job(op: Operation) -> Job:
    booking, meeting = op.booking, op.booking.meeting
    connection = connection_of(booking.workspace)
    spec = meeting_spec(booking, defaults_for(booking.workspace_id),
                        connection.zoom_email if connection else None)
    connected_user = connection.zoom_user_id if connection else None
    # Zoom makes the schedule_for user the host: we know that one's email, not its Zoom id.
    lookup = MarkerLookup(booking_public_id=booking.public_id, made_since=booking.created_at,
                          host_id=None if spec.schedule_for else connected_user,
                          not_host_id=connected_user if spec.schedule_for else None)
    return Job(kind=OperationKind(op.kind), workspace_id=booking.workspace_id,
               booking_id=booking.id, meeting_id=meeting.id,
               booking_active=booking.state == BookingState.ACTIVE, spec=spec,
               zoom_meeting_id=meeting.zoom_meeting_id, lookup=lookup,
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
    try:
        _save(op_id, worker, job, outcome)
    except IntegrityError:
        # Zoom's answer names a meeting another booking holds (the unique index said so):
        # refused, never a 500 or an operation left running.
        db.session.rollback()
        if job is None or not isinstance(outcome, Outcome) or outcome.zoom is None:
            raise
        ref = meeting_lookup.holders(job.workspace_id, [outcome.zoom.id]).get(outcome.zoom.id)
        log.warning("operation %s: Zoom meeting %s already belongs to booking %s", op_id,
                    outcome.zoom.id, ref)
        holder = f"booking {ref}" if ref else "another booking"
        _save(op_id, worker, job, retry_policy.Refused(
            f"Zoom meeting {outcome.zoom.id} already belongs to {holder}; Lakesis did not "
            "take it over."))


def _save(op_id: int, worker: str, job: Job | None, outcome: Outcome | BaseException) -> None:
    """Write the result in one transaction, if this worker still holds the lease."""
    if job is not None:
        # The booking's lock first, as a booking change takes it: the two never deadlock,
        # and an Operation enqueued meanwhile sees this one settled.
        outbox.lock(job.booking_id)
    op = db.session.get(Operation, op_id, populate_existing=True)
    if op is None or not outbox.still_mine(op, worker):
        log.warning("operation %s: lease lost before the result was saved", op_id)
        db.session.rollback()
        return
    if isinstance(outcome, Outcome) and job is not None:
        _succeed(op, outcome, job)
    else:
        _fail(op, outcome)
    said = (op.kind, op.state, op.outcome if op.state == OperationState.SUCCEEDED
            else op.last_error)
    db.session.commit()
    log.info("operation %s %s: %s (%s)", op_id, *said)


def _settle_seconds() -> float:
    return float(current_app.config.get("ZOOM_CREATE_SETTLE_SECONDS",
                                        retry_policy.CREATE_SETTLE_SECONDS))


def _succeed(op: Operation, outcome: Outcome, job: Job) -> None:
    meeting = op.booking.meeting
    was_deleted = meeting.status == MeetingStatus.DELETED_IN_ZOOM
    old_link = meeting.join_url or drift.deleted_link(op.booking_id)
    # A meeting deleted in Zoom has lost its link; the workflow is told the one it had.
    before = replace(meeting_events.Before.of(meeting), join_url=old_link)
    if outcome.status is not None and outcome.status != MeetingStatus.DELETED_IN_ZOOM:
        meeting.status = outcome.status.value
    if outcome.zoom:
        _keep_zoom_copy(meeting, outcome.zoom)
        if old_link and meeting.join_url and meeting.join_url != old_link:
            _link_changed(op, meeting, old_link)
    if outcome.clear_links:
        meeting.join_url = meeting.start_url_enc = None
    if outcome.recreated:
        meeting.recreated_count += 1
    meeting.note = outcome.note
    _settle_drift(op, outcome, was_deleted)
    if outcome.copies:
        meeting.note = (f"Lakesis deleted {_meetings(outcome.copies)} carrying this "
                        "booking's marker, made by a create whose answer was lost. "
                        f"{meeting.note or ''}").strip()[:500]
        for copy in outcome.copies:
            record(op.workspace_id, Actor.system(), "meeting.copy_deleted",
                   ("booking", op.booking_id, op.booking.external_ref), zoom_meeting_id=copy)
    meeting.last_error = meeting.error_code = meeting.tracking_id = None
    meeting.last_synced_at = utcnow()
    meeting_events.settled(OperationKind(op.kind), op.booking, before, outcome.zoom)
    if job.maybe_created:
        _look_again_later(op, outcome, utcnow() + timedelta(seconds=_settle_seconds()))
        return
    if op.kind != OperationKind.RESYNC:  # create/update/cancel settled what Zoom holds
        meeting.create_unconfirmed = False
    outbox.release(op, OperationState.SUCCEEDED, outcome=outcome.text)


def _settle_drift(op: Operation, outcome: Outcome, was_deleted: bool) -> None:
    """What the result says about drift: a push (create/update) or a cancel settles it; a
    read-back records what it found, unless newer work of ours is on its way."""
    meeting = op.booking.meeting
    if outcome.status == MeetingStatus.DELETED_IN_ZOOM:
        if not was_deleted:
            drift.note_deleted(meeting, DriftSource.RECONCILE)
        return
    if op.kind == OperationKind.CANCEL:
        if outcome.status == MeetingStatus.CANCELLED:
            drift.settle_after_push(op.booking, "Lakesis")
        return
    if op.kind in (OperationKind.CREATE, OperationKind.UPDATE):
        if outcome.zoom is not None:
            claimed = (op.lease_until - outbox.lease()) if op.lease_until else utcnow()
            pushed = echoes.last_sent_at(meeting.id, claimed) or claimed
            drift.settle_after_push(op.booking, "Lakesis", pushed)
        return
    if outcome.zoom is not None and not _pushes_waiting(op):
        drift.note_change(meeting, drift.listed_values(outcome.zoom.raw), DriftSource.RECONCILE)


def _pushes_waiting(op: Operation) -> bool:
    return db.session.scalar(select(func.count()).select_from(Operation).where(
        Operation.booking_id == op.booking_id, Operation.id != op.id,
        Operation.kind != OperationKind.RESYNC,
        Operation.state.in_(OperationState.UNFINISHED))) > 0


def _link_changed(op: Operation, meeting: Meeting, old_link: str | None) -> None:
    """A new meeting replaced the booking's: its join link is new, and the booking says so."""
    meeting.previous_join_url = old_link
    meeting.join_url_changed_at = utcnow()
    record(op.workspace_id, Actor.system(), "meeting.join_link_changed",
           ("booking", op.booking_id, op.booking.external_ref),
           old_join_url=old_link, new_join_url=meeting.join_url,
           zoom_meeting_id=meeting.zoom_meeting_id)


def _meetings(ids: tuple[int, ...]) -> str:
    return ("Zoom meeting " if len(ids) == 1 else "Zoom meetings ") + ", ".join(map(str, ids))


def _look_again_later(op: Operation, outcome: Outcome, due: datetime) -> None:
    """A lost create may still make a meeting (Zoom has committed one 20 s late): the
    booking's unconfirmed create stays set, and a re-sync looks for copies again at
    ``due``; after ``LATE_COPY_LOOKS`` such looks since the booking's last change in
    Zoom, the create is taken as settled."""
    outbox.release(op, OperationState.SUCCEEDED, outcome=outcome.text)
    if op.kind == OperationKind.RESYNC and _looks_made(op) >= retry_policy.LATE_COPY_LOOKS:
        op.booking.meeting.create_unconfirmed = False
        return
    outbox.enqueue(op.booking, OperationKind.RESYNC, LATE_COPY_CHECK, due=due)


def _looks_made(op: Operation) -> int:
    of_booking = Operation.booking_id == op.booking_id
    last_change = (select(func.max(Operation.id))
                   .where(of_booking, Operation.kind != OperationKind.RESYNC).scalar_subquery())
    return db.session.scalar(select(func.count()).select_from(Operation).where(
        of_booking, Operation.kind == OperationKind.RESYNC,
        Operation.requested_by == LATE_COPY_CHECK,
        Operation.id > func.coalesce(last_change, 0)))


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
    config = current_app.config
    decision = retry_policy.decide(
        error, op.attempts, utcnow(), settle_seconds=_settle_seconds(),
        backoff_seconds=(config.get("RETRY_BASE_SECONDS", retry_policy.BASE_DELAY),
                         config.get("RETRY_MAX_SECONDS", retry_policy.MAX_DELAY)))
    if decision.state is OperationState.WAITING and _connected_now(op.workspace_id):
        # Reconnected while this ran: the reconnect's resume_waiting could not see this
        # operation (it was running), so parking it would leave it waiting for good.
        decision = replace(decision, state=OperationState.QUEUED, next_attempt_at=utcnow(),
                           meeting_status=None, meeting_note=None)
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
    code, tracking = _zoom_ids(error)
    op.error_code, op.tracking_id = code, tracking
    if code is not None or decision.meeting_error is not None:
        # Kept until the meeting's next success: what the page explains meanwhile.
        meeting.error_code, meeting.tracking_id = code, tracking
    if decision.state in OperationState.GAVE_UP:
        meeting_events.gave_up(op.booking, decision.meeting_error or decision.error, error,
                               retryable=decision.state == OperationState.DEAD)
    hold = decision.hold
    if hold is not None:
        host = None
        if hold.same_host:
            connection = connection_of(op.booking.workspace)
            host = outbox.Host.of_booking(op.booking, connection.zoom_email if connection
                                          else None)
        outbox.park_until(op.workspace_id, hold.until, hold.kinds, hold.note, host=host)


def _zoom_ids(error: BaseException) -> tuple[str | None, str | None]:
    """Zoom's code (or, for a rate limit, "daily-cap"/"429") and tracking id of a failure."""
    if isinstance(error, RateLimited):
        return ("daily-cap" if error.daily else "429"), error.tracking_id
    if isinstance(error, ZoomError):
        code = error.code if error.code is not None else error.status
        return (str(code)[:32] if code is not None else None), error.tracking_id
    if isinstance(error, NotConnected):
        return "not-connected", None
    return None, None


def _connected_now(workspace_id: int) -> bool:
    """Whether the workspace's connection is connected as of now, read under a share lock:
    a reconnect that has changed the row but not committed is waited for (it then resumes
    what this transaction parks), and one that has committed is seen."""
    status = db.session.scalar(
        select(ZoomConnection.status).where(ZoomConnection.workspace_id == workspace_id)
        .with_for_update(read=True))
    return status == ConnectionStatus.CONNECTED


def run_once(worker: str | None = None) -> bool:
    """Claim and run one due operation; False when there was nothing to do."""
    worker = worker or outbox.worker_id()
    op_id = outbox.claim(worker)
    if op_id is None:
        return False
    with log_format.operation(op_id):
        execute(op_id, worker)
    return True


def drain(limit: int = 10_000, worker: str | None = None) -> int:
    """Run due operations until none is left (or ``limit``); returns how many ran."""
    done = 0
    while done < limit and run_once(worker):
        done += 1
    return done

