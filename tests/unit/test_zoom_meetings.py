"""``zoom.meetings``: how a booking's meeting is spelled for Zoom and read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashboard.zoom.meetings import (
    MeetingSpec,
    booking_marker,
    find_marked_meeting,
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
    ("", None), ("not a time", None), (12345, None)])
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
