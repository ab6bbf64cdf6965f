"""Zoom's webhooks as typed events: verify the raw request, then read what it says.

``parse(raw, headers, secret, now)`` is the whole inbound protocol: signature and replay
window, the envelope, event names and payload layout, and their shapes and ranges. What
comes out is one of :class:`UrlValidation`, :class:`MeetingEvent`,
:class:`Deauthorization` or :class:`UnusedEvent`; anything else is a :class:`Rejected`
with the HTTP status and message to answer.

Stored events keep :meth:`ZoomEvent.stored_payload`, a trimmed copy in Zoom's own layout
(ids, times, statuses, and a changed meeting's topic; no hosts' keys, emails or passcodes),
so ``from_stored`` reads a stored event back with the same code that read it off the wire.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .meetings import parse_time
from .webhook_signature import url_validation_response, verify

MAX_BODY = 64 * 1024  # Zoom's events are a few KB; anything far larger is not Zoom
_INT64 = 2**63 - 1
_MAX_DURATION = 60 * 24 * 31  # minutes: far beyond any meeting Zoom holds
_MEETING_FIELDS = ("id", "uuid", "start_time", "duration", "timezone", "end_time", "status")
# A change in Zoom is compared with the booking's title too; the passcode only as "changed".
_UPDATED_FIELDS = (*_MEETING_FIELDS, "topic")
# What a stored event keeps of a passcode change: that it happened, not the passcode.
PASSCODE_CHANGED = "passcode_changed"
_MAX_TOPIC = 300
SIGNATURE_HEADER = "x-zm-signature"
TIMESTAMP_HEADER = "x-zm-request-timestamp"
TRACKING_HEADER = "x-zm-trackingid"


class Rejected(Exception):
    """The request is not a usable Zoom event; answer ``status`` with ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class MeetingChange(enum.StrEnum):
    """The meeting events Lakesis acts on."""

    CREATED = "meeting.created"
    UPDATED = "meeting.updated"
    DELETED = "meeting.deleted"
    STARTED = "meeting.started"
    ENDED = "meeting.ended"


DEAUTHORIZED = "app_deauthorized"
URL_VALIDATION = "endpoint.url_validation"


@dataclass(frozen=True)
class MeetingFields:
    """What one side of a meeting event says (only the fields Zoom sent)."""

    start_at: datetime | None = None
    duration_minutes: int | None = None
    timezone: str | None = None
    topic: str | None = None
    #: fields Zoom sent (``password`` for a passcode change: its value is never kept)
    sent: frozenset[str] = frozenset()

    @classmethod
    def read(cls, item: Any, *, changed: bool = False) -> MeetingFields:
        """One side of an event; ``changed`` (meeting.updated): its topic and passcode too."""
        if not isinstance(item, dict):
            return cls()
        if not changed:
            item = {k: v for k, v in item.items() if k not in ("topic", "password",
                                                                PASSCODE_CHANGED)}
        elif item.get(PASSCODE_CHANGED) is True:
            item = {**item, "password": None}
        duration = item.get("duration")
        if duration is not None and not _int_in(duration, 0, _MAX_DURATION):
            raise Rejected(400, "field 'payload.object.duration' is out of range")
        topic = item.get("topic")
        if topic is not None and (not isinstance(topic, str) or len(topic) > _MAX_TOPIC):
            raise Rejected(400, "field 'payload.object.topic' is not a meeting topic")
        return cls(start_at=_time(item.get("start_time"), "payload.object.start_time"),
                   duration_minutes=duration,
                   timezone=_name(item.get("timezone"), "payload.object.timezone"),
                   topic=topic,
                   sent=frozenset(k for k in ("start_time", "duration", "timezone", "topic",
                                              "password") if k in item))


@dataclass(frozen=True)
class ZoomEvent:
    name: str
    event_ts: int | None
    account_id: str | None
    payload: dict[str, Any] = field(repr=False)

    def stored_payload(self) -> dict[str, Any]:
        """What is kept of the event: enough to apply it, nothing more."""
        return self.payload


@dataclass(frozen=True)
class UrlValidation(ZoomEvent):
    plain_token: str = ""

    def answer(self, secret: str) -> dict[str, str]:
        return url_validation_response(secret, self.plain_token)


@dataclass(frozen=True)
class MeetingEvent(ZoomEvent):
    change: MeetingChange = MeetingChange.UPDATED
    meeting_id: int = 0
    operator_id: str | None = None
    new: MeetingFields = MeetingFields()
    old: MeetingFields = MeetingFields()


@dataclass(frozen=True)
class Deauthorization(ZoomEvent):
    user_id: str | None = None
    retain_user_data: bool = False
    deauthorized_at: datetime | None = None

    def forgotten_payload(self) -> dict[str, Any]:
        """The stored payload once the Zoom user's ids must be forgotten."""
        return {k: self.payload.get(k) for k in ("user_data_retention", "deauthorization_time")}


# What a stored event keeps once its Zoom user's data must go: times and statuses only.
_USER_FIELDS = ("account_id", "user_id", "operator_id")
_MEETING_USER_FIELDS = ("id", "uuid")  # Zoom counts a meeting's id as its host's data


def mentions_user(payload: dict[str, Any], user_id: str) -> bool:
    """Whether a stored payload names ``user_id`` (as the operator or the removed user)."""
    return any(payload.get(key) == user_id for key in ("operator_id", "user_id"))


def without_user_data(payload: dict[str, Any]) -> dict[str, Any]:
    """A stored payload with the Zoom user's ids and meeting ids removed (what
    ``app_deauthorized`` without data retention asks for); it then applies as nothing."""
    kept = {k: v for k, v in payload.items() if k not in _USER_FIELDS}
    for side in ("object", "old_object"):
        if isinstance(kept.get(side), dict):
            kept[side] = {k: v for k, v in kept[side].items() if k not in _MEETING_USER_FIELDS}
    return kept


