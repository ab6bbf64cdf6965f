"""Which fixes a booking offers an operator, and why not: the one place that decides.

The bookings table, the booking's page and the bookings service all ask ``offered_actions``:
the pages show a button only when its action is allowed, and the service refuses what is not
offered with the same reason as its message.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.models import Booking, BookingState, DriftKind, MeetingDrift, MeetingStatus

# A meeting in Zoom that has begun (or is over) is not moved or deleted from here.
_UNDER_WAY = frozenset({MeetingStatus.STARTED, MeetingStatus.ENDED})
# What Retry is for: Zoom work that failed, or a meeting someone deleted in Zoom.
_RETRYABLE = frozenset({MeetingStatus.FAILED, MeetingStatus.DELETED_IN_ZOOM})

ALREADY_ON_ITS_WAY = "Zoom work for this booking is already on its way."


@dataclass(frozen=True)
class Offer:
    """One action: whether the booking offers it, and if not, why (a whole sentence)."""

    allowed: bool
    reason: str | None = None


OFFERED = Offer(True)
NO_DRIFT = Offer(False, "Zoom agrees with the booking: there is nothing to fix.")


@dataclass(frozen=True)
class BookingActions:
    retry: Offer
    reschedule: Offer
    cancel: Offer
    resync: Offer
    #: the fixes of a drift (services.drift_fixes): offered only while one is open
    keep_zoom: Offer = NO_DRIFT
    restore: Offer = NO_DRIFT
    recreate: Offer = NO_DRIFT


def _under_way(booking: Booking, verb: str) -> Offer | None:
    status = booking.meeting.status
    if status == MeetingStatus.STARTED:
        return Offer(False, f"The meeting has started in Zoom; it cannot be {verb}.")
    if status == MeetingStatus.ENDED:
        return Offer(False, f"The meeting has ended; it cannot be {verb}.")
    return None


def _retry(booking: Booking, open_operation: bool) -> Offer:
    if open_operation:
        return Offer(False, ALREADY_ON_ITS_WAY)
    cancelled = booking.state == BookingState.CANCELLED
    if cancelled and booking.meeting.status == MeetingStatus.CANCELLED:
        return Offer(False, "Nothing to retry: the booking and its meeting are cancelled.")
    # A cancelled booking whose meeting is still in Zoom (the delete failed, e.g. while the
    # meeting ran) has its cancel to finish.
    if not cancelled and booking.meeting.status not in _RETRYABLE:
        return Offer(False, "Nothing to retry: no Zoom work of this booking failed.")
    return OFFERED


def _reschedule(booking: Booking) -> Offer:
    if booking.state == BookingState.CANCELLED:
        return Offer(False, "This booking is cancelled; it cannot be rescheduled.")
    return _under_way(booking, "rescheduled") or OFFERED


def _cancel(booking: Booking) -> Offer:
    if booking.state == BookingState.CANCELLED:
        return Offer(False, "This booking is already cancelled.")
    if booking.meeting.status == MeetingStatus.ENDED:
        return Offer(False, "The meeting has ended; it cannot be cancelled.")
    # Offered while the meeting runs: the booking is cancelled at once, and the worker
    # deletes the meeting once Zoom allows it (Zoom's 3002 says why it waits).
    return OFFERED


def _resync(booking: Booking) -> Offer:
    if booking.meeting.status == MeetingStatus.CANCELLED:
        return Offer(False, "The meeting is cancelled; there is nothing in Zoom to read back.")
    if not booking.meeting.zoom_meeting_id:
        return Offer(False, "There is no Zoom meeting to read back yet.")
    return OFFERED


def _drift_fixes(booking: Booking, drift: MeetingDrift | None,
                 open_operation: bool) -> dict[str, Offer]:
    if drift is None:
        return {}
    if booking.state == BookingState.CANCELLED:
        refused = Offer(False, "This booking is cancelled; its meeting needs no fix.")
        return {"keep_zoom": refused, "restore": refused, "recreate": refused}
    if open_operation:
        busy = Offer(False, ALREADY_ON_ITS_WAY)
        return {"keep_zoom": busy, "restore": busy, "recreate": busy}
    if drift.kind == DriftKind.DELETED:
        gone = Offer(False, "The meeting was deleted in Zoom: Recreate makes a new one.")
        return {"keep_zoom": gone, "restore": gone, "recreate": OFFERED}
    under_way = _under_way(booking, "changed from here")
    return {"keep_zoom": OFFERED, "restore": under_way or OFFERED,
            "recreate": Offer(False, "The meeting still exists in Zoom.")}


def offered_actions(booking: Booking, *, open_operation: bool,
                    drift: MeetingDrift | None = None) -> BookingActions:
    """What an operator may do to ``booking`` now. ``open_operation``: Zoom work of the
    booking that a worker holds or may claim (``OperationState.CLAIMABLE``); ``drift``: the
    booking's open drift (``services.drift.open_drift``), if any."""
    fixes = _drift_fixes(booking, drift, open_operation)
    return BookingActions(retry=_retry(booking, open_operation), reschedule=_reschedule(booking),
                          cancel=_cancel(booking), resync=_resync(booking), **fixes)
