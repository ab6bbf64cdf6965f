"""The two signals of a booking: its meeting's life in Zoom, and Lakesis's work on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from dashboard.bookings.signals import meeting_signal, sync_signal
from dashboard.services.live_rows import Work

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def booking(status: str, zoom_id: int | None = None, state: str = "active",
            last_error: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(state=state, meeting=SimpleNamespace(
        status=status, zoom_meeting_id=zoom_id, last_error=last_error))


@pytest.mark.parametrize(("status", "zoom_id", "label", "tone"), [
    ("scheduled", 81200000001, "Scheduled", "ok"),
    ("pending", 81200000001, "Scheduled", "ok"),  # an update on its way: still in Zoom
    ("pending", None, "Not in Zoom yet", "off"),
    ("failed", None, "Not in Zoom yet", "off"),
    ("failed", 81200000001, "Scheduled", "ok"),
    ("started", 81200000001, "In progress", "ok"),
    ("ended", 81200000001, "Ended", "off"),
    ("cancelled", None, "Cancelled", "off"),
    ("deleted_in_zoom", 81200000001, "Deleted in Zoom", "bad"),
])
def test_the_meeting_signal_says_where_the_meeting_is(status, zoom_id, label, tone):
    signal = meeting_signal(booking(status, zoom_id))
    assert (signal.label, signal.tone) == (label, tone)


def test_a_booking_failing_its_fourth_attempt_says_so_not_pending():
    due = NOW + timedelta(seconds=40)
    signal = sync_signal(booking("pending", 81200000001), Work("queued", 3, due))
    assert (signal.label, signal.tone, signal.detail, signal.due) == (
        "Retrying", "warn", "attempt 4 of 8", due)


@pytest.mark.parametrize(("status", "work", "label", "tone"), [
    ("scheduled", None, "In sync", "ok"),
    ("pending", Work("queued", 0, NOW), "Queued", "busy"),
    ("pending", Work("running", 2, NOW), "Sending to Zoom", "busy"),
    ("failed", None, "Failed", "bad"),
    ("waiting_for_connection", None, "Waiting for Zoom", "warn"),
    ("pending", None, "Queued", "busy"),
])
def test_the_sync_signal_says_where_the_work_is(status, work, label, tone):
    signal = sync_signal(booking(status, 81200000001), work)
    assert (signal.label, signal.tone) == (label, tone)


def test_the_attempt_never_reads_past_the_last():
    signal = sync_signal(booking("pending"), Work("queued", 9, NOW))
    assert signal.detail == "attempt 8 of 8"


def test_a_cancelled_booking_whose_delete_failed_is_not_in_sync():
    stuck = booking("scheduled", 81200000001, state="cancelled", last_error="Zoom said 3002")
    assert sync_signal(stuck, None).label == "Failed"
    assert sync_signal(booking("cancelled", None, state="cancelled"), None).label == "In sync"
