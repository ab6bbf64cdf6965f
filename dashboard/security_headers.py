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


def _always(app: Flask) -> list[tuple[str, str]]:
    from dashboard.zoom.extension import endpoints_from_config

    always = [("Content-Security-Policy",
               content_security_policy(endpoints_from_config(app.config).authorize_url)),
              ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
              ("X-Frame-Options", "DENY")]
    if app.config["SESSION_COOKIE_SECURE"]:
        always.append(("Strict-Transport-Security", "max-age=31536000"))
    return always


def answer_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers of any answer but a static file's (for answers made outside a view)."""
    return [*_always(app), ("Cache-Control", "no-store")]


def init_app(app: Flask) -> None:
    """Add the headers to every answer of ``app``; forms may post to Zoom's consent page."""
    always, not_static = _always(app), answer_headers(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        # Those a view set itself stay; one look at what it set (every answer pays this).
        present = {name.lower() for name, _ in response.headers}
        response.headers.extend([(name, value) for name, value in (
            always if _is_static_file() else not_static) if name.lower() not in present])
        return response
