"""A health light per workspace, for people who work in several: worst first.

Red: Zoom work cannot happen or has given up (not connected, failed work, meetings deleted
in Zoom). Amber: work is late (held by Zoom's daily cap, due work waiting long, webhook
events not applied). Green otherwise. A handful of indexed counts per workspace.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    ConnectionStatus,
    DriftKind,
    Meeting,
    MeetingDrift,
    MeetingStatus,
    Membership,
    Operation,
    OperationState,
    WebhookEvent,
    Workspace,
)
from dashboard.orm import utcnow
from dashboard.services.connections import connection_of
from dashboard.services.retry_policy import PARKED_AFTER

LATE = timedelta(minutes=5)  # due work older than this is late; so is an unapplied event


class Light(enum.IntEnum):  # ordered: worst first sorts by -value
    GREEN = 0
    AMBER = 1
    RED = 2


@dataclass(frozen=True)
class WorkspaceHealth:
    workspace: Workspace
    role: str
    light: Light
    reasons: list[str]

    @property
    def colour(self) -> str:
        return self.light.name.lower()


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _meetings(workspace_id: int, status: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.workspace_id == workspace_id, Meeting.status == status)) or 0


def health_of(workspace: Workspace, now: datetime) -> tuple[Light, list[str]]:
    red: list[str] = []
    amber: list[str] = []
    connection = connection_of(workspace)
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        red.append("Zoom is not connected")
    elif connection.status == ConnectionStatus.NEEDS_REAUTH:
        red.append("Zoom needs re-authorization")
    failed = _meetings(workspace.id, MeetingStatus.FAILED)
    if failed:
        red.append(_plural(failed, "meeting failed", "meetings failed"))
    deleted = _meetings(workspace.id, MeetingStatus.DELETED_IN_ZOOM)
    if deleted:
        red.append(_plural(deleted, "meeting deleted in Zoom", "meetings deleted in Zoom"))
    changed = db.session.scalar(select(func.count()).select_from(MeetingDrift).where(
        MeetingDrift.workspace_id == workspace.id, MeetingDrift.resolved_at.is_(None),
        MeetingDrift.kind == DriftKind.CHANGED)) or 0
    if changed:
        red.append(_plural(changed, "meeting changed in Zoom", "meetings changed in Zoom"))
    queued = [Operation.workspace_id == workspace.id, Operation.state == OperationState.QUEUED]
    parked = db.session.scalar(select(func.count()).select_from(Operation).where(
        *queued, Operation.next_attempt_at > now + PARKED_AFTER)) or 0
    if parked:
        amber.append(_plural(parked, "change held by Zoom's daily limit",
                             "changes held by Zoom's daily limit"))
    oldest = db.session.scalar(select(func.min(Operation.created_at)).where(
        *queued, Operation.next_attempt_at <= now))
    if oldest is not None and now - oldest > LATE:
        amber.append(f"work due since {int((now - oldest).total_seconds() // 60)} min")
    unapplied = db.session.scalar(select(func.count()).select_from(WebhookEvent).where(
        WebhookEvent.workspace_id == workspace.id, WebhookEvent.processed_at.is_(None),
        WebhookEvent.received_at < now - LATE)) or 0
    if unapplied:
        amber.append(_plural(unapplied, "webhook event not applied", "webhook events not applied"))
    if red:
        return Light.RED, red + amber
    if amber:
        return Light.AMBER, amber
    return Light.GREEN, ["Connected; nothing failed or late"]


def overview(memberships: list[Membership], now: datetime | None = None) -> list[WorkspaceHealth]:
    """Each workspace of ``memberships`` with its light, worst first, then by name."""
    now = now or utcnow()
    found = []
    for membership in memberships:
        light, reasons = health_of(membership.workspace, now)
        found.append(WorkspaceHealth(membership.workspace, membership.role, light, reasons))
    return sorted(found, key=lambda h: (-h.light, h.workspace.name.lower(), h.workspace.id))
