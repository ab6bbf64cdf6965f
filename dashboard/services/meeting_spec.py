"""The meeting a booking needs, in Lakesis' terms (``zoom.meetings`` spells it for Zoom)."""

from __future__ import annotations

from dashboard.models import Booking, MeetingDefaults
from dashboard.zoom.meetings import MeetingSpec


def meeting_spec(booking: Booking, defaults: MeetingDefaults,
                 connected_email: str | None) -> MeetingSpec:
    """The booking's meeting with the workspace's settings; scheduled for the booking's host
    when that is not the connected Zoom user."""
    host = booking.host_email
    schedule_for = host if host and (connected_email or "").lower() != host.lower() else None
    return MeetingSpec(
        booking_public_id=booking.public_id, topic=booking.title,
        start_at=booking.start_at, duration_minutes=booking.duration_minutes,
        timezone=booking.timezone, description=f"Lakesis {booking.kind}",
        waiting_room=defaults.waiting_room, join_before_host=defaults.join_before_host,
        mute_upon_entry=defaults.mute_upon_entry, host_video=defaults.host_video,
        participant_video=defaults.participant_video, schedule_for=schedule_for)
