"""URL converters: ``<int:...>`` holds only ids a row can have.

Every table's id is an ``integer`` column, at most 2^31 - 1 on PostgreSQL. A larger number in
a URL cannot name a row, and PostgreSQL refuses to even compare it with one ("integer out of
range"), so it is a 404 before any query runs, on every route at once.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

ID_MAX = 2**31 - 1  # PostgreSQL's integer; SQLite's 64 bits hold it too
_ID_DIGITS = len(str(ID_MAX))


def digits_at_most(limit: int) -> str:
    """A regex of the decimal numbers from 0 to ``limit``: ``(?:\\d{1,9}|[0-1]\\d{9}|...)``."""
    text = str(limit)
    parts = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for index, digit in enumerate(text):
        if digit != "0":  # the same leading digits, a smaller one here, any after it
            parts.append(rf"{text[:index]}[0-{int(digit) - 1}]\d{{{len(text) - index - 1}}}")
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


class RowIdConverter(IntegerConverter):
    """``IntegerConverter`` bounded to what an id column holds (``max`` may raise it).

    The bound is in the regex, not only in ``to_python``: a number too large then matches no
    route at all, a plain 404, where a failed conversion on a path that also has a route for
    another method would answer 405.
    """

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = ID_MAX, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        if max is not None and max >= 0 and not signed and not fixed_digits:
            self.regex = digits_at_most(max)


def init_app(app: Flask) -> None:
    """Make ``<int:...>`` bounded; call before any blueprint adds its routes."""
    app.url_map.converters["int"] = RowIdConverter


def parse_row_id(text: str | None) -> int | None:
    """An id from a query string (e.g. a page cursor), or None when it cannot be a row's."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > _ID_DIGITS:
        return None
    value = int(text)
    return value if 0 < value <= ID_MAX else None
