"""Every Zoom error the product meets has a plain cause, a next step and who acts."""

from __future__ import annotations

import pytest

from dashboard.services.error_causes import RECONNECT, RETRYING, UNKNOWN, explain


@pytest.mark.parametrize(("code", "status", "message", "title_part", "step_part", "who"), [
    ("1001", 404, "User does not exist", "not a user in your Zoom account",
     "change the booking's host", "operator"),
    (3000, 400, "You cannot schedule a meeting for x", "may not schedule",
     "ask your Zoom admin", "zoom_admin"),
    ("daily-cap", 429, "daily limit", "100 meeting changes per host per day: resumes at "
     "00:00 UTC", "after 00:00 UTC", "nobody"),
    ("124", 401, "Invalid access token", "no longer accepts", "reconnects", "admin"),
    ("4741", 400, "Invalid Token!", "no longer accepts", "reconnects", "admin"),
    ("invalid_grant", 400, "", "no longer accepts", "reconnects", "admin"),
    ("429", 429, "Too many requests", "slow down", "waits", "nobody"),
    ("503", 503, "Service unavailable", "could not answer", "tries again", "nobody"),
    ("300", 400, "Invalid field", "refused the meeting's details", "names the field",
     "operator"),
    ("3001", 404, "Meeting does not exist", "no longer exists", "Recreate", "operator"),
    ("4711", 400, "does not contain scopes", "permission", "reconnects", "admin"),
    ("not-connected", None, "Zoom connection is needs_reauth", "no longer accepts",
     "reconnects", "admin"),
])
def test_each_error_has_a_plain_cause(code, status, message, title_part, step_part, who):
    cause = explain(code, status, message)
    assert title_part.lower() in cause.title.lower()
    assert step_part.lower() in cause.next_step.lower()
    assert cause.who_acts == who


def test_timeouts_and_5xx_without_a_code_are_retried():
    assert explain(None, None, "Zoom did not answer in time (timed out)") is RETRYING
    assert explain(None, 502, "Bad gateway") is RETRYING


def test_an_invalid_grant_named_in_the_message_means_reconnect():
    assert explain(None, 400, "invalid grant: the refresh token was revoked") is RECONNECT


def test_an_unknown_code_still_says_what_to_do_and_nothing_is_explained_for_nothing():
    assert explain("9999", 400, "Something new") is UNKNOWN
    assert "tracking id" in UNKNOWN.next_step
    assert explain(None, None, None) is None
