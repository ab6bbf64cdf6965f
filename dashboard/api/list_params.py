"""The query string of `GET /api/v1/bookings`: filters, page cursor and page size."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from werkzeug.datastructures import MultiDict

from dashboard.models import MeetingStatus
from dashboard.services.booking_input import InvalidInput
from dashboard.services.bookings import BookingFilters

DEFAULT_LIMIT, MAX_LIMIT = 50, 100
MAX_SEARCH = 200
MAX_CURSOR = 64
_SPACED_OFFSET = re.compile(r"(?<=\d) (\d{2}:?\d{2})$")
# "cancelled" filters on the booking's state; the others on its meeting's status.
STATUSES = tuple(status.value for status in MeetingStatus)


@dataclass(frozen=True)
class ListQuery:
    filters: BookingFilters
    cursor: str | None
    limit: int


def _moment(text: str, end_of_day: bool) -> datetime | None:
    """An ISO date-time with an offset, or a date (a whole UTC day); None if neither."""
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        if end_of_day and day < date.max:
            day += timedelta(days=1)  # `to` is exclusive: a bare date includes that whole day
        return datetime.combine(day, time(), UTC)
    # An unencoded "+01:00" in a query string arrives as " 01:00": read it as meant.
    text = _SPACED_OFFSET.sub(r"+\1", text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return None
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_list_query(args: MultiDict[str, str]) -> ListQuery:
    """The listing's parameters, or InvalidInput naming every bad one."""
    errors: list[dict[str, str]] = []

    def fail(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        fail("status", "must be one of: " + ", ".join(STATUSES))
    bounds: dict[str, datetime | None] = {}
    for name in ("from", "to"):
        text = (args.get(name) or "").strip()
        bounds[name] = _moment(text, end_of_day=name == "to") if text else None
        if text and bounds[name] is None:
            fail(name, "must be a date (2026-12-01) or a date-time with an offset "
                       "(2026-12-01T10:00:00Z)")
    if bounds["from"] and bounds["to"] and bounds["to"] <= bounds["from"]:
        fail("to", "must be after from")
    search = (args.get("q") or "").strip() or None
    if search and len(search) > MAX_SEARCH:
        fail("q", f"must be at most {MAX_SEARCH} characters")
    elif search and any(ord(ch) < 32 for ch in search):  # PostgreSQL refuses NUL outright
        fail("q", "must not contain control characters")
    cursor = args.get("cursor") or None
    if cursor and len(cursor) > MAX_CURSOR:
        fail("cursor", "is not a cursor this API gave out")
    limit = DEFAULT_LIMIT
    raw_limit = args.get("limit")
    if raw_limit is not None:
        if raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            fail("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    if errors:
        raise InvalidInput(errors)
    filters = BookingFilters(status=status, since=bounds["from"], until=bounds["to"],
                             search=search)
    return ListQuery(filters, cursor, limit)
