"""The meeting Zoom should hold for a booking, as a request body of Zoom's Meetings API."""

from __future__ import annotations

from typing import Any

from dashboard.extensions import db
from dashboard.models import Booking, MeetingDefaults
from dashboard.zoom.client import meeting_marker

ZOOM_TIME = "%Y-%m-%dT%H:%M:%SZ"


def defaults_for(workspace_id: int) -> MeetingDefaults:
    """The workspace's saved meeting settings, or Lakesis' own (unsaved) until it has some."""
    return db.session.get(MeetingDefaults, workspace_id) or MeetingDefaults.lakesis(
        workspace_id)


def meeting_body(booking: Booking, defaults: MeetingDefaults,
                 connected_email: str | None) -> dict[str, Any]:
    """Create/update body: UTC start, the booking marker first in the agenda, our settings.

    Recording is set to "none" explicitly: an account default of cloud recording must not
    record consultations booked through Lakesis.
    """
    body: dict[str, Any] = {
        "topic": booking.title[:200],
        "type": 2,
        "start_time": booking.start_at.strftime(ZOOM_TIME),
        "duration": booking.duration_minutes,
        "timezone": booking.timezone,
        "agenda": f"{meeting_marker(booking.public_id)} Lakesis {booking.kind}",
        "settings": {
            "waiting_room": defaults.waiting_room,
            "join_before_host": defaults.join_before_host,
            "mute_upon_entry": defaults.mute_upon_entry,
            "host_video": defaults.host_video,
            "participant_video": defaults.participant_video,
            "auto_recording": "none",
        },
    }
    host = booking.host_email
    if host and (connected_email or "").lower() != host.lower():
        body["schedule_for"] = host
    return body
