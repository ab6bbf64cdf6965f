"""What ``POST /webhooks/zoom`` does: verify, store once, answer at once; apply after.

Served by ``receiver`` ahead of Flask's request machinery, so it reads the request it is
given rather than ``flask.request``.
"""

from __future__ import annotations

import json
import logging
import time

from werkzeug import Request, Response

from dashboard.metrics import WEBHOOK_EVENTS
from dashboard.request_body import read_limited
from dashboard.services import webhook_events, webhook_tallies
from dashboard.zoom.webhooks import MAX_BODY, Rejected, UrlValidation, dedupe_key, parse

log = logging.getLogger(__name__)


def json_answer(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _answer(status: str) -> Response:
    """``{"status": ...}``, written out: Zoom waits for it."""
    return Response(b'{"status":"%s"}\n' % status.encode(), mimetype="application/json")


def receive(request: Request, secret: str) -> Response:
    raw = read_limited(request, MAX_BODY)
    if raw is None:
        WEBHOOK_EVENTS.labels("too_large").inc()
        webhook_tallies.count("too_large")
        return json_answer({"error": "body too large"}, 413)
    try:
        event = parse(raw, request.headers, secret, now=time.time())
    except Rejected as rejected:
        if rejected.status == 401:
            log.warning("refused a Zoom webhook with a bad or stale signature")
        outcome = "bad_signature" if rejected.status == 401 else "malformed"
        WEBHOOK_EVENTS.labels(outcome).inc()
        webhook_tallies.count(outcome)  # no event row: the health page counts them here
        return json_answer({"error": rejected.message}, rejected.status)
    if isinstance(event, UrlValidation):
        WEBHOOK_EVENTS.labels("url_validation").inc()
        return json_answer(event.answer(secret))
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
