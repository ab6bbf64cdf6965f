from __future__ import annotations

import json
import logging
import time

from flask import Response, current_app, jsonify, request

from dashboard.access import public
from dashboard.extensions import csrf, db
from dashboard.services import webhook_events
from dashboard.webhooks import bp
from dashboard.zoom.webhook_signature import url_validation_response, verify

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # Zoom's events are a few KB; anything far larger is not Zoom


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.route("/zoom", methods=["POST"])
@public  # authenticated by Zoom's signature instead of a session
@csrf.exempt
def zoom() -> Response:
    if (request.content_length or 0) > MAX_BODY:
        return _error(413, "body too large")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        return _error(413, "body too large")
    secret = current_app.config["ZOOM_WEBHOOK_SECRET_TOKEN"]
    if not verify(secret, request.headers.get("x-zm-request-timestamp"),
                  request.headers.get("x-zm-signature"), raw, now=time.time()):
        log.warning("refused a Zoom webhook with a bad or stale signature")
        return _error(401, "invalid signature or stale timestamp")
    try:
        body = json.loads(raw)
    except ValueError:
        return _error(400, "body is not JSON")
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        return _error(400, "field 'event' is missing")
    if body["event"] == "endpoint.url_validation":
        plain = (body.get("payload") or {}).get("plainToken")
        if not isinstance(plain, str) or not plain:
            return _error(400, "field 'payload.plainToken' is missing")
        return jsonify(url_validation_response(secret, plain))

    event, is_new = webhook_events.store(body, raw)
    if is_new:
        # Stored first, so nothing is lost; applying is a few row updates (no calls out),
        # well inside Zoom's 3 seconds, and the dashboard shows it at once. If applying
        # fails, the event stays pending and `flask zoom worker` applies it later.
        try:
            webhook_events.apply(event.id)
        except Exception:
            db.session.rollback()
            log.exception("Zoom webhook event %s stays pending", event.id)
    return jsonify({"status": "received" if is_new else "duplicate"})