@dataclass(frozen=True)
class UnusedEvent(ZoomEvent):
    """An event Lakesis does not act on (stored for the record, then ignored)."""


def parse(raw: bytes, headers: Mapping[str, str], secret: str, *, now: float) -> ZoomEvent:
    """Verify and read one webhook request. Raises :class:`Rejected`."""
    if len(raw) > MAX_BODY:
        raise Rejected(413, "body too large")
    if not verify(secret, headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER), raw,
                  now=now):
        raise Rejected(401, "invalid signature or stale timestamp")
    name, event_ts, payload = _envelope(raw)
    if name == URL_VALIDATION:
        plain = payload.get("plainToken")
        if not isinstance(plain, str) or not plain:
            raise Rejected(400, "field 'payload.plainToken' is missing")
        return UrlValidation(name, event_ts, None, {}, plain_token=plain)
    return read_event(name, event_ts, payload)


def _envelope(raw: bytes) -> tuple[str, int | None, dict[str, Any]]:
    """The event's name, Zoom's timestamp (ms) and its payload, each checked."""
    try:
        body = json.loads(raw)
    except RecursionError as error:  # json's C parser refuses hostile nesting this way
        raise Rejected(400, "body is nested too deeply") from error
    except ValueError as error:
        raise Rejected(400, "body is not JSON") from error
    if not isinstance(body, dict):
        raise Rejected(400, "body is not a JSON object")
    name = body.get("event")
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise Rejected(400, "field 'event' is missing or not a plain name")
    if len(name) > 64:
        raise Rejected(400, "field 'event' is too long")
    event_ts = body.get("event_ts")
    if event_ts is not None and not _int_in(event_ts, 0, _INT64):
        raise Rejected(400, "field 'event_ts' is not a time in milliseconds")
    payload = body.get("payload")
    return name, event_ts, payload if isinstance(payload, dict) else {}


def from_stored(name: str, event_ts: int | None, account_id: str | None,
                payload: dict[str, Any]) -> ZoomEvent:
    """A stored event read back (its account id is kept beside the trimmed payload); one
    that no longer reads is an :class:`UnusedEvent`."""
    try:
        return read_event(name, event_ts, {"account_id": account_id, **payload})
    except Rejected:
        return UnusedEvent(name, event_ts, account_id, payload)


def read_event(name: str, event_ts: int | None, payload: dict[str, Any]) -> ZoomEvent:
    """The event ``name`` from Zoom's ``payload`` (shapes and ranges checked)."""
    account_id = _name(payload.get("account_id"), "payload.account_id")
    if name == DEAUTHORIZED:
        kept = {k: payload.get(k) for k in (
            "user_id", "account_id", "user_data_retention", "deauthorization_time")}
        return Deauthorization(
            name, event_ts, account_id, kept,
            user_id=_name(payload.get("user_id"), "payload.user_id"),
            retain_user_data=str(payload.get("user_data_retention")).lower() == "true",
            deauthorized_at=_time(payload.get("deauthorization_time"),
                                  "payload.deauthorization_time"))
    if name not in set(MeetingChange):
        return UnusedEvent(name, event_ts, account_id, {})
    kept = {}
    fields = _UPDATED_FIELDS if name == MeetingChange.UPDATED else _MEETING_FIELDS
    for side in ("object", "old_object"):
        item = payload.get(side)
        if isinstance(item, dict):
            kept[side] = {k: item[k] for k in fields if k in item}
            if name == MeetingChange.UPDATED and ("password" in item
                                                  or item.get(PASSCODE_CHANGED) is True):
                kept[side][PASSCODE_CHANGED] = True
    operator = _name(payload.get("operator_id"), "payload.operator_id")
    if operator is not None:
        kept["operator_id"] = operator
    obj = payload.get("object")
    return MeetingEvent(
        name, event_ts, account_id, kept,
        change=MeetingChange(name),
        meeting_id=meeting_id_of(obj.get("id") if isinstance(obj, dict) else None),
        operator_id=operator,
        new=MeetingFields.read(obj, changed=name == MeetingChange.UPDATED),
        old=MeetingFields.read(payload.get("old_object"), changed=name == MeetingChange.UPDATED))


def meeting_id_of(value: Any) -> int:
    """Zoom sends ``object.id`` as a string in some events and a number in others; 0 when
    there is none. An id outside a 64-bit integer cannot be a Zoom meeting."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 19 else -1
    if isinstance(value, int):
        if not 0 < value <= _INT64:
            raise Rejected(400, "field 'payload.object.id' is not a meeting id")
        return value
    return 0


def dedupe_key(raw: bytes) -> str:
    """Zoom's retries resend the same bytes: their hash identifies the delivery."""
    return hashlib.sha256(raw).hexdigest()


def _name(value: Any, field: str) -> str | None:
    """An id or name Zoom sends (account, user, operator, time zone) as text; None when
    absent. What no Zoom id looks like (an object, a NUL, 65 characters) is refused: it
    would end up in queries and notes, where the database refuses it in turn."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > 64 or not value.isprintable():
        raise Rejected(400, f"field '{field}' is not a Zoom id or name")
    return value


def _time(value: Any, field: str) -> datetime | None:
    """A Zoom time, or None when absent; one that is there but unreadable (not ISO 8601,
    or past the first or last UTC date there is) cannot be Zoom's."""
    when = parse_time(value)
    if when is None and value not in (None, ""):
        raise Rejected(400, f"field '{field}' is not a time")
    return when


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

