"""Bulk actions: Retry all failed and Re-sync upcoming from the sync health page; Retry,
Re-sync and Cancel of the bookings ticked in the bookings table (``bulk_selection`` says
which of those each covers, and why it skips the others).

Starting one fixes the bookings it covers and shows, per Zoom host, how much of the day's
cap of meeting changes it uses (``daily_budget``): a host's share is cut to what that host
has left, and confirming a plan that changed since it was shown is refused, so a job never
spends more than the operator saw. The worker then runs it in chunks (``run_chunk``), each
booking through the same service call as its own Retry or Re-sync button.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, select, update

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    BookingState,
    BulkJob,
    BulkJobKind,
    Meeting,
    MeetingStatus,
    Operation,
    OperationState,
    User,
    Workspace,
)
from dashboard.orm import utcnow
from dashboard.services import ServiceError, bookings, bulk_selection, daily_budget
from dashboard.services.audit import Actor, record
from dashboard.services.connections import connection_of
from dashboard.services.unit_of_work import transaction

log = logging.getLogger(__name__)
MAX_BOOKINGS = 500  # one job's bookings; more wait for the next one
CHUNK = 25
UPCOMING = timedelta(days=14)
#: A job whose every chunk was handed out but not all counted this long after it began:
#: a worker died between taking a chunk and counting it. It is closed, the uncounted
#: bookings as errors, so its bar does not poll for ever (a retry shows what is left).
ABANDONED = timedelta(minutes=10)
TITLES = {BulkJobKind.RETRY_FAILED: "Retry all failed",
          BulkJobKind.RESYNC_UPCOMING: "Re-sync upcoming",
          BulkJobKind.RETRY_SELECTED: "Retry selected",
          BulkJobKind.RESYNC_SELECTED: "Re-sync selected",
          BulkJobKind.CANCEL_SELECTED: "Cancel selected"}
SELECTED = frozenset(bulk_selection.ACTION_OF)
# Kinds whose work creates or updates meetings: what Zoom's daily cap counts. A re-sync
# only reads, and a cancel deletes (Zoom caps creates and updates, not deletes).
CAPPED = frozenset({BulkJobKind.RETRY_FAILED, BulkJobKind.RETRY_SELECTED})


@dataclass(frozen=True)
class HostShare:
    label: str
    uses: int  # changes this job makes for the host today
    remaining: int  # what the host has left today before it
    left_out: int  # bookings of the host left for after 00:00 UTC


@dataclass(frozen=True)
class Plan:
    kind: BulkJobKind
    booking_ids: list[int]
    shares: list[HostShare] = field(default_factory=list)
    not_capped: int = 0  # bookings whose work is not a meeting change (cancels, reads)
    more: bool = False  # more bookings than one job takes
    skipped: list[bulk_selection.Skipped] = field(default_factory=list)  # selected, not taken

    @property
    def token(self) -> str:
        """Names exactly what was shown: confirming checks the plan is still this one."""
        text = f"{self.kind}:{','.join(map(str, self.booking_ids))}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def uses(self) -> int:
        return sum(share.uses for share in self.shares)


def _retry_candidates(workspace_id: int) -> list[Booking]:
    # The bookings whose Retry button shows: Zoom work gave up, or Zoom lost the meeting.
    return list(db.session.scalars(
        select(Booking).join(Booking.meeting).where(
            Meeting.workspace_id == workspace_id,
            Meeting.status.in_((MeetingStatus.FAILED, MeetingStatus.DELETED_IN_ZOOM)),
            ~select(Operation.id).where(Operation.booking_id == Booking.id,
                                        Operation.state.in_(OperationState.CLAIMABLE)).exists())
        .order_by(Booking.start_at, Booking.id).limit(MAX_BOOKINGS + 1)).unique())


def _resync_candidates(workspace_id: int, now: datetime) -> list[Booking]:
    return list(db.session.scalars(
        select(Booking).join(Booking.meeting).where(
            Booking.workspace_id == workspace_id, Booking.state == BookingState.ACTIVE,
            Booking.start_at >= now, Booking.start_at < now + UPCOMING,
            Meeting.zoom_meeting_id.is_not(None), Meeting.status == MeetingStatus.SCHEDULED)
        .order_by(Booking.start_at, Booking.id).limit(MAX_BOOKINGS + 1)).unique())


def _changes_meeting(booking: Booking) -> bool:
    """Whether a retry of it creates or updates a meeting (what the daily cap counts), as
    ``bookings.retry`` decides; a cancelled booking's retry is a delete."""
    return booking.state != BookingState.CANCELLED


