"""``POST /webhooks/zoom``, answered in front of the dashboard's request machinery.

Zoom's webhooks are the one busy route nobody signs in to, and Zoom retries whatever it
does not hear back about within 3 seconds. Through Flask they paid for what only the
dashboard's pages need: the request context and its URL matching, the session cookie,
CSRF's and Flask-Login's hooks; profiled, that was a third of the route's CPU. So the
receiver is WSGI middleware around the app (inside ProxyFix, when configured), working in
the app's own context: the same config, database, metrics and logs (with the request id),
and the same security headers. Every other address is the app's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, g
from werkzeug import Request

from dashboard.errors import MESSAGES
from dashboard.log_format import request_id
from dashboard.security_headers import answer_headers
from dashboard.services import unit_of_work
from dashboard.webhooks.routes import json_answer, receive

PATH = "/webhooks/zoom"
log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Receiver:
    def __init__(self, app: Flask, inner: WsgiApp) -> None:
        self.app, self.inner = app, inner
        self.headers = answer_headers(app)

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.inner(environ, start_response)
        request = Request(environ)
        with self.app.app_context():
            g.request_id = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
            if request.method != "POST":
                response = json_answer({"error": MESSAGES[405]}, 405)
                response.headers["Allow"] = "POST"
            else:
                try:
                    response = receive(request, self.app.config["ZOOM_WEBHOOK_SECRET_TOKEN"])
                except Exception:
                    log.exception("unhandled error on POST %s", PATH)
                    unit_of_work.discard()
                    response = json_answer({"error": MESSAGES[500]}, 500)
            response.headers.extend(self.headers)
            response.headers["X-Request-ID"] = g.request_id
            return response(environ, start_response)


def mount(app: Flask) -> None:
    """Serve Zoom's webhooks ahead of the app's views."""
    app.wsgi_app = _Receiver(app, app.wsgi_app)  # type: ignore[method-assign]
