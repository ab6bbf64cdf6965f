"""Zoom's meeting wire format: the request body, its status words, times and our marker.

Services describe the meeting a booking needs as a :class:`MeetingSpec`; only this module
knows how Zoom spells it (``type: 2``, the time format, the ``settings`` keys) and how to
read Zoom's answers back (``status`` words, ``start_time``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ZOOM_TIME = "%Y-%m-%dT%H:%M:%SZ"
SCHEDULED_MEETING = 2  # Zoom's meeting type for a meeting at a fixed time
MAX_TOPIC, MAX_AGENDA = 200, 2000

#: What a meeting's ``status`` in Zoom means for the meeting's life, in Lakesis' words.
#: Zoom says "waiting" for a meeting not yet started.
_STATES = {"waiting": "scheduled", "started": "started", "finished": "ended", "ended": "ended"}


@dataclass(frozen=True, kw_only=True)
class MeetingSpec:
    """The meeting Zoom should hold for one booking, in Lakesis' terms."""

    booking_public_id: str
    topic: str
    start_at: datetime  # aware
    duration_minutes: int
    timezone: str
    description: str
    waiting_room: bool
    join_before_host: bool
    mute_upon_entry: bool
    host_video: bool
    participant_video: bool
    #: the Zoom user to schedule for, when the host is not the connected user
    schedule_for: str | None = None


def meeting_body(spec: MeetingSpec) -> dict[str, Any]:
    """Create/update body: UTC start, the booking marker first in the agenda, our settings.

    Recording is set to "none" explicitly: an account default of cloud recording must not
    record consultations booked through Lakesis.
    """
    body: dict[str, Any] = {
        "topic": spec.topic[:MAX_TOPIC],
        "type": SCHEDULED_MEETING,
        "start_time": format_time(spec.start_at),
        "duration": spec.duration_minutes,
        "timezone": spec.timezone,
        "agenda": f"{booking_marker(spec.booking_public_id)} {spec.description}"[:MAX_AGENDA],
        "settings": {
            "waiting_room": spec.waiting_room,
            "join_before_host": spec.join_before_host,
            "mute_upon_entry": spec.mute_upon_entry,
            "host_video": spec.host_video,
            "participant_video": spec.participant_video,
            "auto_recording": "none",
        },
    }
    if spec.schedule_for:
        body["schedule_for"] = spec.schedule_for
    return body


@dataclass(frozen=True)
class ZoomMeeting:
    """A meeting as Zoom answered it, in Lakesis' terms."""

    id: int
    uuid: str | None
    join_url: str | None
    start_url: str | None = field(repr=False)  # the host's key: a secret
    start_at: datetime | None
    duration_minutes: int | None
    state: str  # scheduled, started or ended
    raw: dict[str, Any] = field(repr=False)


def read_meeting(data: dict[str, Any]) -> ZoomMeeting:
    """Zoom's meeting object (create, get or list answer) read into a :class:`ZoomMeeting`."""
    duration = data.get("duration")
    return ZoomMeeting(
        id=int(data["id"]), uuid=data.get("uuid") or None, join_url=data.get("join_url") or None,
        start_url=data.get("start_url") or None, start_at=parse_time(data.get("start_time")),
        duration_minutes=duration if isinstance(duration, int) else None,
        state=meeting_state(data), raw=data)


def differs(meeting: ZoomMeeting, body: dict[str, Any]) -> bool:
    """True when a meeting read from Zoom does not yet say what ``body`` asks for."""
    return any(key in meeting.raw and meeting.raw[key] != body.get(key)
               for key in ("topic", "start_time", "duration", "timezone", "agenda"))


def meeting_state(meeting: dict[str, Any]) -> str:
    """The meeting's life as Lakesis names it (scheduled, started, ended) from Zoom's word."""
    return _STATES.get(str(meeting.get("status")), "scheduled")


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(ZOOM_TIME)


def parse_time(value: Any) -> datetime | None:
    """A Zoom time as an aware UTC datetime, or None when absent or unreadable.

    Zoom documents its times in UTC: one without an offset is read as UTC, so it still
    compares with the aware datetimes in the database.
    """
    if not value or not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # OverflowError: past year 1 or 9999 once in UTC
        return None


def booking_marker(booking_public_id: str) -> str:
    """The tag at the start of a meeting's agenda that lets us find the meeting again.

    Creates are made duplicate-safe with it: after a create whose outcome is unknown,
    list the user's meetings and look for the marker before creating again.
    """
    return f"[lakesis:booking:{booking_public_id}]"


def carries_marker(meeting: dict[str, Any], marker: str) -> bool:
    """True when the meeting's agenda starts with ``marker``.

    Only the agenda counts, and only its start, where Lakesis alone writes
    (:func:`meeting_body` puts the marker first and nothing of the booking before it): the
    topic is the booking's title, free text that could carry another booking's marker.
    """
    return str(meeting.get("agenda") or "").startswith(marker)


def find_marked_meeting(meetings: Iterable[dict], marker: str) -> dict | None:
    """The first meeting whose agenda starts with ``marker``, else None."""
    return next((meeting for meeting in meetings if carries_marker(meeting, marker)), None)


@dataclass(frozen=True, kw_only=True)
class MarkerLookup:
    """How to tell, among all of a user's meetings, the ones Lakesis made for one booking.

    The marker must be where only Lakesis writes it, and the meeting must agree with what
    we know of our own creates: none was sent before the booking existed, and each was
    made for the booking's host.
    """

    booking_public_id: str
    #: when the booking was made: a meeting Zoom made before it is not one of ours
    made_since: datetime | None = None
    #: the Zoom user our creates make the meeting for (the connected user), when known
    host_id: str | None = None
    #: a user our creates never make it for (the connected user, when it is scheduled for
    #: another host: Zoom makes the schedule_for user the host)
    not_host_id: str | None = None

    @property
    def marker(self) -> str:
        return booking_marker(self.booking_public_id)

    def made_by_us(self, meeting: dict[str, Any]) -> bool:
        """The marker at the agenda's start, and not made before the booking existed."""
        if not carries_marker(meeting, self.marker):
            return False
        made = parse_time(meeting.get("created_at"))
        return not (made and self.made_since and made < self.made_since - CLOCK_SKEW)

    def adoptable(self, meeting: dict[str, Any]) -> bool:
        """Made by us, and hosted by the user the booking's meeting is for."""
        host = str(meeting.get("host_id") or "") or None
        if host and self.host_id and host != self.host_id:
            return False
        if host and self.not_host_id and host == self.not_host_id:
            return False
        return self.made_by_us(meeting)


#: Zoom's clock and ours may disagree by this much when comparing creation times.
CLOCK_SKEW = timedelta(minutes=5)


def marked_meetings(meetings: Iterable[dict], lookup: MarkerLookup) -> list[dict]:
    """The meetings Lakesis made for the booking (see :class:`MarkerLookup`), oldest first:
    after several lost create answers, the first one made is the one to keep."""
    ours = [meeting for meeting in meetings if lookup.made_by_us(meeting)]
    return sorted(ours, key=lambda meeting: (parse_time(meeting.get("created_at"))
                                             or datetime.max.replace(tzinfo=UTC),
                                             int(meeting["id"])))
