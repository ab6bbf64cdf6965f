"""How booking states read on the pages: human labels, badge colours, the workspace's clock.

Registered as template filters/globals for the whole app, so the bookings, booking and sync
health pages all say a status the same way.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from dashboard.bookings import bp

MEETING_LABELS = {
    "pending": "Pending",
    "scheduled": "Scheduled",
    "started": "In progress",
    "ended": "Ended",
    "cancelled": "Cancelled",
    "failed": "Failed",
    "waiting_for_connection": "Waiting for connection",
    "deleted_in_zoom": "Deleted in Zoom",
}
OPERATION_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "waiting": "Waiting for connection",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "dead": "Gave up",
}
# Badge classes of app.css: green when all is well, amber while waiting, red when it needs
# someone, grey when it is over.
_TONES = {
    "scheduled": "ok", "started": "ok", "succeeded": "ok",
    "pending": "busy", "queued": "busy", "running": "busy",
    "waiting_for_connection": "warn", "waiting": "warn",
    "failed": "bad", "dead": "bad", "deleted_in_zoom": "bad",
    "ended": "off", "cancelled": "off",
}


@bp.app_template_filter("meeting_label")
def meeting_label(status: str) -> str:
    return MEETING_LABELS.get(status, status.replace("_", " ").capitalize())


@bp.app_template_filter("operation_label")
def operation_label(state: str) -> str:
    return OPERATION_LABELS.get(state, state.capitalize())


@bp.app_template_filter("badge_tone")
def badge_tone(status: str) -> str:
    return "badge-" + _TONES.get(status, "off")


@bp.app_template_filter("in_zone")
def in_zone(moment: datetime | None, zone: str) -> datetime | None:
    """``moment`` on the clock of ``zone`` (an unknown zone falls back to UTC, never a 500)."""
    if moment is None:
        return None
    try:
        return moment.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError):
        return moment.astimezone(ZoneInfo("UTC"))


@bp.app_template_global("iana_zones")
def iana_zones() -> list[str]:
    """Every IANA zone name, for the time zone fields' suggestions."""
    return _zone_names()


@cache
def _zone_names() -> list[str]:
    return sorted(available_timezones())