def plan(workspace: Workspace, kind: BulkJobKind, now: datetime | None = None,
         selected: list[int] | None = None) -> Plan:
    """What the job would do now, and what it costs each host's daily cap. The selected
    kinds act on ``selected`` (booking ids ticked by the operator), the others find their
    bookings themselves."""
    now = now or utcnow()
    skipped: list[bulk_selection.Skipped] = []
    if kind in SELECTED:
        found, skipped = bulk_selection.choose(workspace, kind, selected or [], MAX_BOOKINGS)
    elif kind is BulkJobKind.RESYNC_UPCOMING:
        found = _resync_candidates(workspace.id, now)
    else:
        found = _retry_candidates(workspace.id)
    more = len(found) > MAX_BOOKINGS
    found = found[:MAX_BOOKINGS]
    if kind not in CAPPED:
        # A re-sync reads the meeting (a List/Get call) and a cancel deletes it: neither
        # spends the daily cap.
        return Plan(kind, [b.id for b in found], [], len(found), more, skipped)
    return _budgeted(workspace, kind, found, now, more, skipped)


def _budgeted(workspace: Workspace, kind: BulkJobKind, found: list[Booking], now: datetime,
              more: bool, skipped: list[bulk_selection.Skipped]) -> Plan:
    """A retry's plan: each host's changes cut to what the host has left today."""
    connection = connection_of(workspace)
    connected = connection.zoom_email if connection else None
    budgets = daily_budget.use_today(workspace.id, connection, now)
    taken: list[int] = []
    per_host: dict[str, list[int]] = {}
    left_out: dict[str, int] = {}
    not_capped = 0
    for booking in found:
        if not _changes_meeting(booking):
            taken.append(booking.id)
            not_capped += 1
            continue
        key = daily_budget.host_key(booking.host_email, connected)
        budget = daily_budget.of_host(budgets, key, connected, now)
        share = per_host.setdefault(key, [])
        if len(share) < budget.remaining:
            share.append(booking.id)
            taken.append(booking.id)
        else:
            left_out[key] = left_out.get(key, 0) + 1
    shares = [HostShare(daily_budget.of_host(budgets, key, connected, now).label,
                        len(per_host.get(key, [])),
                        daily_budget.of_host(budgets, key, connected, now).remaining,
                        left_out.get(key, 0))
              for key in sorted(set(per_host) | set(left_out))]
    return Plan(kind, sorted(taken), shares, not_capped, more, skipped)


def start(workspace: Workspace, user: User, kind: BulkJobKind, token: str,
          selected: list[int] | None = None) -> BulkJob:
    """Start the job the operator confirmed; refused if the plan is no longer what they saw."""
    current = plan(workspace, kind, selected=selected)
    if token != current.token:
        raise ServiceError("What this would do has changed since it was shown (other work "
                           "ran meanwhile); check the new numbers and confirm again.",
                           "token", 409)
    if not current.booking_ids:
        raise ServiceError("There is nothing to do.", None, 409)
    with transaction():
        job = BulkJob(workspace_id=workspace.id, kind=kind.value,
                      booking_ids=current.booking_ids, total=len(current.booking_ids),
                      budget={s.label: [s.uses, s.remaining] for s in current.shares},
                      requested_by_id=user.id, requested_by=user.email)
        db.session.add(job)
        db.session.flush()
        record(workspace.id, Actor.of_user(user), f"bulk.{kind.value}",
               ("bulk_job", job.id, TITLES[kind]), bookings=job.total,
               budget=job.budget, skipped=len(current.skipped))
    return job


def recent(workspace_id: int, limit: int = 3) -> list[BulkJob]:
    return list(db.session.scalars(select(BulkJob).where(BulkJob.workspace_id == workspace_id)
                                   .order_by(BulkJob.id.desc()).limit(limit)))


