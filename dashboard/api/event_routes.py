"""The pull feed: the workspace's events in order, for workflows that cannot receive
webhooks. The same envelopes as the webhooks' bodies; ``after`` is the last ``cursor``
read (events are kept ``LAKESIS_EVENT_RETENTION_DAYS`` days)."""

from __future__ import annotations

from flask import Response, jsonify, request
from sqlalchemy import select

from dashboard.access import requires_api_key
from dashboard.api.blueprint import bp
from dashboard.api.key_auth import api_workspace
from dashboard.extensions import db
from dashboard.models import Event
from dashboard.services import booking_events
from dashboard.services.booking_input import InvalidInput

DEFAULT_LIMIT, MAX_LIMIT = 100, 500
MAX_CURSOR_DIGITS = 18  # within a signed 64-bit id


def _whole(name: str, low: int, high: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if (text.isascii() and text.isdigit() and len(text) <= MAX_CURSOR_DIGITS
            and int(text) >= low and (high is None or int(text) <= high)):
        return int(text)
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
    message = ("is not a cursor this API gave out" if name == "after"
               else f"must be a whole number {bounds}")
    raise InvalidInput([{"field": name, "message": message}])


@bp.get("/events")
@requires_api_key
def list_events() -> Response:
    errors = []
    after = limit = None
    try:
        after = _whole("after", 0)
    except InvalidInput as bad:
        errors += bad.errors
    try:
        limit = _whole("limit", 1, MAX_LIMIT)
    except InvalidInput as bad:
        errors += bad.errors
    if errors:
        raise InvalidInput(errors)
    after, limit = after or 0, limit or DEFAULT_LIMIT
    rows = list(db.session.scalars(select(Event).where(
        Event.workspace_id == api_workspace().id, Event.id > after)
        .order_by(Event.id).limit(limit + 1)))
    page = rows[:limit]
    return jsonify({"data": [booking_events.envelope(event) for event in page],
                    "next_cursor": str(page[-1].id) if page else str(after),
                    "has_more": len(rows) > limit})
