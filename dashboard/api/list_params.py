"""The query string of `GET /api/v1/bookings`: filters, page cursor and page size."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from dashboard import plain_text
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


def _status(text: str) -> str:
    if text not in STATUSES:
        raise ValueError
    return text


def _bound(end_of_day: bool) -> Callable[[str], datetime]:
    def parse(text: str) -> datetime:
        moment = _moment(text, end_of_day)
        if moment is None:
            raise ValueError
        return moment

    return parse


def _search(text: str) -> str:
    if len(text) > MAX_SEARCH:
        raise ValueError
    why = plain_text.problem(text)  # PostgreSQL refuses NUL outright
    if why:
        raise ValueError(why)
    return text


def _cursor(text: str) -> str:
    if len(text) > MAX_CURSOR:
        raise ValueError
    return text


def _limit(text: str) -> int:
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_LIMIT:
        return int(text)
    raise ValueError


def _stripped(raw: str) -> str | None:
    return raw.strip() or None


def _unless_empty(raw: str) -> str | None:
    return raw or None


def _even_empty(raw: str) -> str | None:
    return raw


@dataclass(frozen=True)
class Param:
    """One query parameter: ``read`` turns the raw text into the text to parse (None: as if
    absent, giving ``default``); ``parse`` raises ValueError for a bad one, answered with
    ``message`` (or the exception's own, when it gives one)."""

    name: str
    parse: Callable[[str], Any]
    message: str
    read: Callable[[str], str | None] = _stripped
    default: Any = None


_MOMENT = "must be a date (2026-12-01) or a date-time with an offset (2026-12-01T10:00:00Z)"
PARAMS: tuple[Param, ...] = (
    # An empty status is not one of the document's values (nor "any"): omit it for any.
    Param("status", _status, "must be one of: " + ", ".join(STATUSES), read=_even_empty),
    Param("from", _bound(end_of_day=False), _MOMENT),
    Param("to", _bound(end_of_day=True), _MOMENT),
    Param("q", _search, f"must be at most {MAX_SEARCH} characters"),
    Param("cursor", _cursor, "is not a cursor this API gave out", read=_unless_empty),
    Param("limit", _limit, f"must be a whole number from 1 to {MAX_LIMIT}", read=_even_empty,
          default=DEFAULT_LIMIT),
)
_ORDER = {param.name: index for index, param in enumerate(PARAMS)}


def _read_params(args: MultiDict[str, str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Each parameter's value (its default when absent or bad), and the errors, in order."""
    values: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for param in PARAMS:
        raw = args.get(param.name)
        text = None if raw is None else param.read(raw)
        values[param.name] = param.default
        if text is None:
            continue
        try:
            values[param.name] = param.parse(text)
        except ValueError as exc:
            errors.append({"field": param.name, "message": str(exc) or param.message})
    return values, errors


def parse_list_query(args: MultiDict[str, str]) -> ListQuery:
    """The listing's parameters, or InvalidInput naming every bad one."""
    values, errors = _read_params(args)
    if values["from"] and values["to"] and values["to"] <= values["from"]:
        errors.append({"field": "to", "message": "must be after from"})
    if errors:
        errors.sort(key=lambda error: _ORDER[error["field"]])  # stable: the table's order
        raise InvalidInput(errors)
    filters = BookingFilters(status=values["status"], since=values["from"], until=values["to"],
                             search=values["q"])
    return ListQuery(filters, values["cursor"], values["limit"])
