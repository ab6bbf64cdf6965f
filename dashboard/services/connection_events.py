"""The Zoom link's events: the booking workflow learns that meetings will wait (or stop)
until an admin reconnects. Recorded where the connection's status changes, in that
transaction; each caller changes the status only once per fact."""

from __future__ import annotations

from flask import current_app

from dashboard.models import EventType
from dashboard.services import booking_events


def _reconnect_url() -> str:
    return f"{current_app.config['APP_BASE_URL']}/settings/integrations"


def needs_reauthorization(workspace_id: int, reason: str) -> None:
    booking_events.record(workspace_id, EventType.CONNECTION_NEEDS_REAUTHORIZATION, {
        "reason": reason[:300], "reconnect_url": _reconnect_url(),
        "next_step": "A workspace admin reconnects Zoom; waiting meetings then go ahead."})


def disconnected(workspace_id: int, reason: str) -> None:
    booking_events.record(workspace_id, EventType.CONNECTION_DISCONNECTED, {
        "reason": reason[:300], "reconnect_url": _reconnect_url(),
        "next_step": "Meetings are no longer made until a workspace admin connects Zoom."})
