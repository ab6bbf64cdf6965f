"""The one line a bookings row says about a failure (bookings/row_view.py)."""

from __future__ import annotations

from dashboard.bookings.row_view import error_cause, meeting_cause
from dashboard.models import Meeting
from dashboard.services.error_causes import GAVE_UP


def _meeting(status: str, code: str | None, error: str | None) -> Meeting:
    return Meeting(status=status, error_code=code, last_error=error)


def test_zoom_s_code_gives_the_plain_cause_and_next_step():
    line = error_cause(_meeting("failed", "1001", "Zoom refused: User does not exist"))
    assert "not a user" in line.lower() and "Retry" in line


def test_work_lakesis_gave_up_on_is_the_operator_s_to_retry_not_nothing_to_do():
    assert meeting_cause(_meeting("failed", "503", "Gave up after 8 attempts: down")) is GAVE_UP
    retrying = meeting_cause(_meeting("pending", "503", "Attempt 2 failed: down"))
    assert retrying.who_acts == "nobody"


def test_without_a_code_lakesis_own_words_are_kept():
    assert error_cause(_meeting("failed", None, "Gave up after 8 attempts: Zoom is down")) == (
        "Gave up after 8 attempts: Zoom is down")
    assert error_cause(_meeting("scheduled", None, None)) is None
