"""The customer's invitation: one iCalendar event per booking, made with ``icalendar``.

The event's UID never changes for a booking, so a calendar that has it replaces it on an
update instead of adding a second one; its SEQUENCE grows with every change the customer
would see (time, length, zone, title, join link, cancellation). The booking keeps the
SEQUENCE given last and a digest of what the invitation said then (``settle``, in the
transaction of the change); an invitation read before a change has been settled already
counts it (``sequence_now``), so what it says never goes back to an older number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from dashboard.models import Booking, BookingState
from dashboard.orm import utcnow
from dashboard.services import ServiceError

PRODID = "-//Lakesis//Bookings//EN"
REQUEST, CANCEL = "REQUEST", "CANCEL"


class NoJoinLinkYet(ServiceError):
    def __init__(self) -> None:
        super().__init__("This booking has no Zoom join link yet, so there is no invitation "
                         "to send. Try again once its meeting is ready.", status=409)


@dataclass(frozen=True)
class Invitation:
    method: str  # REQUEST or CANCEL
    sequence: int
    text: str  # the .ics

    @property
    def filename(self) -> str:
        return "invitation.ics" if self.method == REQUEST else "cancellation.ics"

    @property
    def content_type(self) -> str:
        return f"text/calendar; charset=utf-8; method={self.method}"


def uid(booking: Booking) -> str:
    return f"booking-{booking.public_id}@lakesis"


def has_invitation(booking: Booking) -> bool:
    """A cancelled booking always has its cancellation; an active one once it has a link."""
    return booking.state == BookingState.CANCELLED or bool(booking.meeting.join_url)


def _digest(booking: Booking) -> str:
    if booking.state == BookingState.CANCELLED:
        said = ["cancelled"]  # the link is cleared once Zoom's meeting is gone: no change
    else:
        said = [booking.start_at.isoformat(), str(booking.duration_minutes), booking.timezone,
                booking.title, booking.meeting.join_url or ""]
    return hashlib.sha256("\x1f".join(said).encode()).hexdigest()


def sequence_now(booking: Booking) -> int:
    """The SEQUENCE of what the invitation says now (without writing anything)."""
    stored = booking.invitation_digest
    changed = stored is not None and stored != _digest(booking)
    return booking.invitation_sequence + (1 if changed else 0)


def settle(booking: Booking) -> int:
    """Record what the invitation says now, in the caller's transaction; the new SEQUENCE.

    Nothing is recorded for an active booking without a join link: no invitation exists
    yet, so the first one the customer sees is SEQUENCE 0."""
    if not has_invitation(booking):
        return booking.invitation_sequence
    booking.invitation_sequence = sequence_now(booking)
    booking.invitation_digest = _digest(booking)
    return booking.invitation_sequence


def build(booking: Booking) -> Invitation:
    """The invitation as it is now (REQUEST), or its cancellation (CANCEL); raises
    NoJoinLinkYet for an active booking whose meeting has no link yet."""
    if not has_invitation(booking):
        raise NoJoinLinkYet()
    cancelled = booking.state == BookingState.CANCELLED
    method = CANCEL if cancelled else REQUEST
    sequence = sequence_now(booking)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(_event(booking, sequence, cancelled))
    start = booking.start_at.date()
    # Only the zone's rules around the meeting: a calendar needs no more, and the full
    # history would make every invitation kilobytes longer.
    calendar.add_missing_timezones(first_date=date(start.year - 1, 1, 1),
                                   last_date=date(start.year + 2, 1, 1))
    return Invitation(method, sequence, calendar.to_ical().decode())


def _event(booking: Booking, sequence: int, cancelled: bool) -> Event:
    zone = ZoneInfo(booking.timezone)
    start = booking.start_at.astimezone(zone)
    join_url = booking.meeting.join_url
    event = Event()
    event.add("uid", uid(booking))
    event.add("sequence", sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=booking.duration_minutes))
    event.add("summary", booking.title)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{parseaddr(current_app.config['MAIL_FROM'])[1]}")
    organizer.params["cn"] = vText(booking.workspace.name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.customer_email}")
    attendee.params["cn"] = vText(booking.customer_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("NEEDS-ACTION")
    event.add("attendee", attendee)
    if cancelled:
        event.add("description", f"{booking.title} has been cancelled.")
    else:
        event.add("location", join_url)
        event.add("url", join_url)
        event.add("description", f"Join the Zoom meeting: {join_url}")
    return event
