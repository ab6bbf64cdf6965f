"""Routes of the booking API: parse the request, call the bookings service, serialize."""

from __future__ import annotations

from flask import Response, jsonify, request, url_for

from dashboard.access import public, requires_api_key
from dashboard.api.blueprint import bp
from dashboard.api.json_body import json_body
from dashboard.api.key_auth import api_actor, api_workspace, authenticate_request
from dashboard.api.list_params import parse_list_query
from dashboard.api.openapi import DOCUMENT
from dashboard.api.serializers import booking_json
from dashboard.models import Booking
from dashboard.orm import utcnow
from dashboard.services import ServiceError, bookings
from dashboard.services.booking_input import InvalidInput, parse_changes, parse_new_booking

bp.before_request(authenticate_request)  # what @requires_api_key views rely on


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError) -> tuple[Response, int]:
    """A refused request as JSON; 422s list every field at fault."""
    body: dict[str, object] = {"error": error.message}
    if isinstance(error, InvalidInput):
        fields = ", ".join(dict.fromkeys(item["field"] for item in error.errors))
        body = {"error": f"Some fields are not valid: {fields}.", "errors": error.errors}
    elif error.field:
        body["errors"] = [{"field": error.field, "message": error.message}]
    return jsonify(body), error.status


def _booking_response(booking: Booking, status: int = 200) -> tuple[Response, int]:
    return jsonify(booking_json(booking)), status


@bp.get("/openapi.json")
@public  # the API's description; every other route needs a key
def openapi_document() -> Response:
    response = jsonify(DOCUMENT)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.post("/bookings")
@requires_api_key
def create_booking() -> tuple[Response, int]:
    new = parse_new_booking(json_body(), utcnow())
    booking, created = bookings.create(api_workspace(), api_actor(), new)
    response, status = _booking_response(booking, 201 if created else 200)
    if created:
        response.headers["Location"] = url_for("api.get_booking", booking_id=booking.public_id)
    return response, status


@bp.get("/bookings")
@requires_api_key
def list_bookings() -> Response:
    query = parse_list_query(request.args)
    page = bookings.list_bookings(api_workspace(), query.filters, query.cursor, query.limit)
    return jsonify({"data": [booking_json(booking) for booking in page.bookings],
                    "next_cursor": page.next_cursor})


REF_PREFIX = "ref:"


def booking_named(booking_id: str) -> Booking:
    """The booking a path names: its `id`, or `ref:<external_ref>` (the workflow's own
    reference, so it can read back a booking without keeping Lakesis's id)."""
    if booking_id.startswith(REF_PREFIX):
        return bookings.get_by_ref(api_workspace(), booking_id[len(REF_PREFIX):])
    return bookings.get_public(api_workspace(), booking_id)


@bp.get("/bookings/<booking_id>")
@requires_api_key
def get_booking(booking_id: str) -> tuple[Response, int]:
    return _booking_response(booking_named(booking_id))


@bp.patch("/bookings/<booking_id>")
@requires_api_key
def reschedule_booking(booking_id: str) -> tuple[Response, int]:
    changes = parse_changes(json_body(), utcnow())
    booking = booking_named(booking_id)
    return _booking_response(bookings.reschedule(api_workspace(), api_actor(), booking, changes))


@bp.post("/bookings/<booking_id>/cancel")
@requires_api_key
def cancel_booking(booking_id: str) -> tuple[Response, int]:
    booking = booking_named(booking_id)
    return _booking_response(bookings.cancel(api_workspace(), api_actor(), booking))
