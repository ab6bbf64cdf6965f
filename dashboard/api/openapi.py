"""The API's OpenAPI 3.0 description, served at `/api/v1/openapi.json`.

Hand-written as data so it reads like the contract it is; tests validate every answer the
API gives against it and check that every route of the blueprint is described here.
"""

from __future__ import annotations

from typing import Any

from dashboard.api.event_routes import DEFAULT_LIMIT as EVENTS_DEFAULT_LIMIT
from dashboard.api.event_routes import MAX_LIMIT as EVENTS_MAX_LIMIT
from dashboard.api.json_body import MAX_BODY
from dashboard.api.list_params import DEFAULT_LIMIT, MAX_LIMIT, MAX_SEARCH, STATUSES
from dashboard.services.booking_input import KINDS, MAX_DURATION, MIN_DURATION, TEXT_LIMITS
from dashboard.services.webhook_endpoints import EVENT_TYPES

JSON = "application/json"
ICS = "text/calendar"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema_name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema_name)}},
            **extra}


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _text(max_length: int, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length,
            "description": description, **extra}


# Internationalized addresses (josé@exemplo.pt) are accepted: RFC 6531, not only RFC 5321.
_EMAIL = {"type": "string", "format": "idn-email", "maxLength": 254}
_DATE_TIME = {"type": "string", "format": "date-time"}
_DURATION = {"type": "integer", "minimum": MIN_DURATION, "maximum": MAX_DURATION,
             "description": "Length of the meeting in minutes."}
_START = {**_DATE_TIME, "description": "ISO 8601 with a UTC offset (or Z), in the future and "
                                       "within two years, e.g. 2026-12-01T10:00:00+01:00."}
_ZONE = {"type": "string", "maxLength": 64, "example": "Europe/Lisbon",
         "description": "IANA time zone the meeting is shown in."}

_BOOKING_ID = {
    "name": "booking_id", "in": "path", "required": True,
    "description": "The booking's `id` (as returned on create), or `ref:` and its "
                   "`external_ref` (`ref:crm-1`; a reference holding `/` cannot be used "
                   "here: keep the `id` for it).",
    "schema": {"type": "string", "maxLength": 104},
}

