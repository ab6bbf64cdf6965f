"""Reading an API request's JSON body: size, media type and syntax, before any field."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, request

from dashboard.request_body import read_limited
from dashboard.services.booking_input import InvalidInput

MAX_BODY = 64 * 1024  # a booking is under 2 KB; anything near this is not a booking


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are Python's extension to JSON, not JSON.
    raise ValueError(name)


def json_body() -> Any:
    """The decoded body: 413 when too large, 415 when not JSON, InvalidInput when malformed."""
    if (request.content_length or 0) > MAX_BODY:
        abort(413, "The request body must be at most 64 KiB.")
    if not request.is_json:
        abort(415)
    raw = read_limited(request, MAX_BODY)
    if raw is None:
        abort(413, "The request body must be at most 64 KiB.")
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        raise InvalidInput([{"field": "body", "message": "is not valid JSON"}]) from error
