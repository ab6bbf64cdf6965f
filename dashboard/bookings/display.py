"""How booking states read on the pages: human labels, badge colours, the workspace's clock.

Plain functions; ``init_app`` registers them as template filters and globals for the whole
app (``create_app``'s ``register_template_filters`` step), so the bookings, booking and sync
health pages all say a status the same way.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask

from dashboard.models import MeetingStatus, OperationState
from dashboard.services import drift

MEETING_LABELS = {
    MeetingStatus.PENDING: "Pending",
    MeetingStatus.SCHEDULED: "Scheduled",
    MeetingStatus.STARTED: "In progress",
    MeetingStatus.ENDED: "Ended",
    MeetingStatus.CANCELLED: "Cancelled",
    MeetingStatus.FAILED: "Failed",
    MeetingStatus.WAITING_FOR_CONNECTION: "Waiting for connection",
    MeetingStatus.DELETED_IN_ZOOM: "Deleted in Zoom",
}
OPERATION_LABELS = {
    OperationState.QUEUED: "Queued",
    OperationState.RUNNING: "Running",
    OperationState.WAITING: "Waiting for connection",
    OperationState.SUCCEEDED: "Succeeded",
    OperationState.FAILED: "Failed",
    OperationState.DEAD: "Gave up",
}
# Badge classes of app.css: green when all is well, amber while waiting, red when it needs
# someone, grey when it is over. (A StrEnum member is its value: one key serves both enums.)
_TONES = {
    MeetingStatus.SCHEDULED: "ok", MeetingStatus.STARTED: "ok", OperationState.SUCCEEDED: "ok",
    MeetingStatus.PENDING: "busy", OperationState.QUEUED: "busy",
    OperationState.RUNNING: "busy",
    MeetingStatus.WAITING_FOR_CONNECTION: "warn", OperationState.WAITING: "warn",
    MeetingStatus.FAILED: "bad", OperationState.DEAD: "bad", MeetingStatus.DELETED_IN_ZOOM: "bad",
    MeetingStatus.ENDED: "off", MeetingStatus.CANCELLED: "off",
}


def meeting_label(status: str) -> str:
    return MEETING_LABELS.get(status, status.replace("_", " ").capitalize())


def operation_label(state: str) -> str:
    return OPERATION_LABELS.get(state, state.capitalize())


def badge_tone(status: str) -> str:
    return "badge-" + _TONES.get(status, "off")


def drift_fields(changes: dict[str, object]) -> str:
    """The fields a drift found changed, in words ("length, topic")."""
    return ", ".join(drift.LABELS[key].lower() for key in drift.FIELDS if key in changes)


def in_zone(moment: datetime | None, zone: str) -> datetime | None:
    """``moment`` on the clock of ``zone`` (an unknown zone falls back to UTC, never a 500)."""
    if moment is None:
        return None
    try:
        return moment.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError):
        return moment.astimezone(ZoneInfo("UTC"))


def iana_zones() -> list[str]:
    """Every IANA zone name, for the time zone fields' suggestions."""
    return _zone_names()


@cache
def _zone_names() -> list[str]:
    return sorted(available_timezones())


def init_app(app: Flask) -> None:
    """Make the labels, badge tones and clocks above available to every template."""
    app.add_template_filter(meeting_label, "meeting_label")
    app.add_template_filter(operation_label, "operation_label")
    app.add_template_filter(badge_tone, "badge_tone")
    app.add_template_filter(drift_fields, "drift_fields")
    app.add_template_filter(in_zone, "in_zone")
    app.add_template_global(iana_zones, "iana_zones")