SCHEMAS: dict[str, Any] = {
    "FieldError": {
        "type": "object",
        "required": ["field", "message"],
        "additionalProperties": False,
        "properties": {
            "field": {"type": "string", "description": "The input at fault, e.g. "
                                                       "`start_time`, `customer.email`, `body`."},
            "message": {"type": "string"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {"type": "string", "description": "What went wrong, for a person."},
            "errors": {"type": "array", "items": _ref("FieldError"), "minItems": 1},
        },
    },
    "ValidationError": {
        "allOf": [_ref("Error"), {"required": ["errors"]}],
        "description": "An `Error` that names every field at fault.",
    },
    "Customer": {
        "type": "object",
        "required": ["name", "email"],
        "additionalProperties": False,
        "properties": {
            "name": _text(TEXT_LIMITS["customer.name"], "The customer's name."),
            "email": _EMAIL,
        },
    },
    "NewBooking": {
        "type": "object",
        "required": ["external_ref", "title", "start_time", "duration_minutes", "timezone",
                     "customer"],
        "additionalProperties": False,
        "properties": {
            "external_ref": _text(TEXT_LIMITS["external_ref"],
                                  "The workflow's own id for the booking, unique per "
                                  "workspace. Sending the same body again is safe."),
            "title": _text(TEXT_LIMITS["title"], "Meeting topic."),
            "start_time": _START,
            "duration_minutes": _DURATION,
            "timezone": _ZONE,
            "customer": _ref("Customer"),
            "host_email": {**_EMAIL, "nullable": True,
                           "description": "Zoom user to host, if not the connected one."},
            "kind": {"type": "string", "enum": list(KINDS), "default": "booking"},
        },
    },
    "BookingChanges": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "description": "Only the fields given change; the Zoom meeting follows.",
        "properties": {
            "start_time": _START,
            "duration_minutes": _DURATION,
            "timezone": _ZONE,
            "title": _text(TEXT_LIMITS["title"], "Meeting topic."),
            "host_email": {**_EMAIL, "nullable": True},
        },
    },
    "Meeting": {
        "type": "object",
        "required": ["status", "join_url", "zoom_meeting_id", "last_synced_at", "last_error"],
        "additionalProperties": False,
        "description": "The booking's Zoom meeting. The host's start link is never shown.",
        "properties": {
            "status": {"type": "string", "enum": list(STATUSES),
                       "description": "`pending` while Zoom work is on its way."},
            "join_url": {"type": "string", "nullable": True},
            "zoom_meeting_id": {"type": "integer", "format": "int64", "nullable": True},
            "last_synced_at": {**_DATE_TIME, "nullable": True},
            "last_error": {"type": "string", "nullable": True},
        },
    },
    "Booking": {
        "type": "object",
        "required": ["id", "external_ref", "kind", "title", "start_time", "duration_minutes",
                     "timezone", "host_email", "customer", "state", "created_at", "updated_at",
                     "meeting"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string"},
            "external_ref": {"type": "string"},
            "kind": {"type": "string", "enum": list(KINDS)},
            "title": {"type": "string"},
            "start_time": {**_DATE_TIME, "description": "UTC, e.g. 2026-12-01T09:00:00Z."},
            "duration_minutes": {"type": "integer"},
            "timezone": {"type": "string"},
            "host_email": {"type": "string", "nullable": True},
            "customer": _ref("Customer"),
            "state": {"type": "string", "enum": ["active", "cancelled"]},
            "created_at": _DATE_TIME,
            "updated_at": _DATE_TIME,
            "meeting": _ref("Meeting"),
        },
    },
    "BookingPage": {
        "type": "object",
        "required": ["data", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "data": {"type": "array", "items": _ref("Booking")},
            "next_cursor": {"type": "string", "nullable": True,
                            "description": "Pass as `cursor` for the next page; null on the "
                                           "last one."},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "cursor", "type", "created_at", "data"],
        "additionalProperties": False,
        "description": "One event; a webhook's body is exactly this object.",
        "properties": {
            "id": {"type": "string", "description": "Stable id: the `webhook-id` header of "
                                                     "every delivery and replay. Dedupe on it."},
            "cursor": {"type": "string", "pattern": "^[0-9]+$",
                       "description": "Its place in the feed: pass as `after`."},
            "type": {"type": "string", "enum": list(EVENT_TYPES)},
            "created_at": _DATE_TIME,
            "data": {
                "type": "object",
                "additionalProperties": True,
                "description": "Meeting events carry the booking's `booking_id` and "
                               "`external_ref`. `meeting.ready`: `join_url`, `passcode`, "
                               "`start` (`utc`, `local`, `timezone`), `duration_minutes`, "
                               "`host`. `meeting.changed`: `old` and `new` time (and "
                               "`join_url` when `recreated`). `meeting.failed`: `cause`, "
                               "`next_step`, `zoom_code`. Connection events: `reason`, "
                               "`reconnect_url`. Never the host's start link or a token.",
                "properties": {
                    "booking_id": {"type": "string"},
                    "external_ref": {"type": "string"},
                },
            },
        },
    },
    "EventPage": {
        "type": "object",
        "required": ["data", "next_cursor", "has_more"],
        "additionalProperties": False,
        "properties": {
            "data": {"type": "array", "items": _ref("Event")},
            "next_cursor": {"type": "string", "pattern": "^[0-9]+$",
                            "description": "Pass as `after` next time (the same `after` "
                                           "when nothing new came)."},
            "has_more": {"type": "boolean",
                         "description": "More events wait: ask again at once."},
        },
    },
}

_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": {"schema": {"type": "string"},
                                              "description": "`Bearer`"}}

RESPONSES: dict[str, Any] = {
    "Unauthorized": _json("Error", "The API key is missing, malformed, unknown or revoked.",
                          headers=_UNAUTHORIZED_HEADERS),
    "NotFound": _json("Error", "No such booking in the key's workspace."),
    "Conflict": _json("Error", "The request contradicts the booking's current state."),
    "TooLarge": _json("Error", f"The body is over {MAX_BODY // 1024} KiB."),
    "NotJson": _json("Error", "The body is not sent as application/json."),
    "Invalid": _json("ValidationError", "Some fields are not valid; each is named in "
                                        "`errors` (`body` for the body as a whole)."),
}

_BOOKING = _json("Booking", "The booking.")
_BODY_ERRORS = {"401": _error("Unauthorized"), "413": _error("TooLarge"),
                "415": _error("NotJson"), "422": _error("Invalid")}

