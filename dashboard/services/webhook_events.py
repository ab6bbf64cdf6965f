"""Zoom webhook events: store each once (fast), then apply it (after answering Zoom)."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dashboard.extensions import db
from dashboard.models import WebhookEvent
from dashboard.orm import utcnow
from dashboard.services import connections

log = logging.getLogger(__name__)
MEETING_FIELDS = ("id", "uuid", "start_time", "duration", "timezone", "end_time", "status")


def _minimal_payload(event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Keep what applying needs; drop hosts' keys, emails and anything else Zoom sends."""
    if event == "app_deauthorized":
        return {k: payload.get(k) for k in (
            "user_id", "account_id", "user_data_retention", "deauthorization_time")}
    objects = {}
    for name in ("object", "old_object"):
        item = payload.get(name)
        if isinstance(item, dict):
            objects[name] = {k: item[k] for k in MEETING_FIELDS if k in item}
    if "operator_id" in payload:
        objects["operator_id"] = payload.get("operator_id")
    return objects


def store(body: dict[str, Any], raw: bytes) -> tuple[WebhookEvent, bool]:
    """Record a verified event once. Returns (event, is_new); a replay returns the first copy."""
    dedupe_key = hashlib.sha256(raw).hexdigest()
    event_name = str(body.get("event") or "")[:64] or "unknown"
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    event_ts = body.get("event_ts")
    row = WebhookEvent(
        event=event_name, dedupe_key=dedupe_key,
        event_ts=event_ts if isinstance(event_ts, int) else None,
        zoom_account_id=str(payload.get("account_id") or "")[:64] or None,
        payload=_minimal_payload(event_name, payload))
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            select(WebhookEvent).where(WebhookEvent.dedupe_key == dedupe_key))
        return existing, False
    return row, True


def _parse_time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    # Zoom documents its times in UTC; a time without an offset must still compare with
    # the aware datetimes in the database instead of failing the event forever.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _apply_deauthorization(event: WebhookEvent) -> str:
    payload = event.payload
    keep = str(payload.get("user_data_retention")).lower() == "true"
    when = _parse_time(payload.get("deauthorization_time"))
    stale_if_after = when  # a reconnect after the removal must survive a late event
    affected = connections.deauthorize(
        payload.get("user_id"), payload.get("account_id"), keep, not_connected_after=stale_if_after)
    if not keep:  # the event held the Zoom ids too: forget them like the connection did
        event.payload = {"user_data_retention": payload.get("user_data_retention"),
                         "deauthorization_time": payload.get("deauthorization_time")}
        event.zoom_account_id = None
    if not affected:
        return "ignored: no connection of that Zoom user (or reconnected since)"
    event.workspace_id = affected[0]
    return f"disconnected {len(affected)} workspace(s)"


HANDLERS = {"app_deauthorized": _apply_deauthorization}


def apply(event_id: int) -> str | None:
    """Apply one stored event if nobody has yet; returns its outcome."""
    event = db.session.scalar(select(WebhookEvent).where(
        WebhookEvent.id == event_id, WebhookEvent.processed_at.is_(None)).with_for_update())
    if event is None:
        db.session.rollback()
        return None
    handler = HANDLERS.get(event.event)
    try:
        outcome = handler(event) if handler else f"ignored: {event.event} is not used"
    except Exception:
        db.session.rollback()
        log.exception("applying Zoom webhook event %s failed", event_id)
        raise
    event = db.session.get(WebhookEvent, event_id)
    event.processed_at = utcnow()
    event.outcome = outcome[:200]
    db.session.commit()
    return outcome


def apply_pending(limit: int = 100) -> int:
    """Apply events stored but not applied (a process died between answering and applying)."""
    ids = list(db.session.scalars(select(WebhookEvent.id).where(
        WebhookEvent.processed_at.is_(None)).order_by(WebhookEvent.id).limit(limit)))
    db.session.commit()
    for event_id in ids:
        apply(event_id)
    return len(ids)
