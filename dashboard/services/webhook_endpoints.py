"""Settings > Webhooks: the endpoints a workspace's events are delivered to.

A signing secret is made here, kept encrypted (the worker signs with it), and shown to
the admin once. Rotating keeps the old secret signing beside the new one for a grace
period, so receivers can switch without losing a delivery. Every change is audited.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.models import (
    DeliveryAttempt,
    EndpointState,
    Event,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
)
from dashboard.orm import utcnow
from dashboard.services import NotFound, ServiceError, endpoint_urls
from dashboard.services.audit import Actor, record
from dashboard.services.unit_of_work import transaction

EVENT_TYPES = tuple(kind.value for kind in EventType)
MAX_ENDPOINTS = 10
LOG_PAGE = 25
MAX_REPLAY = 5000


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _target(endpoint: WebhookEndpoint) -> tuple[str, int, str]:
    return ("webhook_endpoint", endpoint.id, endpoint.url[:100])


def _own_urls() -> tuple[str, ...]:
    from flask import has_request_context, request

    own = [current_app.config["APP_BASE_URL"]]
    if has_request_context():
        own.append(request.host_url)
    return tuple(own)


def checked_url(url: str) -> str:
    try:
        return endpoint_urls.check(
            url, production=current_app.config["LAKESIS_ENV"] == "production",
            own_urls=_own_urls())
    except endpoint_urls.BadUrl as bad:
        raise ServiceError(str(bad), "url") from bad


def _types(chosen: list[str]) -> str:
    unknown = [kind for kind in chosen if kind not in EVENT_TYPES]
    if unknown or not chosen:
        raise ServiceError("Choose at least one event type.", "event_types")
    return " ".join(kind for kind in EVENT_TYPES if kind in chosen)


def list_endpoints(workspace: Workspace) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.workspace_id == workspace.id).order_by(WebhookEndpoint.id)))


def get(workspace: Workspace, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.workspace_id != workspace.id:
        raise NotFound("webhook endpoint")
    return endpoint


def create(workspace: Workspace, actor: Actor, url: str, types: list[str]) -> WebhookEndpoint:
    url, event_types = checked_url(url), _types(types)
    count = db.session.scalar(select(func.count()).select_from(WebhookEndpoint).where(
        WebhookEndpoint.workspace_id == workspace.id))
    if count >= MAX_ENDPOINTS:
        raise ServiceError(f"A workspace has at most {MAX_ENDPOINTS} endpoints; delete one "
                           "first.", "url", 409)
    endpoint = WebhookEndpoint(workspace_id=workspace.id, url=url, event_types=event_types,
                               secret_enc=token_cipher.encrypt(new_secret()))
    with transaction():
        db.session.add(endpoint)
        db.session.flush()
        record(workspace.id, actor, "webhook_endpoint.created", _target(endpoint),
               event_types=event_types)
    return endpoint


def secret_of(endpoint: WebhookEndpoint) -> str:
    """The current signing secret, for the one page that shows it once."""
    return token_cipher.decrypt(endpoint.secret_enc)


def set_types(workspace: Workspace, actor: Actor, endpoint_id: int,
              types: list[str]) -> WebhookEndpoint:
    endpoint = get(workspace, endpoint_id)
    event_types = _types(types)
    if event_types != endpoint.event_types:
        with transaction():
            record(workspace.id, actor, "webhook_endpoint.types_changed", _target(endpoint),
                   old=endpoint.event_types, new=event_types)
            endpoint.event_types = event_types
    return endpoint


def rotate(workspace: Workspace, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """A new secret signs from now on; the old one signs too for the grace period."""
    endpoint = get(workspace, endpoint_id)
    grace = timedelta(hours=current_app.config["WEBHOOK_SECRET_GRACE_HOURS"])
    with transaction():
        endpoint.previous_secret_enc = endpoint.secret_enc if grace else None
        endpoint.previous_secret_until = utcnow() + grace if grace else None
        endpoint.secret_enc = token_cipher.encrypt(new_secret())
        record(workspace.id, actor, "webhook_endpoint.secret_rotated", _target(endpoint),
               old_valid_until=endpoint.previous_secret_until.isoformat() if grace else None)
    return endpoint


def set_paused(workspace: Workspace, actor: Actor, endpoint_id: int,
               paused: bool) -> WebhookEndpoint:
    endpoint = get(workspace, endpoint_id)
    if paused == (endpoint.state == EndpointState.PAUSED):
        return endpoint
    with transaction():
        if paused:
            endpoint.state = EndpointState.PAUSED.value
            endpoint.paused_reason = f"Paused by {actor.label}"[:300]
        else:
            endpoint.state = EndpointState.ACTIVE.value
            endpoint.paused_reason = endpoint.failing_since = None
        record(workspace.id, actor, "webhook_endpoint.paused" if paused
               else "webhook_endpoint.resumed", _target(endpoint))
    return endpoint


def remove(workspace: Workspace, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    endpoint = get(workspace, endpoint_id)
    with transaction():
        record(workspace.id, actor, "webhook_endpoint.deleted", _target(endpoint))
        db.session.delete(endpoint)
    return endpoint


@dataclass(frozen=True)
class LogPage:
    attempts: list[DeliveryAttempt]
    older: int | None  # the ``before`` of the next page


def attempts(workspace: Workspace, endpoint_id: int, before: int | None = None) -> LogPage:
    """The delivery log, newest first, a page at a time."""
    endpoint = get(workspace, endpoint_id)
    query = select(DeliveryAttempt).where(DeliveryAttempt.endpoint_id == endpoint.id)
    if before is not None:
        query = query.where(DeliveryAttempt.id < before)
    rows = list(db.session.scalars(query.order_by(DeliveryAttempt.id.desc())
                                   .limit(LOG_PAGE + 1)))
    older = rows[LOG_PAGE - 1].id if len(rows) > LOG_PAGE else None
    return LogPage(rows[:LOG_PAGE], older)


def recent_deliveries(endpoint: WebhookEndpoint, limit: int = 25) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id.desc())
        .limit(limit)))


def _replay(endpoint: WebhookEndpoint, events: list[Event]) -> int:
    for event in events:
        db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id,
                                       booking_id=event.booking_id or 0))
    return len(events)


def replay_event(workspace: Workspace, actor: Actor, endpoint_id: int, event_key: str) -> int:
    """Send one event again (same webhook-id: a receiver that has it drops the copy)."""
    endpoint = get(workspace, endpoint_id)
    event = db.session.scalar(select(Event).where(Event.workspace_id == workspace.id,
                                                  Event.key == event_key.strip()))
    if event is None:
        raise ServiceError("No event with this id in this workspace (events are kept "
                           f"{current_app.config['EVENT_RETENTION_DAYS']} days).", "event_id",
                           404)
    with transaction():
        _replay(endpoint, [event])
        record(workspace.id, actor, "webhook_endpoint.replayed", _target(endpoint),
               event=event.key)
    return 1


def replay_range(workspace: Workspace, actor: Actor, endpoint_id: int, since: datetime,
                 until: datetime) -> int:
    """Send again every event of the types it takes from ``since`` to ``until`` (after an
    outage), in their order."""
    endpoint = get(workspace, endpoint_id)
    if until <= since:
        raise ServiceError("The end of the range must come after its start.", "until")
    events = list(db.session.scalars(select(Event).where(
        Event.workspace_id == workspace.id, Event.type.in_(endpoint.types),
        Event.created_at >= since, Event.created_at < until).order_by(Event.id)
        .limit(MAX_REPLAY + 1)))
    if len(events) > MAX_REPLAY:
        raise ServiceError(f"More than {MAX_REPLAY} events in that range; replay a shorter "
                           "one.", "since")
    with transaction():
        count = _replay(endpoint, events)
        record(workspace.id, actor, "webhook_endpoint.replayed", _target(endpoint),
               since=since.isoformat(), until=until.isoformat(), events=count)
    return count
