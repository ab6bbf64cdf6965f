"""Pooled connections are checked for life when they have sat idle, not at every checkout.

SQLAlchemy's ``pool_pre_ping`` asks the server at each checkout: a round trip on every
request, a sixth of a webhook's cost on PostgreSQL. A connection in steady use is known to
be alive; one idle for a while may have been closed by a restart, a failover or a proxy's
idle timeout, and is pinged first (a dead one is replaced before the request sees it).
A restart under load still fails the statements in flight: SQLAlchemy then marks the
pool's connections stale and replaces them on their next checkout.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_IDLE_SINCE = "lakesis_idle_since"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a connection at checkout when it was idle ``idle_seconds`` or longer (0: at every
    checkout). SQLite's file is always there: never pinged."""
    if engine.dialect.name == "sqlite":
        return
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from_now(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just connected, or in steady use
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # The pool throws this connection away and checks out another (three tries).
            raise DisconnectionError(f"pooled connection was dead: {error}") from error
