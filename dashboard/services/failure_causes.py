"""Failures grouped by cause: what went wrong, how often, since when.

A cause is Zoom's code in plain words (``error_causes.explain``) where the failure has one,
else the error text with what differs from one meeting to the next (ids, addresses, times)
taken out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from dashboard.models import OperationState
from dashboard.services import error_causes

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f-]{27,}\b|\b[A-Za-z0-9+/=_-]{20,}\b")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2}| UTC)?")
_NUMBER = re.compile(r"\b\d{5,}\b")
_SPACE = re.compile(r"\s+")
OTHER = "Other causes (each seen rarely)"
UNKNOWN = "No error recorded"


def cause_of(message: str | None, code: str | None = None) -> str:
    """The cause a failure names, the same for every meeting it happened to: Zoom's code in
    plain words and the next step (``error_causes``), or else the error text with its
    addresses, times, ids and numbers taken out."""
    if code:
        explained = error_causes.explain(code, None, message)
        if explained is not None and explained is not error_causes.UNKNOWN:
            return f"{explained.title} {explained.next_step}"
    if not message:
        return UNKNOWN
    text = _EMAIL.sub("<address>", message)
    text = _TIME.sub("<time>", text)
    text = _UUID.sub("<id>", text)
    text = _NUMBER.sub("<number>", text)
    return _SPACE.sub(" ", text).strip()[:200]


@dataclass
class FailureGroup:
    cause: str
    count: int = 0
    failed: int = 0  # Zoom (or Lakesis) refused: an operator decides
    dead: int = 0  # gave up after the last attempt
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    examples: list[str] = field(default_factory=list)  # raw texts, for the details

    def add(self, message: str | None, state: str, count: int, first: datetime | None,
            last: datetime | None) -> None:
        self.count += count
        if state == OperationState.DEAD:
            self.dead += count
        else:
            self.failed += count
        self.first_seen = min(filter(None, (self.first_seen, first)), default=None)
        self.last_seen = max(filter(None, (self.last_seen, last)), default=None)
        if message and len(self.examples) < 3 and message not in self.examples:
            self.examples.append(message)


#: (error text, Zoom's code, state, count, first, last)
Row = tuple[str | None, str | None, str, int, datetime | None, datetime | None]


def group_failures(rows: list[Row], total: int) -> list[FailureGroup]:
    """Fold (error, code, state, count, first, last) rows into groups by cause, most seen
    first.
    ``total``: every failure of the window; what the rows did not cover (more distinct texts
    than were read) is one "other causes" group, so the groups add up to ``total``."""
    groups: dict[str, FailureGroup] = {}
    for message, code, state, count, first, last in rows:
        cause = cause_of(message, code)
        groups.setdefault(cause, FailureGroup(cause)).add(message, state, count, first, last)
    counted = sum(group.count for group in groups.values())
    if total > counted:
        other = groups.setdefault(OTHER, FailureGroup(OTHER))
        other.count += total - counted
    return sorted(groups.values(), key=lambda g: (-g.count, g.cause))
