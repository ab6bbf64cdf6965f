"""One answer per error, shaped for who asked: JSON for the machines' blueprints (the API and
Zoom's webhooks, ``htmx.JSON_BLUEPRINTS``), a partial for htmx, a page for a browser."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from dashboard.extensions import login_manager
from dashboard.htmx import client_redirect, is_htmx, wants_json
from dashboard.services import unit_of_work

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please sign in.",
    403: "Your role in this workspace does not allow this.",
    404: "Not found in this workspace.",
    405: "This address does not accept that method.",
    413: "The request is too large.",
    415: "Send JSON with Content-Type: application/json.",
    429: "Too many requests. Please wait and try again.",
    500: "Something went wrong on our side. It has been logged.",
}
CSRF_MESSAGE = ("The form's security token is missing or no longer valid. "
                "Reload the page and try again.")


def error_response(status: int, message: str | None = None, field: str | None = None) -> Response:
    """The error answer for the current request."""
    message = message or MESSAGES.get(status, "The request failed.")
    if wants_json():
        body: dict = {"error": message}
        if field:
            body["errors"] = [{"field": field, "message": message}]
        response = jsonify(body)
        response.status_code = status
        return response
    if is_htmx():  # htmx swaps 4xx/5xx answers into #flashes (see htmx-config in base.html)
        return make_response(
            render_template("partials/error.html", status=status, message=message), status)
    return make_response(
        render_template("pages/error.html", status=status, message=message), status)


def _handle_http(error: HTTPException) -> Response:
    status = error.code or 500
    message = None
    if isinstance(error, CSRFError):
        message = CSRF_MESSAGE
    elif error.description and error.description != type(error).description:
        message = error.description  # a view's own words, e.g. how long to wait
    response = error_response(status, message)
    for name, value in error.get_headers():  # e.g. Allow on a 405
        if name.lower() != "content-type":
            response.headers[name] = value
    if status == 429 and getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    unit_of_work.discard()  # whatever the failed request left half-done is not written
    return error_response(500)


def _unauthorized() -> Response:
    if wants_json():
        return error_response(401)
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        return client_redirect(target, 401)
    return make_response("", 302, {"Location": target})


def init_app(app: Flask) -> None:
    """Answer every error through ``error_response``, and unauthorized visits too."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    login_manager.unauthorized_handler(_unauthorized)
