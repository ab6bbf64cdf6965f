"""Zoom's webhook events as the sync health page shows them: outcomes, recent ones, paged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from dashboard.extensions import db
from dashboard.models import WebhookEvent, Workspace, ZoomConnection
from dashboard.services import webhook_tallies

PAGE = 25
#: What became of a stored event, from its ``outcome`` text (``webhook_events.apply``).
OUTCOMES = ("applied", "ignored", "failed", "pending")


def outcome_of() -> ColumnElement[str]:
    """SQL: an event's outcome, one of ``OUTCOMES``."""
    return case((WebhookEvent.processed_at.is_(None), "pending"),
                (WebhookEvent.outcome.like("ignored%"), "ignored"),
                (WebhookEvent.outcome.like("failed%"), "failed"), else_="applied")


def label_of(event: WebhookEvent) -> str:
    if event.processed_at is None:
        return "pending"
    text = event.outcome or ""
    for prefix in ("ignored", "failed"):
        if text.startswith(prefix):
            return prefix
    return "applied"


@dataclass(frozen=True)
class Webhooks:
    by_outcome: dict[str, int]  # stored events of the window, by outcome
    not_stored: dict[str, int]  # refused requests and duplicates of the window (all workspaces)
    last_verified_at: datetime | None
    rows: list[WebhookEvent] = field(default_factory=list)
    outcome: str | None = None  # the filter
    older: int | None = None  # the id to page on from, if there are more

    @property
    def received(self) -> int:
        return sum(self.by_outcome.values())

    @property
    def pending(self) -> int:
        return self.by_outcome.get("pending", 0)


def _ours(workspace: Workspace, connection: ZoomConnection | None) -> ColumnElement[bool]:
    # Events carry Zoom's account id; one that was matched to this workspace has its id too.
    ours = WebhookEvent.workspace_id == workspace.id
    if connection is not None and connection.zoom_account_id:
        ours = or_(ours, and_(WebhookEvent.workspace_id.is_(None),
                              WebhookEvent.zoom_account_id == connection.zoom_account_id))
    return ours


def _last_verified(workspace: Workspace, connection: ZoomConnection | None) -> datetime | None:
    """Every stored event passed the signature check. One index probe per column: a max
    over the OR of both would read every event of the workspace."""
    newest = [db.session.scalar(select(func.max(WebhookEvent.received_at))
                                .where(WebhookEvent.workspace_id == workspace.id))]
    if connection is not None and connection.zoom_account_id:
        newest.append(db.session.scalar(
            select(func.max(WebhookEvent.received_at))
            .where(WebhookEvent.zoom_account_id == connection.zoom_account_id)))
    return max(filter(None, newest), default=None)


def webhooks(workspace: Workspace, connection: ZoomConnection | None, since: datetime, *,
             outcome: str | None = None, before: int | None = None) -> Webhooks:
    ours = _ours(workspace, connection)
    recent = and_(ours, WebhookEvent.received_at >= since)
    kind = outcome_of()
    counts = {name: 0 for name in OUTCOMES} | {
        name: total for name, total in db.session.execute(
            select(kind, func.count()).where(recent).group_by(kind)).all()}
    last = _last_verified(workspace, connection)
    listed = [recent]
    if outcome in OUTCOMES:
        listed.append(kind == outcome)
    if before:
        listed.append(WebhookEvent.id < before)
    rows = list(db.session.scalars(select(WebhookEvent).where(*listed)
                                   .order_by(WebhookEvent.id.desc()).limit(PAGE + 1)))
    older = rows[PAGE - 1].id if len(rows) > PAGE else None
    return Webhooks(counts, webhook_tallies.since(since), last, rows[:PAGE],
                    outcome if outcome in OUTCOMES else None, older)
