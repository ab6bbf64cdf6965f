"""``POST /webhooks/zoom``: verify, store once, answer at once; apply after."""

from __future__ import annotations

import logging
import time

from flask import Response, current_app, jsonify, request

from dashboard.access import signed_by_zoom
from dashboard.extensions import csrf
from dashboard.metrics import WEBHOOK_EVENTS
from dashboard.request_body import read_limited
from dashboard.services import webhook_events, webhook_tallies
from dashboard.webhooks.blueprint import bp
from dashboard.zoom.webhooks import MAX_BODY, Rejected, UrlValidation, dedupe_key, parse

log = logging.getLogger(__name__)


def _answer(status: str) -> Response:
    """``{"status": ...}`` without ``jsonify``'s serializer: Zoom waits for it, and it was
    a sixth of the route's own work."""
    return Response(b'{"status":"%s"}\n' % status.encode(), mimetype="application/json")


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.route("/zoom", methods=["POST"])
@signed_by_zoom
@csrf.exempt
def zoom() -> Response:
    raw = read_limited(MAX_BODY)
    if raw is None:
        WEBHOOK_EVENTS.labels("too_large").inc()
        webhook_tallies.count("too_large")
        return _error(413, "body too large")
    secret = current_app.config["ZOOM_WEBHOOK_SECRET_TOKEN"]
    try:
        event = parse(raw, request.headers, secret, now=time.time())
    except Rejected as rejected:
        if rejected.status == 401:
            log.warning("refused a Zoom webhook with a bad or stale signature")
        outcome = "bad_signature" if rejected.status == 401 else "malformed"
        WEBHOOK_EVENTS.labels(outcome).inc()
        webhook_tallies.count(outcome)  # no event row: the health page counts them here
        return _error(rejected.status, rejected.message)
    if isinstance(event, UrlValidation):
        WEBHOOK_EVENTS.labels("url_validation").inc()
        return jsonify(event.answer(secret))
    event_id, is_new = webhook_events.store(event, dedupe_key(raw))
    if is_new and webhook_events.applies_at_once(event):
        try:
            webhook_events.apply(event_id)
        except Exception:
            log.exception("Zoom webhook event %s stays pending", event_id)
    # Everything else is applied by the worker within its next loop (about a second):
    # stored first, so nothing is lost, and Zoom's answer costs one insert.
    WEBHOOK_EVENTS.labels("received" if is_new else "duplicate").inc()
    if not is_new:
        webhook_tallies.count("duplicate")
    return _answer("received" if is_new else "duplicate")
