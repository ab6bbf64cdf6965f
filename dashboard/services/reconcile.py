"""Reconciliation: read the upcoming meetings back from Zoom and find what webhooks missed.

One pass per workspace, host by host: List meetings (a Medium call, paged; never the
hosts' daily create/update budget) through the connected user, or through another host's
own list; where Zoom refuses that list (a user-level app may not list another user's
meetings), each of that host's meetings is read on its own (Light calls). A meeting the
booking expects but Zoom does not list is read once more before it is called deleted.

Zoom's rate limit stops the pass (recorded: it is ``stopped``), never waits inside it. A
booking with our own work on its way is skipped: that work brings Zoom in line anyway.
Each run is a :class:`~dashboard.models.ReconcileRun` with its counts, so the health page
can say when the last pass ran, how long it took and what it found.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, or_, select, update

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    BookingState,
    ConnectionStatus,
    DriftSource,
    Meeting,
    MeetingStatus,
    Operation,
    OperationKind,
    OperationState,
    ReconcileRun,
    RunState,
    Workspace,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import drift, outbox
from dashboard.services.connections import connection_of
from dashboard.services.zoom_session import ZoomSession, zoom_for
from dashboard.services.zoom_tokens import NotConnected
from dashboard.zoom.errors import MeetingNotFound, MissingScope, RateLimited, ZoomError

log = logging.getLogger(__name__)
ME = "me"
#: meetings still to come that a pass compares (Zoom's "upcoming" list holds them)
_CHECKED = (MeetingStatus.SCHEDULED.value,)


#: a pass "running" longer than this lost its worker (killed mid-pass): it counts as failed
STALE_AFTER = timedelta(minutes=15)


class _Stop(Exception):
    """The pass cannot go on (Zoom's rate limit, no connection): recorded as stopped."""


def request_run(workspace_id: int, requested_by: str, trigger: str = "button"
                ) -> ReconcileRun:
    """Ask for a pass (a worker runs it); one already asked for or running is returned
    instead of adding another. Commits."""
    open_run = latest(workspace_id, open_only=True)
    if open_run is not None:
        return open_run
    run = ReconcileRun(workspace_id=workspace_id, trigger=trigger, requested_at=utcnow(),
                       requested_by=requested_by[:254], state=RunState.QUEUED.value)
    db.session.add(run)
    db.session.commit()
    return run


def _live() -> ColumnElement[bool]:
    return or_(ReconcileRun.state == RunState.QUEUED,
               and_(ReconcileRun.state == RunState.RUNNING,
                    ReconcileRun.started_at >= utcnow() - STALE_AFTER))


def latest(workspace_id: int, *, open_only: bool = False) -> ReconcileRun | None:
    """The newest pass of the workspace (``open_only``: one queued, or running and not
    stale)."""
    query = select(ReconcileRun).where(ReconcileRun.workspace_id == workspace_id)
    if open_only:
        query = query.where(_live())
    return db.session.scalar(query.order_by(ReconcileRun.id.desc()).limit(1))


def last_finished(workspace_id: int) -> ReconcileRun | None:
    return db.session.scalar(select(ReconcileRun).where(
        ReconcileRun.workspace_id == workspace_id,
        ReconcileRun.state.not_in(RunState.OPEN)).order_by(ReconcileRun.id.desc()).limit(1))


def _fail_stale() -> None:
    db.session.execute(update(ReconcileRun).where(
        ReconcileRun.state == RunState.RUNNING,
        ReconcileRun.started_at < utcnow() - STALE_AFTER).values(
        state=RunState.FAILED.value, finished_at=utcnow(),
        error="the worker stopped during the pass"))
    db.session.commit()


def reconcile_workspace(workspace_id: int, trigger: str = "cli",
                        requested_by: str = "Lakesis") -> ReconcileRun:
    """Run one pass now (in this process) and return its record."""
    run = ReconcileRun(workspace_id=workspace_id, trigger=trigger, requested_at=utcnow(),
                       requested_by=requested_by[:254], state=RunState.RUNNING.value,
                       started_at=utcnow())
    db.session.add(run)
    db.session.commit()
    return _run(run.id)


def run_queued(limit: int = 5) -> int:
    """Run passes asked for (the button), each taken by one worker; returns how many ran."""
    _fail_stale()
    done = 0
    while done < limit:
        run_id = db.session.scalar(select(ReconcileRun.id).where(
            ReconcileRun.state == RunState.QUEUED).order_by(ReconcileRun.id).limit(1))
        if run_id is None:
            break
        taken = db.session.execute(update(ReconcileRun).where(
            ReconcileRun.id == run_id, ReconcileRun.state == RunState.QUEUED).values(
            state=RunState.RUNNING.value, started_at=utcnow()))
        db.session.commit()
        if taken.rowcount == 1:
            _run(run_id)
            done += 1
    db.session.commit()
    return done


def queue_due(interval: timedelta) -> int:
    """Ask for a pass of every connected workspace whose last one is older than
    ``interval`` (the worker's periodic pass); returns how many were asked for."""
    last = (select(ReconcileRun.workspace_id, func.max(ReconcileRun.requested_at).label("at"))
            .group_by(ReconcileRun.workspace_id).subquery())
    due = db.session.scalars(
        select(ZoomConnection.workspace_id)
        .outerjoin(last, last.c.workspace_id == ZoomConnection.workspace_id)
        .where(ZoomConnection.status == ConnectionStatus.CONNECTED,
               (last.c.at.is_(None)) | (last.c.at < utcnow() - interval))).all()
    db.session.commit()
    for workspace_id in due:
        request_run(workspace_id, "Lakesis (periodic reconciliation)", trigger="worker")
    return len(due)


def interval() -> timedelta | None:
    seconds = current_app.config.get("RECONCILE_INTERVAL_SECONDS", 0)
    return timedelta(seconds=seconds) if seconds else None


# --- one pass ---------------------------------------------------------------------------

def _upcoming(workspace_id: int) -> dict[str | None, list[tuple[int, int]]]:
    """(booking id, Zoom meeting id) of the bookings to compare, by host (None: the
    connected user)."""
    workspace = db.session.get(Workspace, workspace_id)
    connection = connection_of(workspace)
    connected = connection.zoom_email if connection else None
    rows = db.session.execute(
        select(Booking, Meeting.zoom_meeting_id).join(Meeting, Meeting.booking_id == Booking.id)
        .where(Booking.workspace_id == workspace_id, Booking.state == BookingState.ACTIVE,
               Meeting.status.in_(_CHECKED), Meeting.zoom_meeting_id.is_not(None),
               Booking.start_at > utcnow() - timedelta(hours=24))
        .order_by(Booking.start_at, Booking.id)).all()
    hosts: dict[str | None, list[tuple[int, int]]] = defaultdict(list)
    for booking, zoom_id in rows:
        if booking.start_at + timedelta(minutes=booking.duration_minutes) <= utcnow():
            continue  # over: Zoom's upcoming list no longer holds it
        hosts[outbox.Host.of_booking(booking, connected).email].append((booking.id, zoom_id))
    return hosts


def _run(run_id: int) -> ReconcileRun:
    run = db.session.get(ReconcileRun, run_id)
    zoom = zoom_for(run.workspace_id)
    try:
        hosts = _upcoming(run.workspace_id)
        run.hosts_total = len(hosts)
        db.session.commit()
        for host, expected in hosts.items():
            _host_pass(run, zoom, host, expected)
            run.hosts_done += 1
            db.session.commit()
        _finish(run, RunState.SUCCEEDED)
    except _Stop as stop:
        db.session.rollback()
        _finish(db.session.get(ReconcileRun, run_id), RunState.STOPPED, str(stop))
    except Exception as error:  # a bug must not leave the run "running" for good
        log.exception("reconcile run %s failed", run_id)
        db.session.rollback()
        _finish(db.session.get(ReconcileRun, run_id), RunState.FAILED,
                f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    return db.session.get(ReconcileRun, run_id)


def _finish(run: ReconcileRun, state: RunState, error: str | None = None) -> None:
    run.state = state.value
    run.finished_at = utcnow()
    run.error = error[:500] if error else None
    db.session.commit()
    log.info("reconcile run %s of workspace %s %s: %s checked, %s drift, %s deleted",
             run.id, run.workspace_id, state, run.meetings_checked, run.drift_found,
             run.deleted_found)


def _call(run: ReconcileRun, request: Any) -> Any:
    run.zoom_calls += 1
    try:
        return request()
    except RateLimited as error:
        when = f"; Zoom allows more from {error.resume_at:%H:%M} UTC" if error.resume_at else ""
        raise _Stop(f"stopped by Zoom's rate limit{when}") from error
    except NotConnected as error:
        raise _Stop(f"Zoom is not connected: {error}") from error


def _host_pass(run: ReconcileRun, zoom: ZoomSession, host: str | None,
               expected: list[tuple[int, int]]) -> None:
    try:
        listed = {int(item["id"]): item for item in _call(
            run, lambda: zoom.list_meetings(host or ME)) if item.get("id") is not None}
    except ZoomError as error:
        if not isinstance(error, MissingScope):
            log.warning("reconcile: listing %s's meetings failed: %s", host or ME, error)
        listed = None  # read each meeting on its own
    ids = [booking_id for booking_id, _ in expected]
    values = {booking.id: drift.booking_values(booking) for booking in db.session.scalars(
        select(Booking).where(Booking.id.in_(ids)))}
    drifting = set(drift.open_drifts(ids))
    db.session.commit()
    for booking_id, zoom_id in expected:
        item = listed.get(zoom_id) if listed is not None else None
        if item is None:
            item = _read_one(run, zoom, zoom_id)  # not listed: gone, or only not listed
        run.meetings_checked += 1
        if (item is not None and booking_id not in drifting
                and _agrees(values.get(booking_id), drift.listed_values(item))):
            continue  # in step: nothing to write, no lock taken
        _compare(run, booking_id, zoom_id, item)


def _agrees(ours: dict[str, Any] | None, zoom: dict[str, Any]) -> bool:
    return ours is not None and all(ours.get(key) == value for key, value in zoom.items())


def _read_one(run: ReconcileRun, zoom: ZoomSession, zoom_id: int) -> dict[str, Any] | None:
    try:
        return _call(run, lambda: zoom.get_meeting(zoom_id)).raw
    except MeetingNotFound:
        return None


def _compare(run: ReconcileRun, booking_id: int, zoom_id: int,
             item: dict[str, Any] | None) -> None:
    """Record what Zoom says of one booking's meeting, under the booking's lock."""
    outbox.lock(booking_id)
    booking = db.session.get(Booking, booking_id, populate_existing=True)
    meeting = booking.meeting
    db.session.refresh(meeting)
    if (booking.state != BookingState.ACTIVE or meeting.zoom_meeting_id != zoom_id
            or meeting.status not in _CHECKED or _work_on_its_way(booking_id)):
        db.session.commit()  # changed meanwhile: our own work settles it
        return
    before = drift.open_drift(booking_id)
    seen = (before.id, dict(before.changes)) if before is not None else None
    if item is None:
        drift.note_deleted(meeting, DriftSource.RECONCILE)
        run.deleted_found += 1
    else:
        found = drift.note_change(meeting, drift.listed_values(item), DriftSource.RECONCILE)
        if found is not None and seen != (found.id, found.changes):
            run.drift_found += 1
    db.session.commit()


def _work_on_its_way(booking_id: int) -> bool:
    return db.session.scalar(select(func.count()).select_from(Operation).where(
        Operation.booking_id == booking_id, Operation.kind != OperationKind.RESYNC,
        Operation.state.in_(OperationState.UNFINISHED))) > 0