PATHS: dict[str, Any] = {
    "/bookings": {
        "post": {
            "operationId": "createBooking",
            "summary": "Create a booking; its Zoom meeting follows",
            "description": "Idempotent on `external_ref`: the same body again answers 200 "
                           "with the first booking; other details under the same reference "
                           "answer 409.",
            "requestBody": {"required": True,
                            "content": {JSON: {"schema": _ref("NewBooking")}}},
            "responses": {
                "201": _json("Booking", "Created.", headers={"Location": {
                    "schema": {"type": "string"}, "description": "The booking's URL."}}),
                "200": _json("Booking", "Already created by the same body."),
                "409": _error("Conflict"),
                **_BODY_ERRORS,
            },
        },
        "get": {
            "operationId": "listBookings",
            "summary": "List bookings by start time, a page at a time",
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string",
                                                             "enum": list(STATUSES)},
                 "description": "The meeting's status; `cancelled` means cancelled bookings. "
                                "Leave it out for any status (an empty one is refused)."},
                {"name": "from", "in": "query", "schema": {"type": "string"},
                 "description": "Start at or after: a date (UTC day) or a date-time with an "
                                "offset."},
                {"name": "to", "in": "query", "schema": {"type": "string"},
                 "description": "Start before this date-time (a bare date includes that "
                                "whole day)."},
                {"name": "q", "in": "query",
                 "schema": {"type": "string", "maxLength": MAX_SEARCH},
                 "description": "Text in the title, customer name or email, or reference."},
                {"name": "cursor", "in": "query", "schema": {"type": "string"},
                 "description": "`next_cursor` of the previous page."},
                {"name": "limit", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                            "default": DEFAULT_LIMIT}},
            ],
            "responses": {
                "200": _json("BookingPage", "A page of bookings."),
                "401": _error("Unauthorized"),
                "422": _error("Invalid"),
            },
        },
    },
    "/bookings/{booking_id}": {
        "parameters": [_BOOKING_ID],
        "get": {
            "operationId": "getBooking",
            "summary": "One booking and its meeting",
            "responses": {"200": _BOOKING, "401": _error("Unauthorized"),
                          "404": _error("NotFound")},
        },
        "patch": {
            "operationId": "rescheduleBooking",
            "summary": "Reschedule: new time, duration, zone, title or host",
            "requestBody": {"required": True,
                            "content": {JSON: {"schema": _ref("BookingChanges")}}},
            "responses": {"200": _BOOKING, "404": _error("NotFound"),
                          "409": _error("Conflict"), **_BODY_ERRORS},
        },
    },
    "/bookings/{booking_id}/cancel": {
        "parameters": [_BOOKING_ID],
        "post": {
            "operationId": "cancelBooking",
            "summary": "Cancel the booking; its Zoom meeting is deleted",
            "description": "Takes no body. Cancelling a cancelled booking changes nothing.",
            "responses": {"200": _BOOKING, "401": _error("Unauthorized"),
                          "404": _error("NotFound")},
        },
    },
    "/events": {
        "get": {
            "operationId": "listEvents",
            "summary": "The workspace's events in order (the pull feed)",
            "description": "The same events as the webhooks (Settings > Webhooks), for a "
                           "workflow that cannot receive them: poll with the last "
                           "`next_cursor` as `after`. Events are kept "
                           "`LAKESIS_EVENT_RETENTION_DAYS` days (30 by default).",
            "parameters": [
                {"name": "after", "in": "query",
                 "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                 "description": "A `cursor` (or `next_cursor`) already read; leave out to "
                                "start from the oldest kept event."},
                {"name": "limit", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": EVENTS_MAX_LIMIT,
                            "default": EVENTS_DEFAULT_LIMIT}},
            ],
            "responses": {
                "200": _json("EventPage", "The next events, oldest first."),
                "401": _error("Unauthorized"),
                "422": _error("Invalid"),
            },
        },
    },
    "/bookings/{booking_id}/invitation.ics": {
        "parameters": [_BOOKING_ID],
        "get": {
            "operationId": "getBookingInvitation",
            "summary": "The customer's invitation as an iCalendar file",
            "description": "One VEVENT with the join link (LOCATION, URL, DESCRIPTION), the "
                           "booking's time zone (VTIMEZONE), a UID that never changes for the "
                           "booking and a SEQUENCE that grows with every change the customer "
                           "would see, so calendars update the event instead of adding "
                           "another. `METHOD:REQUEST` while the booking stands; "
                           "`METHOD:CANCEL` with `STATUS:CANCELLED` once it is cancelled.",
            "responses": {
                "200": {"description": "The invitation (RFC 5545).",
                        "headers": {"Content-Disposition": {
                            "schema": {"type": "string"},
                            "description": "`attachment; filename=\"invitation.ics\"` "
                                           "(`cancellation.ics` once cancelled)."}},
                        "content": {ICS: {"schema": {"type": "string"}}}},
                "401": _error("Unauthorized"),
                "404": _error("NotFound"),
                "409": _json("Error", "The booking's meeting has no join link yet: there is "
                                      "no invitation to send until it is ready."),
            },
        },
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapiDocument",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {JSON: {"schema": {"type": "object"}}}}},
        },
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Lakesis booking API",
        "version": "1.0.0",
        "description": "Create, reschedule and cancel bookings; each gets one Zoom meeting, "
                       "made in the background. Authenticate with a workspace API key "
                       "(Settings > API keys) as `Authorization: Bearer <key>`; the key "
                       "decides the workspace. Errors are JSON `Error` objects. Any "
                       "address also answers 405 for a method it does not accept.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"apiKey": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                       "description": "A workspace API key (lks_...)."}},
        "schemas": SCHEMAS,
        "responses": RESPONSES,
    },
}
