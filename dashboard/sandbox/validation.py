"""Zoom's validation of meeting create/update bodies, written out by hand.

Mirrors the request schemas Zoom publishes for ``meetingCreate`` / ``meetingUpdate``
(``Session``, ``Recurrence``, ``MeetingSettings``) plus the limits Zoom enforces beyond
them (topic/agenda length, positive duration, IANA timezone, password characters).
Unknown fields are ignored, as Zoom does. A test checks this agrees with the schema.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from functools import cache
from typing import Any

Errors = list[dict[str, str]]

MEETING_TYPES = (1, 2, 3, 8)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")
_PASSWORD = re.compile(r"^[A-Za-z0-9@\-_*]{0,10}$")

_SETTING_BOOLEANS = (
    "host_video",
    "participant_video",
    "cn_meeting",
    "in_meeting",
    "join_before_host",
    "mute_upon_entry",
    "watermark",
    "use_pmi",
    "enforce_login",
    "close_registration",
    "waiting_room",
    "registrants_confirmation_email",
)
_SETTING_ENUMS: dict[str, tuple[Any, ...]] = {
    "approval_type": (0, 1, 2),
    "registration_type": (1, 2, 3),
    "audio": ("both", "telephony", "voip"),
    "auto_recording": ("local", "cloud", "none"),
}
_SETTING_STRINGS = ("enforce_login_domains", "alternative_hosts")
_RECURRENCE_ENUMS: dict[str, tuple[int, ...]] = {
    "type": (1, 2, 3),
    "monthly_week": (-1, 1, 2, 3, 4),
    "monthly_week_day": (1, 2, 3, 4, 5, 6, 7),
}


@cache
def timezones() -> frozenset[str]:
    """IANA timezone names Zoom would accept."""
    return frozenset(zoneinfo.available_timezones())


def is_int(value: Any) -> bool:
    """A JSON integer (booleans are not integers in JSON Schema)."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_start_time(value: str) -> datetime | None:
    """Parse ``yyyy-MM-ddTHH:mm:ss`` with optional fraction and ``Z``/offset; None if bad.

    The result is naive for local times (to be read in the meeting's timezone).
    """
    if not _DATE_TIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _invalid(field: str, message: str = "Invalid field.") -> dict[str, str]:
    return {"field": field, "message": message}


def _check_string(errors: Errors, body: dict[str, Any], key: str, field: str, limit: int) -> None:
    if key not in body:
        return
    value = body[key]
    if not isinstance(value, str):
        errors.append(_invalid(field))
    elif len(value) > limit:
        errors.append(_invalid(field, f"{key} cannot exceed {limit} characters."))


def _check_settings(errors: Errors, settings: Any) -> None:
    if not isinstance(settings, dict):
        errors.append(_invalid("settings"))
        return
    for key in _SETTING_BOOLEANS:
        if key in settings and not isinstance(settings[key], bool):
            errors.append(_invalid(f"settings.{key}"))
    for key, allowed in _SETTING_ENUMS.items():
        value = settings.get(key)
        if key in settings and (isinstance(value, bool) or value not in allowed):
            errors.append(_invalid(f"settings.{key}"))
    for key in _SETTING_STRINGS:
        if key in settings and not isinstance(settings[key], str):
            errors.append(_invalid(f"settings.{key}"))


def _weekly_days_ok(value: Any) -> bool:
    # The schema says integer 1-7; Zoom also takes a comma-separated string such as "2,4".
    if is_int(value):
        return 1 <= value <= 7
    return isinstance(value, str) and all(
        part.strip() in {"1", "2", "3", "4", "5", "6", "7"} for part in value.split(",")
    )


def _check_recurrence(errors: Errors, recurrence: Any) -> None:
    if not isinstance(recurrence, dict):
        errors.append(_invalid("recurrence"))
        return
    for key, allowed in _RECURRENCE_ENUMS.items():
        if key in recurrence and not (is_int(recurrence[key]) and recurrence[key] in allowed):
            errors.append(_invalid(f"recurrence.{key}"))
    ranges = {"repeat_interval": (1, 90), "monthly_day": (1, 31), "end_times": (1, 50)}
    for key, (low, high) in ranges.items():
        value = recurrence.get(key)
        if key in recurrence and not (is_int(value) and low <= value <= high):
            errors.append(_invalid(f"recurrence.{key}"))
    if "weekly_days" in recurrence and not _weekly_days_ok(recurrence["weekly_days"]):
        errors.append(_invalid("recurrence.weekly_days"))
    if "end_date_time" in recurrence:
        value = recurrence["end_date_time"]
        if not isinstance(value, str) or parse_start_time(value) is None:
            errors.append(_invalid("recurrence.end_date_time"))


def _check_tracking_fields(errors: Errors, fields: Any) -> None:
    if not isinstance(fields, list):
        errors.append(_invalid("tracking_fields"))
        return
    for index, item in enumerate(fields):
        if not isinstance(item, dict):
            errors.append(_invalid(f"tracking_fields[{index}]"))
            continue
        for key in ("field", "value"):
            if key in item and not isinstance(item[key], str):
                errors.append(_invalid(f"tracking_fields[{index}].{key}"))


def validate_meeting(body: Any) -> Errors:
    """Return Zoom-style field errors for a meeting create or update body; [] if valid.

    Both operations accept the same fields; an update only applies those present.
    """
    if not isinstance(body, dict):
        return [_invalid("", "Request Body should be a valid JSON object.")]
    errors: Errors = []
    _check_string(errors, body, "topic", "topic", 200)
    _check_string(errors, body, "agenda", "agenda", 2000)
    _check_string(errors, body, "schedule_for", "schedule_for", 255)
    _check_scalars(errors, body)
    if "settings" in body:
        _check_settings(errors, body["settings"])
    if "recurrence" in body:
        _check_recurrence(errors, body["recurrence"])
    if "tracking_fields" in body:
        _check_tracking_fields(errors, body["tracking_fields"])
    return errors


def _check_scalars(errors: Errors, body: dict) -> None:
    """type, start_time, duration, timezone and password, each when present."""
    if "type" in body and not (is_int(body["type"]) and body["type"] in MEETING_TYPES):
        errors.append(_invalid("type"))
    _check_times(errors, body)
    if "password" in body:
        value = body["password"]
        if not isinstance(value, str) or not _PASSWORD.match(value):
            errors.append(
                _invalid(
                    "password",
                    "Password may only contain [a-z A-Z 0-9 @ - _ *] and max 10 characters.",
                )
            )


def _check_times(errors: Errors, body: dict) -> None:
    if "start_time" in body:
        value = body["start_time"]
        if not isinstance(value, str) or parse_start_time(value) is None:
            errors.append(_invalid("start_time", "Invalid start_time: use yyyy-MM-ddTHH:mm:ssZ."))
    if "duration" in body and not (is_int(body["duration"]) and body["duration"] > 0):
        errors.append(_invalid("duration", "Duration must be a positive integer (minutes)."))
    if "timezone" in body:
        value = body["timezone"]
        if not isinstance(value, str) or (value and value not in timezones()):
            errors.append(_invalid("timezone", f"Invalid timezone: {value}."))
