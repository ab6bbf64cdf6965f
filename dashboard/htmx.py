"""Answering htmx requests: every partial, redirect and out-of-band case in one place.

A page includes the partials its routes return, so htmx and a plain browser see the same
markup; which of them asked decides only how much of it is sent.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, make_response, redirect, render_template, request

# Blueprints that answer machines: their errors (even a 404 under their prefix) are JSON.
JSON_BLUEPRINTS = frozenset({"api", "webhooks"})
FLASHES = "partials/flashes.html"


def is_htmx() -> bool:
    """True for a request htmx made (not a boosted page load or history restore)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request")


def request_blueprint() -> str | None:
    """The blueprint answering the request; for an address no route matched (a 404 or 405),
    the blueprint whose URL prefix it is under."""
    if request.blueprint:
        return request.blueprint
    for name, blueprint in current_app.blueprints.items():
        prefix = (blueprint.url_prefix or "").rstrip("/")
        if prefix and (request.path == prefix or request.path.startswith(prefix + "/")):
            return name
    return None


def wants_json() -> bool:
    return request_blueprint() in JSON_BLUEPRINTS or (
        request.accept_mimetypes.best == "application/json")


def _varying(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def fragment(template: str, /, status: int = 200, **context: Any) -> Response:
    """Just ``template``, without the flashes (a poll must not eat a message meant for the
    next page)."""
    return _varying(make_response(render_template(template, **context), status))


def partial(template: str, /, status: int = 200, **context: Any) -> Response:
    """Render ``template`` followed by any flashed messages, swapped in out of band."""
    body = render_template(template, **context) + render_template(FLASHES, oob=True)
    return _varying(make_response(body, status))


def with_out_of_band(response: Response, template: str, /, **context: Any) -> Response:
    """Append ``template`` rendered with ``oob=True`` (it carries ``hx-swap-oob``)."""
    response.set_data(response.get_data(as_text=True) + render_template(
        template, oob=True, **context))
    return response


def page_or_partial(page: str, part: str, status: int = 200, /, **context: Any) -> Response:
    """A whole page for a browser, just ``part`` (and the flashes) for htmx; both vary on
    HX-Request."""
    if is_htmx():
        return partial(part, status=status, **context)
    return _varying(make_response(render_template(page, **context), status))


def client_redirect(target: str, status: int = 200) -> Response:
    """Make htmx load ``target`` as a whole page (``HX-Redirect``)."""
    response = make_response("", status)
    response.headers["HX-Redirect"] = target
    return response


def redirect_to(target: str) -> Response:
    """Go to ``target``: ``HX-Redirect`` for htmx (a 302 would be swapped in), else a 302."""
    if is_htmx():
        return client_redirect(target)
    return redirect(target)
