"""What the Integrations page and the app-wide banner say about a workspace's Zoom link:
how many meetings Lakesis manages there, and how many bookings wait for Zoom to come back."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    ConnectionStatus,
    Meeting,
    MeetingStatus,
    Operation,
    OperationState,
    Workspace,
    ZoomConnection,
)
from dashboard.services.connections import MARKETPLACE_REASON

# A meeting Lakesis still owns in Zoom: made there and neither over nor gone.
LIVE_MEETINGS = (MeetingStatus.SCHEDULED, MeetingStatus.STARTED)


@dataclass(frozen=True)
class Summary:
    managed_meetings: int
    waiting_bookings: int


def managed_meetings(workspace_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.workspace_id == workspace_id, Meeting.status.in_(LIVE_MEETINGS),
        Meeting.zoom_meeting_id.is_not(None))) or 0


def waiting_bookings(workspace_id: int) -> int:
    """Bookings with Zoom work not yet done (while Zoom is not connected, all of it waits)."""
    return db.session.scalar(select(func.count(func.distinct(Operation.booking_id))).where(
        Operation.workspace_id == workspace_id,
        Operation.state.in_(OperationState.UNFINISHED))) or 0


def summary(workspace: Workspace) -> Summary:
    return Summary(managed_meetings(workspace.id), waiting_bookings(workspace.id))


def removed_in_marketplace(connection: ZoomConnection | None) -> bool:
    return bool(connection and connection.status == ConnectionStatus.DISCONNECTED
                and connection.status_reason == MARKETPLACE_REASON)
