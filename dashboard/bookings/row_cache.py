"""The bookings table's rows as HTML, kept per process for the values that made them.

A row is a pure function of what it shows: the booking and its meeting as read
(``services.bookings.TableBooking``), its open Zoom work, whether it is watched, its open
drift (kind and wording), the workspace's time zone and who is looking (operator or not).
Those values are the key, so a changed booking is a new key and never an old row; and
the table, read again and again by every operator, renders only what changed. Working
each row out and rendering it was a third of the page's cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup

from dashboard.bookings.rendering import ROW
from dashboard.bookings.row_view import attention, row_view
from dashboard.bookings.table import TableBits
from dashboard.services import drift as drifts
from dashboard.services.bookings import TableBooking
from dashboard.services.live_rows import LiveRows

KEPT = 2_000  # rows (40 pages); about 1 KB each. Full, it starts again.


def _kept() -> dict[tuple, Markup]:
    return current_app.extensions.setdefault("booking_rows", {})


def rendered_rows(bookings: Iterable[TableBooking], rows: LiveRows, zone: str,
                  table: TableBits, *, oob: bool = False) -> list[Markup]:
    """Each booking's ``<tbody>`` (out of band for a poll), in the order given."""
    bookings = list(bookings)
    found = drifts.open_drifts(booking.id for booking in bookings)
    kept = _kept()
    macro = None
    clock: str | ZoneInfo | None = None
    shown = []
    for booking in bookings:
        drift = found.get(booking.id)
        key = (booking, rows.work.get(booking.id), booking.id in rows.polling,
               drift and (drift.kind, attention(drift)), zone, table.base, table.may_operate,
               oob)
        html = kept.get(key)
        if html is None:
            if macro is None:
                macro = current_app.jinja_env.get_template(ROW).module.row
                clock = _clock(zone)
            html = macro(row_view(booking, rows, clock, drift), table, oob=oob)
            if len(kept) >= KEPT:
                kept.clear()
            kept[key] = html
        shown.append(html)
    return shown


def _clock(zone: str) -> str | ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (ValueError, KeyError):  # in_zone falls back to UTC, row by row
        return zone
