"""What a workspace's overview shows: how far its setup has come, and how its bookings stand."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    ApiKey,
    Booking,
    ConnectionStatus,
    Meeting,
    MeetingStatus,
    Workspace,
)
from dashboard.services import connection_summary
from dashboard.services.connections import connection_of


@dataclass(frozen=True)
class Overview:
    zoom_status: str  # a ConnectionStatus, "disconnected" when never connected
    zoom_email: str | None
    active_keys: int
    bookings: int
    failed: int
    waiting: int
    managed_meetings: int

    @property
    def zoom_connected(self) -> bool:
        return self.zoom_status == ConnectionStatus.CONNECTED

    @property
    def setup_done(self) -> bool:
        return self.zoom_connected and self.active_keys > 0 and self.bookings > 0


def overview_of(workspace: Workspace) -> Overview:
    connection = connection_of(workspace)
    count = db.session.scalar
    return Overview(
        zoom_status=connection.status if connection else ConnectionStatus.DISCONNECTED.value,
        zoom_email=connection.zoom_email if connection else None,
        active_keys=count(select(func.count()).select_from(ApiKey).where(
            ApiKey.workspace_id == workspace.id, ApiKey.revoked_at.is_(None))) or 0,
        bookings=count(select(func.count()).select_from(Booking).where(
            Booking.workspace_id == workspace.id)) or 0,
        failed=count(select(func.count()).select_from(Meeting).where(
            Meeting.workspace_id == workspace.id,
            Meeting.status.in_((MeetingStatus.FAILED, MeetingStatus.DELETED_IN_ZOOM)))) or 0,
        waiting=connection_summary.waiting_bookings(workspace.id),
        managed_meetings=connection_summary.managed_meetings(workspace.id))
