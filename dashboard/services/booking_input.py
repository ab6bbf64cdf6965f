"""What a booking request may say, checked field by field, for the API and the dashboard."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from dashboard import plain_text
from dashboard.email_address import normalized_email
from dashboard.services import ServiceError

KINDS = ("booking", "consultation")
MIN_DURATION, MAX_DURATION = 5, 720
MAX_AHEAD = timedelta(days=2 * 365)
TEXT_LIMITS = {"external_ref": 100, "title": 200, "customer.name": 120}
CREATE_FIELDS = {"external_ref", "title", "start_time", "duration_minutes", "timezone",
                 "customer", "host_email", "kind"}
CUSTOMER_FIELDS = {"name", "email"}
CHANGE_FIELDS = {"start_time", "duration_minutes", "timezone", "title", "host_email"}


class InvalidInput(ServiceError):
    """One or more fields are wrong; ``errors`` names each with its message."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors[0]["message"], errors[0]["field"], 422)
        self.errors = errors


@dataclass(frozen=True)
class NewBooking:
    external_ref: str
    kind: str
    title: str
    start_at: datetime
    duration_minutes: int
    timezone: str
    customer_name: str
    customer_email: str
    host_email: str | None

    def fingerprint(self) -> str:
        """Same fields, same fingerprint: how a repeated create is told from a conflict."""
        fields = asdict(self) | {"start_at": self.start_at.isoformat()}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    return name in _zones()


class _Checker:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.errors: list[dict[str, str]] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def text(self, field: str, value: Any, required: bool = True) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(field, "is required")
            return None
        if not isinstance(value, str):
            self.fail(field, "must be a string")
            return None
        value = value.strip()
        limit = TEXT_LIMITS.get(field, 254)
        if len(value) > limit:
            self.fail(field, f"must be at most {limit} characters")
            return None
        why = plain_text.problem(value)  # the Zoom topic and calendars show it verbatim
        if why:
            self.fail(field, why)
            return None
        return value

    def email(self, field: str, value: Any, required: bool = True) -> str | None:
        text = self.text(field, value, required)
        if text is None:
            return None
        email = normalized_email(text)
        if email is None:
            self.fail(field, "must be a valid email address")
        return email

    def start(self, field: str, value: Any) -> datetime | None:
        text = self.text(field, value)
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(field, "must be an ISO 8601 date-time with an offset, "
                             "e.g. 2026-12-01T10:00:00+01:00")
            return None
        if moment.tzinfo is None:
            self.fail(field, "must include a UTC offset, e.g. +01:00 or Z")
            return None
        try:
            moment = moment.astimezone(UTC).replace(microsecond=0)
        except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is past the last UTC date
            self.fail(field, "must be within the next two years")
            return None
        if moment <= self.now:
            self.fail(field, "must be in the future")
        elif moment - self.now > MAX_AHEAD:
            self.fail(field, "must be within two years")
        return moment

    def duration(self, field: str, value: Any) -> int | None:
        if value is None:
            self.fail(field, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, "must be a whole number of minutes")
            return None
        if not MIN_DURATION <= value <= MAX_DURATION:
            self.fail(field, f"must be between {MIN_DURATION} and {MAX_DURATION} minutes")
            return None
        return value

    def zone(self, field: str, value: Any) -> str | None:
        text = self.text(field, value)
        if text is not None and not is_timezone(text):
            self.fail(field, "must be an IANA time zone such as Europe/Lisbon")
            return None
        return text

    def unknown(self, payload: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
        for name in sorted(set(payload) - allowed):
            self.fail(prefix + name, "is not a field of this request")

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidInput([{"field": "body", "message": "must be a JSON object"}])
    return payload


def parse_new_booking(payload: Any, now: datetime) -> NewBooking:
    """A create request's fields, or InvalidInput listing every problem at once."""
    payload = _object(payload)
    check = _Checker(now)
    check.unknown(payload, CREATE_FIELDS)
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        check.fail("customer", "must be an object with name and email")
        customer = {}
    check.unknown(customer, CUSTOMER_FIELDS, "customer.")
    kind = payload.get("kind", "booking")
    if kind not in KINDS:
        check.fail("kind", "must be booking or consultation")
    booking = dict(
        external_ref=check.text("external_ref", payload.get("external_ref")),
        kind=kind,
        title=check.text("title", payload.get("title")),
        start_at=check.start("start_time", payload.get("start_time")),
        duration_minutes=check.duration("duration_minutes", payload.get("duration_minutes")),
        timezone=check.zone("timezone", payload.get("timezone")),
        customer_name=check.text("customer.name", customer.get("name")),
        customer_email=check.email("customer.email", customer.get("email")),
        host_email=check.email("host_email", payload.get("host_email"), required=False),
    )
    check.raise_if_any()
    return NewBooking(**booking)


def parse_changes(payload: Any, now: datetime) -> dict[str, Any]:
    """A reschedule's fields (only those given), or InvalidInput."""
    payload = _object(payload)
    check = _Checker(now)
    check.unknown(payload, CHANGE_FIELDS)
    changes: dict[str, Any] = {}
    if "start_time" in payload:
        changes["start_at"] = check.start("start_time", payload["start_time"])
    if "duration_minutes" in payload:
        changes["duration_minutes"] = check.duration("duration_minutes",
                                                     payload["duration_minutes"])
    if "timezone" in payload:
        changes["timezone"] = check.zone("timezone", payload["timezone"])
    if "title" in payload:
        changes["title"] = check.text("title", payload["title"])
    if "host_email" in payload:
        changes["host_email"] = check.email("host_email", payload["host_email"], required=False)
    if not payload:
        check.fail("body", "name at least one of: " + ", ".join(sorted(CHANGE_FIELDS)))
    check.raise_if_any()
    return changes


def local_time(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))
