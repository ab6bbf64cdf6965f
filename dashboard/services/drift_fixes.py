"""An operator's fixes for a drift: Keep Zoom's, Restore the booking's, Recreate.

Each takes the booking's lock (as the other booking actions do), re-reads the booking and
its open drift under it, refuses what ``booking_actions`` does not offer, and commits the
fix, its audit entry and any outbox work together.
"""

from __future__ import annotations

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    DriftResolution,
    MeetingDrift,
    MeetingStatus,
    Operation,
    OperationKind,
    OperationState,
    Workspace,
)
from dashboard.services import drift, outbox
from dashboard.services.audit import Actor, record
from dashboard.services.booking_actions import BookingActions, Offer, offered_actions
from dashboard.services.bookings import Conflict
from dashboard.services.unit_of_work import transaction
from dashboard.zoom.meetings import parse_time


def _target(booking: Booking) -> tuple[str, int, str]:
    return ("booking", booking.id, f"{booking.title} ({booking.external_ref})")


def _locked(booking: Booking) -> tuple[MeetingDrift | None, BookingActions]:
    outbox.lock(booking.id)
    db.session.refresh(booking)
    db.session.refresh(booking.meeting)
    open_drift = drift.open_drift(booking.id)
    working = db.session.scalar(select(Operation.id).where(
        Operation.booking_id == booking.id,
        Operation.state.in_(OperationState.CLAIMABLE)).limit(1)) is not None
    return open_drift, offered_actions(booking, open_operation=working, drift=open_drift)


def _refuse_unless(offer: Offer) -> None:
    if not offer.allowed:
        raise Conflict(offer.reason or "This booking does not offer that now.")


def keep_zoom(workspace: Workspace, actor: Actor, booking: Booking) -> MeetingDrift:
    """The booking takes Zoom's time, length and topic; nothing is sent to Zoom (a changed
    passcode only asks for a read-back, for the join link it changes)."""
    with transaction():
        found, actions = _locked(booking)
        _refuse_unless(actions.keep_zoom)
        assert found is not None  # offered only with an open drift
        before = drift.booking_values(booking)
        changes = found.changes
        if "start_time" in changes:
            booking.start_at = parse_time(changes["start_time"]["new"]) or booking.start_at
        if "duration" in changes:
            booking.duration_minutes = int(changes["duration"]["new"])
        if "topic" in changes:
            booking.title = str(changes["topic"]["new"])[:200] or booking.title
        drift.resolve(found, DriftResolution.KEPT_ZOOM, actor.label)
        after = drift.booking_values(booking)
        record(workspace.id, actor, "booking.kept_zoom_values", _target(booking),
               **{f"{key} was": before[key] for key in before if before[key] != after[key]},
               **{f"{key} now": after[key] for key in after if before[key] != after[key]},
               passcode_changed="passcode" in changes or None)
        if "passcode" in changes:
            outbox.enqueue(booking, OperationKind.RESYNC, actor.label)
    return found


def restore(workspace: Workspace, actor: Actor, booking: Booking) -> Operation | None:
    """Push the booking's values back to Zoom (an update; its echo is ours)."""
    with transaction():
        found, actions = _locked(booking)
        _refuse_unless(actions.restore)
        assert found is not None
        drift.resolve(found, DriftResolution.RESTORED, actor.label)
        op = outbox.enqueue(booking, OperationKind.UPDATE, actor.label)
        record(workspace.id, actor, "booking.restored_in_zoom", _target(booking),
               fields=", ".join(sorted(found.changes)))
    return op


def recreate(workspace: Workspace, actor: Actor, booking: Booking) -> Operation | None:
    """A new meeting for one deleted in Zoom; the drift stays open until it is made (the
    join link's change is recorded then, by ``meeting_sync``)."""
    with transaction():
        found, actions = _locked(booking)
        _refuse_unless(actions.recreate)
        assert found is not None
        meeting = booking.meeting
        meeting.zoom_meeting_id = None
        meeting.status = MeetingStatus.PENDING.value
        meeting.last_error = meeting.error_code = meeting.tracking_id = None
        op = outbox.enqueue(booking, OperationKind.CREATE, actor.label)
        record(workspace.id, actor, "booking.recreate_requested", _target(booking),
               zoom_meeting_id=found.zoom_meeting_id)
    return op
