"""Answering htmx requests: the same partial a page includes, plus out-of-band flashes."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    """True for a request htmx made (not a boosted page load or history restore)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request")


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


def partial(template: str, status: int = 200, **context: Any) -> Response:
    """Render ``template`` followed by any flashed messages, swapped in out of band."""
    body = render_template(template, **context) + render_template(
        "partials/flashes.html", oob=True)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def page_or_partial(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """A whole page for a browser, just ``fragment`` for htmx; both vary on HX-Request."""
    if is_htmx():
        return partial(fragment, status=status, **context)
    response = make_response(render_template(page, **context), status)
    response.vary.add("HX-Request")
    return response
