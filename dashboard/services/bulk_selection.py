"""Which of the bookings an operator ticked a bulk action covers, and why it skips the rest.

Each booking is judged by ``booking_actions.offered_actions``, the rule its own button
follows, so a bulk Retry / Re-sync / Cancel takes exactly the bookings whose row offers it;
the others are shown as skipped with that button's reason. Two queries for the whole
selection, however many bookings it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.models import Booking, BulkJobKind, Workspace
from dashboard.services import ServiceError, bookings
from dashboard.services.booking_actions import Offer, offered_actions
from dashboard.services.live_rows import live_rows

#: what each kind does to one booking, by the name of its ``BookingActions`` offer
ACTION_OF = {BulkJobKind.RETRY_SELECTED: "retry", BulkJobKind.RESYNC_SELECTED: "resync",
             BulkJobKind.CANCEL_SELECTED: "cancel"}
NOT_FOUND = "No such booking in this workspace (deleted meanwhile?)."


@dataclass(frozen=True)
class Skipped:
    booking_id: int
    label: str  # "Title (ref)", or "#id" for a booking not found
    reason: str


def _offer(kind: BulkJobKind, booking: Booking, working: frozenset[int]) -> Offer:
    offers = offered_actions(booking, open_operation=booking.id in working)
    return getattr(offers, ACTION_OF[kind])


def choose(workspace: Workspace, kind: BulkJobKind, selected: list[int],
           limit: int) -> tuple[list[Booking], list[Skipped]]:
    """The selected bookings ``kind`` may act on now (by start time), and the skipped ones.

    An id of another workspace is reported as not found, like one that never existed: the
    answer tells nothing about other workspaces."""
    if kind not in ACTION_OF:
        raise ValueError(kind)
    wanted = list(dict.fromkeys(selected))
    if not wanted:
        raise ServiceError("Select at least one booking.", "ids", 422)
    if len(wanted) > limit:
        raise ServiceError(f"Select at most {limit} bookings at a time "
                           f"({len(wanted)} were selected).", "ids", 422)
    found = bookings.many(workspace, wanted)
    working = live_rows(found).working
    by_id = {booking.id: booking for booking in found}
    eligible: list[Booking] = []
    skipped: list[Skipped] = []
    for booking_id in wanted:
        booking = by_id.get(booking_id)
        if booking is None:
            skipped.append(Skipped(booking_id, f"#{booking_id}", NOT_FOUND))
            continue
        offer = _offer(kind, booking, working)
        if offer.allowed:
            eligible.append(booking)
        else:
            skipped.append(Skipped(booking.id, f"{booking.title} ({booking.external_ref})",
                                   offer.reason or "It does not offer that now."))
    eligible.sort(key=lambda b: (b.start_at, b.id))
    return eligible, skipped
