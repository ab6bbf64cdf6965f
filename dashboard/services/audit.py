"""Recording and reading the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ApiKey, AuditEvent, User

# A detail whose name contains one of these would put a secret in the trail: refuse it.
_SECRET_WORDS = ("token", "secret", "password", "start_url", "api_key", "key_hash")


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in user, an API key, Zoom itself or the system."""

    type: str
    id: int | None
    label: str

    @classmethod
    def of_user(cls, user: User) -> Actor:
        return cls("user", user.id, user.email)

    @classmethod
    def of_api_key(cls, key: ApiKey) -> Actor:
        return cls("api_key", key.id, f"API key {key.name} ({key.prefix})")

    @classmethod
    def zoom(cls) -> Actor:
        return cls("zoom", None, "Zoom")

    @classmethod
    def system(cls) -> Actor:
        return cls("system", None, "Lakesis")


def record(
    workspace_id: int | None,
    actor: Actor,
    action: str,
    target: tuple[str, Any, str | None] | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits it with its change).

    ``target`` is ``(type, id, label)``.
    """
    leaked = [name for name in details if any(word in name.lower() for word in _SECRET_WORDS)]
    if leaked:
        raise ValueError(f"audit details must not carry secrets: {', '.join(leaked)}")
    target_type, target_id, target_label = target or (None, None, None)
    entry = AuditEvent(
        workspace_id=workspace_id,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:254],
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        target_label=target_label[:254] if target_label else None,
        details=details,
    )
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before_id: int | None


def list_events(
    workspace_id: int, filters: AuditFilters, before_id: int | None = None, limit: int = 50
) -> AuditPage:
    """Newest first, keyset-paginated on id so deep pages cost the same as the first."""
    query = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor_label.icontains(filters.actor, autoescape=True))
    if filters.since:
        query = query.where(AuditEvent.created_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.created_at < filters.until)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    rows = list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].id if more and rows else None)


def known_actions(workspace_id: int) -> list[str]:
    """The actions recorded in this workspace, for the filter's choices."""
    query = (select(AuditEvent.action).where(AuditEvent.workspace_id == workspace_id)
             .distinct().order_by(AuditEvent.action))
    return list(db.session.scalars(query))
