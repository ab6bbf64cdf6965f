"""Email to the customer: the invitation, its updates and its cancellation.

Off unless a workspace admin turns it on. ``on_booking_event`` is called, in the transaction
of the change, for every event about a booking's meeting: it settles the invitation's
SEQUENCE (always, so the .ics the API serves is right either way) and, when customer email
is on, writes the mail with the .ics attached. Each SEQUENCE is mailed once, so the same
event told twice sends nothing more. The customer's address is used for this and nothing
else, and the mail says nothing about recordings, chat or media.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    BookingState,
    Event,
    MailKind,
    MailMessage,
    WebhookEndpoint,
)
from dashboard.services import (
    admin_alerts,
    booking_events,
    invitation,
    mail_outbox,
    webhook_delivery,
)
from dashboard.services.mail_settings import emails_customers

#: the events after which the customer's invitation may have changed
INVITATION_EVENTS = frozenset({"meeting.ready", "meeting.changed", "meeting.cancelled"})


def on_booking_event(workspace_id: int, booking: Booking | None, event_type: str) -> None:
    """Inside the caller's transaction (which holds the booking's lock): settle the
    invitation and write what the customer must be mailed."""
    if booking is None or event_type not in INVITATION_EVENTS:
        return
    if event_type == "meeting.cancelled" and booking.state != BookingState.CANCELLED:
        return  # a meeting gone while the booking stands is an operator's matter
    if not invitation.has_invitation(booking):
        return
    sequence = invitation.settle(booking)
    if not emails_customers(workspace_id):
        return
    invited_before = db.session.scalar(select(MailMessage.id).where(
        MailMessage.booking_id == booking.id,
        MailMessage.kind == MailKind.INVITATION).limit(1)) is not None
    if booking.state == BookingState.CANCELLED:
        if not invited_before:
            return  # never invited by mail: nothing to take back
        kind, subject = MailKind.CANCELLATION, "Cancelled"
    else:
        kind, subject = MailKind.INVITATION, "Updated invitation" if invited_before else (
            "Invitation")
    ics = invitation.build(booking)
    mail_outbox.enqueue(
        workspace_id, kind, booking.customer_email, f"{subject}: {booking.title}, {_when(booking)}",
        _body(booking, kind, invited_before), booking=booking, invitation=ics,
        dedupe_key=f"{kind.value}:{booking.public_id}:{sequence}")


def on_event(event: Event) -> None:
    """``booking_events``' subscriber: every recorded event passes here, in its transaction."""
    if event.type in INVITATION_EVENTS:
        booking = db.session.get(Booking, event.booking_id) if event.booking_id else None
        on_booking_event(event.workspace_id, booking, event.type)
    elif event.type in admin_alerts.CONNECTION_EVENTS:
        on_connection_event(event.workspace_id, event.type)


def on_endpoint_paused(endpoint: WebhookEndpoint, reason: str) -> None:
    """``webhook_delivery``'s subscriber: a receiver was paused; its admins are told."""
    admin_alerts.endpoint_paused(endpoint.workspace_id, endpoint.url, reason)


def subscribe() -> None:
    """Hear of events and paused receivers (once, however many apps a process builds)."""
    if on_event not in booking_events.SUBSCRIBERS:
        booking_events.SUBSCRIBERS.append(on_event)
    if on_endpoint_paused not in webhook_delivery.PAUSE_SUBSCRIBERS:
        webhook_delivery.PAUSE_SUBSCRIBERS.append(on_endpoint_paused)


def on_connection_event(workspace_id: int, event_type: str) -> None:
    """Zoom stopped working for the workspace: tell its admins (at most once a day)."""
    admin_alerts.connection_lost(workspace_id, event_type)


def _when(booking: Booking) -> str:
    local = booking.start_at.astimezone(ZoneInfo(booking.timezone))
    return f"{local:%a %d %b %Y, %H:%M} ({booking.timezone})"


def _body(booking: Booking, kind: MailKind, invited_before: bool) -> str:
    who = booking.workspace.name
    if kind is MailKind.CANCELLATION:
        opening = f"{who} has cancelled this meeting with you:"
        closing = "The attached file takes it out of your calendar."
    elif invited_before:
        opening = f"{who} has changed this meeting with you:"
        closing = "The attached invitation updates it in your calendar."
    else:
        opening = f"{who} has booked this meeting with you:"
        closing = "The attached invitation adds it to your calendar."
    lines = [f"Hello {booking.customer_name},", "", opening, "", f"  {booking.title}",
             f"  {_when(booking)}, {booking.duration_minutes} minutes"]
    if kind is MailKind.INVITATION:
        lines.append(f"  Join on Zoom: {booking.meeting.join_url}")
    return "\n".join([*lines, "", closing, ""])
