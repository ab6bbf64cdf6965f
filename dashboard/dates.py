"""One way to say a moment on every page: "1 Dec 2026, 14:05 WET", on the workspace's clock,
shown as "3 min ago" / "in 2 h" with the absolute moment on hover (``<time title>``).

``init_app`` registers the filters (``moment``, ``ago``) and the ``workspace_zone`` global;
``templates/macros.html``'s ``when`` puts them together.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context

from dashboard.bookings.display import in_zone
from dashboard.orm import utcnow

FORMAT = "%-d %b %Y, %H:%M"


def workspace_zone() -> str:
    """The time zone of the signed-in member's workspace (UTC when there is none)."""
    if not has_request_context():
        return "UTC"
    if "workspace_zone" not in g:
        from dashboard.access import current_membership

        membership = current_membership()
        g.workspace_zone = membership.workspace.timezone if membership else "UTC"
    return g.workspace_zone or "UTC"


def moment(value: datetime | None, zone: str | None = None) -> str:
    """``value`` in the one format of the dashboard, on ``zone``'s clock (the workspace's by
    default), with the zone's abbreviation: "1 Dec 2026, 14:05 WET"."""
    if value is None:
        return "—"
    local = in_zone(_aware(value), zone or workspace_zone())
    return f"{local:{FORMAT}} {local.tzname()}"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How far ``value`` is from now, in words a person says: "just now", "5 min ago",
    "in 2 h", "yesterday", "in 3 days"; past a month, the date itself."""
    if value is None:
        return "—"
    now = now or utcnow()
    delta = _aware(value) - _aware(now)
    seconds = abs(delta.total_seconds())
    future = delta > timedelta(0)
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        amount = f"{max(1, round(seconds / 60))} min"
    elif seconds < 86_400:
        amount = f"{round(seconds / 3600)} h"
    elif seconds < 2 * 86_400:
        return "tomorrow" if future else "yesterday"
    elif seconds < 31 * 86_400:
        amount = f"{round(seconds / 86_400)} days"
    else:
        return moment(value).split(",")[0]
    return f"in {amount}" if future else f"{amount} ago"


def _aware(value: datetime) -> datetime:
    # The database hands back naive UTC on SQLite.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def zone_abbreviation(zone: str, at: datetime | None = None) -> str:
    try:
        return (at or utcnow()).astimezone(ZoneInfo(zone)).tzname() or zone
    except (ValueError, KeyError):
        return "UTC"


def init_app(app: Flask) -> None:
    app.add_template_filter(moment, "moment")
    app.add_template_filter(ago, "ago")
    app.add_template_global(workspace_zone, "workspace_zone")
