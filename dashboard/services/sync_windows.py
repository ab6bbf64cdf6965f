"""The windows the sync health page looks back over, and time buckets in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Integer, cast, func, literal_column


@dataclass(frozen=True)
class Window:
    key: str  # as the query parameter spells it
    label: str
    length: timedelta
    bucket_seconds: int  # the chart's bars

    def since(self, now: datetime) -> datetime:
        return now - self.length


WINDOWS = {w.key: w for w in (
    Window("1h", "Last hour", timedelta(hours=1), 300),
    Window("24h", "Last 24 hours", timedelta(hours=24), 3600),
    Window("7d", "Last 7 days", timedelta(days=7), 3600),
)}
DEFAULT_WINDOW = WINDOWS["24h"]


def window_of(key: str | None) -> Window | None:
    """The window a query parameter names; None for one it does not (the caller says so)."""
    if not key:
        return DEFAULT_WINDOW
    return WINDOWS.get(key)


def bucket(dialect: str, column: ColumnElement[datetime], seconds: int) -> ColumnElement[int]:
    """SQL: which ``seconds``-long slot since the epoch ``column`` falls in."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Integer) // seconds
    # date_part is double precision; EXTRACT is numeric on PostgreSQL 14 and later, a third
    # slower over the 19,000 rows of a busy week.
    return cast(func.floor(func.date_part("epoch", column) / seconds), Integer)


def not_before(dialect: str, column: ColumnElement[datetime],
               moment: datetime) -> ColumnElement[bool]:
    """``column >= moment`` for a window's start, so that SQLite reads the window's index.
    Without histograms SQLite guesses a range keeps a quarter of the rows, and so prefers
    an index on ``state = 'succeeded'``, which holds most of the history; ``likelihood``
    tells it the window is a small part (and costs nothing when the query runs)."""
    bound = column >= moment
    return func.likelihood(bound, literal_column("0.01")) if dialect == "sqlite" else bound
