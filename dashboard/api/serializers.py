"""Bookings as the API shows them. The meeting's start_url is a host secret: never here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.models import Booking, Meeting


def timestamp(moment: datetime | None) -> str | None:
    """UTC, to the second, with a ``Z``: the one date-time shape the API answers with."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting_json(meeting: Meeting) -> dict[str, Any]:
    return {
        "status": meeting.status,
        "join_url": meeting.join_url,
        "zoom_meeting_id": meeting.zoom_meeting_id,
        "last_synced_at": timestamp(meeting.last_synced_at),
        "last_error": meeting.last_error,
    }


def booking_json(booking: Booking) -> dict[str, Any]:
    """The booking and its meeting, as documented by the ``Booking`` schema."""
    return {
        "id": booking.public_id,
        "external_ref": booking.external_ref,
        "kind": booking.kind,
        "title": booking.title,
        "start_time": timestamp(booking.start_at),
        "duration_minutes": booking.duration_minutes,
        "timezone": booking.timezone,
        "host_email": booking.host_email,
        "customer": {"name": booking.customer_name, "email": booking.customer_email},
        "state": booking.state,
        "created_at": timestamp(booking.created_at),
        "updated_at": timestamp(booking.updated_at),
        "meeting": meeting_json(booking.meeting),
    }
