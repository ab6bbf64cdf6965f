"""What the bookings table shares across its rows, its pager, and its one live poll."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from flask import url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from dashboard.services.bookings import BookingPage

# Seconds between polls of an open table: quicker while a row has Zoom work on its way.
POLL_BUSY, POLL_IDLE = 2, 5


@dataclass(frozen=True)
class TableBits:
    base: str  # "/bookings": rows build their links on it instead of calling url_for
    csrf: Markup  # the hidden CSRF field, for the forms that work without JavaScript
    may_operate: bool


def table_bits(may_operate: bool) -> TableBits:
    field = Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        generate_csrf()) if may_operate else Markup("")
    return TableBits(url_for("bookings.index"), field, may_operate)


@dataclass(frozen=True)
class Pager:
    summary: str  # "1 to 50 of 212"
    ascending: bool
    sort_url: str
    first_url: str | None
    previous_url: str | None
    next_url: str | None

    @property
    def aria_sort(self) -> str:
        return "ascending" if self.ascending else "descending"


def _url(base: str, args: Mapping[str, str]) -> str:
    return f"{base}?{urlencode(args)}" if args else base


def pager(base: str, filter_args: Mapping[str, str], page: BookingPage, *, at: int,
          total: int | None, cap: int, descending: bool, paged: bool) -> Pager:
    """Links keep the filters and the sort; ``at`` is the position of the page's first row;
    ``total`` None: not counted (the summary says more follow)."""
    keep = dict(filter_args)
    if descending:
        keep["sort"] = "-start"
    shown = len(page.bookings)
    if not shown:
        summary = "No bookings to show"
    elif total is None:
        summary = f"{at:,} to {at + shown - 1:,}" + (", more follow" if page.next_cursor else "")
    else:
        of = f"{cap:,}+" if total >= cap else f"{total:,}"
        summary = f"{at:,} to {at + shown - 1:,} of {of}"
    flipped = {k: v for k, v in filter_args.items() if k != "sort"}
    if not descending:
        flipped["sort"] = "-start"
    return Pager(
        summary=summary, ascending=not descending, sort_url=_url(base, flipped),
        first_url=_url(base, keep) if paged else None,
        previous_url=_url(base, {**keep, "before": page.previous_cursor,
                                 "at": str(max(1, at - 50))})
        if page.previous_cursor else None,
        next_url=_url(base, {**keep, "cursor": page.next_cursor, "at": str(at + shown)})
        if page.next_cursor else None)


@dataclass(frozen=True)
class LivePoll:
    url: str
    every: int
    at: str  # when the answer was made: the "updated N s ago" hint counts from it


def live_poll(base: str, ids: list[int], newest: int, now: datetime, busy: bool) -> LivePoll:
    query = urlencode({"ids": ".".join(map(str, ids)), "after": newest,
                       "since": f"{now.timestamp():.3f}"})
    return LivePoll(f"{base}/live?{query}", POLL_BUSY if busy else POLL_IDLE, now.isoformat())
