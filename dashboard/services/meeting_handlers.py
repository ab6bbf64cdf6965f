"""What each kind of outbox operation asks of Zoom, given the :class:`Job` read for it.

Create and update bring Zoom in line with the booking, cancel deletes its meeting, re-sync
reads it back. A create whose answer was lost (``Job.maybe_created``) may have made a
meeting, or may still make one: the booking's marker finds what it made (see
``meeting_lookup``), a re-sync deletes copies that are not the booking's meeting, and a
cancel deletes every meeting carrying the marker. ``meeting_sync`` runs these and records
what came of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from sqlalchemy import update

from dashboard.extensions import db
from dashboard.models import Meeting, MeetingStatus, OperationKind
from dashboard.services import echoes, meeting_lookup
from dashboard.services.zoom_session import ZoomSession, zoom_for
from dashboard.services.zoom_tokens import NotConnected
from dashboard.zoom.errors import (
    CreateOutcomeUnknown,
    MeetingNotFound,
    ZoomError,
    ZoomUnavailable,
)
from dashboard.zoom.meetings import (
    MarkerLookup,
    MeetingSpec,
    ZoomMeeting,
    differs,
    meeting_body,
    read_meeting,
)


@dataclass(frozen=True, kw_only=True)
class Job:
    """What one operation needs, read before Zoom is called (no session held after)."""

    kind: OperationKind
    workspace_id: int
    booking_id: int
    meeting_id: int  # our meetings row
    booking_active: bool
    spec: MeetingSpec
    zoom_meeting_id: int | None
    #: how to tell the meetings our creates made for the booking
    lookup: MarkerLookup
    # A create was sent and its outcome never learned (timeout, 5xx, a killed worker): look
    # for the marker before creating, and for copies when deleting.
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
    #: meetings carrying the booking's marker that were not its meeting, deleted now
    copies: tuple[int, ...] = ()


def _find(job: Job) -> meeting_lookup.Found:
    # Through "me" even for another host's meeting: a user-level app may not list another
    # user's meetings (that needs an admin scope), and the scheduler's list has them.
    return meeting_lookup.find(job.zoom, job.lookup, job.workspace_id, job.meeting_id)


def _find_marked(job: Job) -> tuple[ZoomMeeting | None, str | None]:
    """The meeting an earlier attempt made for the booking, if Zoom has it (the first
    made, for the booking's host), and a note about marked meetings refused."""
    found = _find(job)
    adoptable = [meeting for meeting in found.ours if job.lookup.adoptable(meeting)]
    return (read_meeting(adoptable[0]) if adoptable else None), found.note()


def _delete_copies(job: Job, keep: int | None) -> tuple[tuple[int, ...], str | None]:
    """Delete every meeting carrying the booking's marker but ``keep``."""
    found = _find(job)
    return tuple(meeting_lookup.delete(job.zoom, found.ids(besides=keep))), found.note()


def _adopt(job: Job, found: ZoomMeeting) -> ZoomMeeting:
    """A meeting an earlier attempt made: bring it up to the booking's latest values (a
    reschedule collapsed into the queued create while the first answer was lost)."""
    if differs(found, job.body):
        echoes.record_send(job.meeting_id, job.body)
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
    echoes.record_send(job.meeting_id, job.body)
    try:
        return job.zoom.create_meeting(job.body)
    except ZoomUnavailable as error:
        # Even "never connected" is not proof for a create: a session that retries may have
        # sent an earlier try. Looking costs a list call; a duplicate, a ghost meeting.
        raise CreateOutcomeUnknown.after(error) from error
    except (ZoomError, NotConnected):
        if not job.maybe_created:  # refused before doing anything, and no earlier create
            _mark_unconfirmed(job, False)
        raise


def _create(job: Job) -> Outcome:
    found, note = _find_marked(job) if job.maybe_created else (None, None)
    if found:
        data = _adopt(job, found)
        return Outcome(f"found Zoom meeting {data.id} from an earlier attempt",
                       MeetingStatus.SCHEDULED, data, note=note)
    data = _send_create(job)
    return Outcome(f"created Zoom meeting {data.id}", MeetingStatus.SCHEDULED, data,
                   note=note)


def _update(job: Job) -> Outcome:
    echoes.record_send(job.meeting_id, job.body)
    try:
        job.zoom.update_meeting(job.zoom_meeting_id, job.body)
    except MeetingNotFound:
        # The gone meeting is not listed; a marked one is this operation's earlier
        # recreation whose answer was lost.
        found, _ = _find_marked(job) if job.maybe_created else (None, None)
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
    """Delete the booking's meeting, and every other meeting carrying its marker (a create
    whose answer was lost may have made one the booking never knew of)."""
    known, gone = job.zoom_meeting_id, False
    if known:
        try:
            job.zoom.delete_meeting(known)
        except MeetingNotFound:
            gone = True
    copies, note = _delete_copies(job, keep=known) if known or job.maybe_created else ((), None)
    if known:
        text = ("the Zoom meeting was already gone" if gone
                else f"deleted Zoom meeting {known}")
    elif copies:
        text = "deleted Zoom meeting " + ", ".join(map(str, copies))
    else:
        text = "no Zoom meeting to delete"
    if known and copies:
        text += " and its copies " + ", ".join(map(str, copies))
    return Outcome(text, MeetingStatus.CANCELLED, clear_links=True, copies=copies, note=note)


def _resync(job: Job) -> Outcome:
    """Read the meeting back; while a lost create may still make a copy, delete any."""
    copies: tuple[int, ...] = ()
    note = None
    if job.maybe_created and (job.zoom_meeting_id or not job.booking_active):
        copies, note = _delete_copies(job, keep=job.zoom_meeting_id)
    outcome = _read_back(job)
    if copies:
        outcome = replace(outcome, text=outcome.text + "; deleted Zoom meeting "
                          + ", ".join(map(str, copies)) + ", a copy from a lost create")
    if note:
        outcome = replace(outcome, note=" ".join(filter(None, (outcome.note, note))))
    return replace(outcome, copies=copies)


def _read_back(job: Job) -> Outcome:
    if not job.zoom_meeting_id:
        return Outcome("no Zoom meeting yet: nothing to re-sync")
    try:
        data = job.zoom.get_meeting(job.zoom_meeting_id)
    except MeetingNotFound:
        status = MeetingStatus.DELETED_IN_ZOOM if job.booking_active else MeetingStatus.CANCELLED
        return Outcome("the meeting no longer exists in Zoom", status, clear_links=True)
    return Outcome("re-synced from Zoom", MeetingStatus(data.state), data)


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
