"""Headers every answer carries: a Content-Security-Policy without inline script, and friends."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response


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
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
