"""Headers every answer carries: a Content-Security-Policy without inline script, and friends.

Every answer but a static file is also ``Cache-Control: no-store``: pages and API answers hold
customer names, join links and CSRF tokens, which neither a shared cache nor the browser's
history may keep. A view that means to be cached says so itself (the OpenAPI document).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(zoom_authorize_url: str) -> str:
    # Chrome applies form-action to the redirect that follows a form post, and "Connect"
    # posts a form that redirects to Zoom's consent page.
    form_targets = " ".join(dict.fromkeys(["'self'", _origin(zoom_authorize_url)]))
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        f"form-action {form_targets}",
    ])


def _is_static_file() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def init_app(app: Flask) -> None:
    """Add the headers to every answer of ``app``; forms may post to Zoom's consent page."""
    from dashboard.zoom.extension import endpoints_from_config

    policy = content_security_policy(endpoints_from_config(app.config).authorize_url)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not _is_static_file():
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
