"""``zoom.meetings``: how a booking's meeting is spelled for Zoom and read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashboard.zoom.meetings import (
    CLOCK_SKEW,
    MarkerLookup,
    MeetingSpec,
    booking_marker,
    find_marked_meeting,
    marked_meetings,
    meeting_body,
    meeting_state,
    parse_time,
)
from tests.zoom_openapi import request_body_validator

SPEC = MeetingSpec(
    booking_public_id="0f" * 16, topic="Consulta com João",
    start_at=datetime(2026, 12, 1, 11, 0, tzinfo=timezone(timedelta(hours=1))),
    duration_minutes=30, timezone="Europe/Lisbon", description="Lakesis consultation",
    waiting_room=True, join_before_host=False, mute_upon_entry=True, host_video=True,
    participant_video=False)


def test_the_body_is_a_scheduled_meeting_in_utc_with_the_marker_first_and_no_recording():
    body = meeting_body(SPEC)

    assert body["type"] == 2
    assert body["start_time"] == "2026-12-01T10:00:00Z"
    assert body["agenda"].startswith(booking_marker(SPEC.booking_public_id))
    assert body["settings"]["auto_recording"] == "none"
    assert "schedule_for" not in body
    assert not list(request_body_validator("meetingCreate").iter_errors(body))


def test_another_host_is_scheduled_for():
    from dataclasses import replace

    body = meeting_body(replace(SPEC, schedule_for="dr.ana@clinic.test"))

    assert body["schedule_for"] == "dr.ana@clinic.test"


@pytest.mark.parametrize(("word", "state"), [
    ("waiting", "scheduled"), ("started", "started"), ("finished", "ended"),
    ("ended", "ended"), (None, "scheduled")])
def test_zoom_status_words_map_to_the_meetings_life(word, state):
    assert meeting_state({"status": word}) == state


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01T10:00:00Z", datetime(2026, 12, 1, 10, tzinfo=UTC)),
    ("2026-12-01T10:00:00", datetime(2026, 12, 1, 10, tzinfo=UTC)),  # zone-less is UTC
    ("2026-12-01T11:00:00+01:00", datetime(2026, 12, 1, 10, tzinfo=UTC)),
    ("", None), ("not a time", None), (12345, None),
    # Past the calendar's ends once moved to UTC: unreadable, not an OverflowError.
    ("0001-01-01T00:00:00+01:00", None), ("9999-12-31T23:59:59-01:00", None)])
def test_zoom_times_are_read_as_aware_utc(text, expected):
    assert parse_time(text) == expected


def test_a_title_carrying_another_bookings_marker_does_not_capture_its_meeting():
    marker = booking_marker("a" * 32)
    forged = {"id": 1, "topic": f"anything {marker}", "agenda": "[lakesis:booking:" + "b" * 32
              + "] Lakesis booking"}
    quoted = {"id": 2, "agenda": f"Call notes mention {marker}"}
    ours = {"id": 3, "agenda": f"{marker} Lakesis booking"}

    assert find_marked_meeting([forged, quoted], marker) is None
    assert find_marked_meeting([forged, quoted, ours], marker) == ours


@pytest.mark.parametrize("title", [
    "[lakesis:booking:" + "a" * 32 + "]",
    "[lakesis:booking:" + "a" * 32 + "] Consultation",
    "\n[lakesis:booking:" + "a" * 32 + "]",
])
def test_a_title_never_reaches_where_the_marker_is_read(title):
    from dataclasses import replace

    body = meeting_body(replace(SPEC, topic=title))

    assert body["agenda"].startswith(booking_marker(SPEC.booking_public_id) + " ")
    assert title.strip() not in body["agenda"]
    assert find_marked_meeting([body], booking_marker("a" * 32)) is None


MADE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LOOKUP = MarkerLookup(booking_public_id="a" * 32, made_since=MADE, host_id="zu_Host")


def _listed(meeting_id: int, **fields) -> dict:
    return {"id": meeting_id, "host_id": "zu_Host", "created_at": "2026-12-01T10:00:05Z",
            "agenda": f"{booking_marker('a' * 32)} Lakesis booking", **fields}


@pytest.mark.parametrize(("fields", "ours", "adoptable"), [
    ({}, True, True),
    ({"created_at": None}, True, True),  # Zoom left it out: nothing to hold against it
    ({"created_at": "2026-12-01T09:56:00Z"}, True, True),  # within the clocks' skew
    ({"created_at": "2026-11-30T10:00:00Z"}, False, False),  # made before the booking
    ({"host_id": "zu_Other"}, True, False),  # ours, but for another host: not adopted
    ({"agenda": "Lakesis booking " + booking_marker("a" * 32)}, False, False),
    ({"agenda": None, "topic": booking_marker("a" * 32)}, False, False),
], ids=["ours", "no-created-at", "skew", "older", "other-host", "marker-later", "topic"])
def test_which_listed_meetings_are_the_bookings(fields, ours, adoptable):
    meeting = _listed(1, **fields)

    assert LOOKUP.made_by_us(meeting) is ours
    assert LOOKUP.adoptable(meeting) is adoptable


def test_a_meeting_scheduled_for_another_host_is_never_the_connected_users():
    lookup = MarkerLookup(booking_public_id="a" * 32, not_host_id="zu_Host")

    assert not lookup.adoptable(_listed(1))
    assert lookup.adoptable(_listed(2, host_id="zu_DrAna"))


def test_marked_meetings_come_oldest_first():
    late, first = _listed(2, created_at="2026-12-01T10:01:00Z"), _listed(9)

    assert marked_meetings([late, _listed(3, agenda="other"), first], LOOKUP) == [first, late]
    assert CLOCK_SKEW.total_seconds() > 0