def unfinished(workspace_id: int, kinds: frozenset[BulkJobKind],
               also: int | None = None) -> list[BulkJob]:
    """The workspace's running jobs of ``kinds`` (and job ``also``, however it stands),
    oldest first: a page shows their bars again after a reload."""
    shown = BulkJob.finished_at.is_(None)
    if also is not None:
        shown = shown | (BulkJob.id == also)
    return list(db.session.scalars(select(BulkJob).where(
        BulkJob.workspace_id == workspace_id, BulkJob.kind.in_([k.value for k in kinds]), shown)
        .order_by(BulkJob.id).limit(10)))


def get(workspace_id: int, job_id: int) -> BulkJob | None:
    job = db.session.get(BulkJob, job_id)
    return job if job is not None and job.workspace_id == workspace_id else None


def _claim(job: BulkJob, size: int) -> tuple[int, int] | None:
    """Take the job's next chunk: a compare-and-set on ``claimed``, so two workers never
    take the same bookings."""
    start_at, end = job.claimed, min(job.total, job.claimed + size)
    taken = db.session.execute(update(BulkJob).where(BulkJob.id == job.id,
                                                     BulkJob.claimed == start_at)
                               .values(claimed=end))
    db.session.commit()
    return (start_at, end) if taken.rowcount == 1 else None


def _one(job: BulkJob, workspace: Workspace, actor: Actor, booking_id: int) -> str | None:
    """Do the job's work for one booking; the reason if it could not be done."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.workspace_id != workspace.id:
        return "the booking no longer exists"
    try:
        _WORK[BulkJobKind(job.kind)](workspace, actor, booking)
    except ServiceError as error:
        return f"{booking.external_ref}: {error.message}"
    return None


# Each kind's work on one booking: the service call its own button makes.
_WORK = {BulkJobKind.RETRY_FAILED: bookings.retry, BulkJobKind.RETRY_SELECTED: bookings.retry,
         BulkJobKind.RESYNC_UPCOMING: bookings.resync,
         BulkJobKind.RESYNC_SELECTED: bookings.resync,
         BulkJobKind.CANCEL_SELECTED: bookings.cancel}


def _close_abandoned(now: datetime) -> None:
    abandoned = and_(BulkJob.finished_at.is_(None), BulkJob.claimed >= BulkJob.total,
                     BulkJob.created_at < now - ABANDONED)
    # A read first: the idle worker asks every second, and must not write every second.
    if db.session.scalar(select(BulkJob.id).where(abandoned).limit(1)) is None:
        db.session.commit()
        return
    db.session.execute(update(BulkJob).where(abandoned).values(
        errors=BulkJob.total - BulkJob.done, finished_at=now,
        last_error="a worker stopped before counting part of it; starting it again "
                   "shows what is left"))
    db.session.commit()


def run_chunk(size: int = CHUNK) -> bool:
    """Run the next chunk of the oldest unfinished job; False when there was none."""
    job = db.session.scalar(select(BulkJob).where(BulkJob.finished_at.is_(None),
                                                  BulkJob.claimed < BulkJob.total)
                            .order_by(BulkJob.id).limit(1))
    if job is None:
        _close_abandoned(utcnow())
        return False
    chunk = _claim(job, size)
    if chunk is None:
        return True  # another worker took it: there is more to look at
    workspace = db.session.get(Workspace, job.workspace_id)
    actor = Actor("user", job.requested_by_id, job.requested_by)
    done = errors = 0
    last_error = None
    for booking_id in job.booking_ids[chunk[0]:chunk[1]]:
        try:
            reason = _one(job, workspace, actor, booking_id)
        except Exception as error:  # one booking's failure never stops the job
            db.session.rollback()
            log.warning("bulk job %s: booking %s failed: %s", job.id, booking_id,
                        type(error).__name__)
            reason = "an unexpected error; see the logs"
        if reason is None:
            done += 1
        else:
            errors += 1
            last_error = reason[:300]
    over = BulkJob.done + BulkJob.errors + done + errors >= BulkJob.total
    values = {"done": BulkJob.done + done, "errors": BulkJob.errors + errors,
              "finished_at": case((and_(over, BulkJob.finished_at.is_(None)), utcnow()),
                                  else_=BulkJob.finished_at)}
    if last_error:
        values["last_error"] = last_error
    db.session.execute(update(BulkJob).where(BulkJob.id == job.id).values(**values))
    db.session.commit()
    return True
