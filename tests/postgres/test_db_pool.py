"""Pooled PostgreSQL connections: pinged after sitting idle, not at every checkout, and a
connection the server closed meanwhile is replaced before anyone uses it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from dashboard.db_pool import ping_when_idle
from tests.databases import ensure_postgres_database, postgres_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(monkeypatch):
    engine = create_engine(ensure_postgres_database(postgres_url()), pool_size=1,
                           max_overflow=0)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping",
                        lambda connection: pings.append(1) or real_ping(connection))
    engine.pings = pings  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _terminate(pid: int) -> None:
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_in_steady_use_is_not_pinged(engine):
    ping_when_idle(engine, idle_seconds=60)
    first = _backend_pid(engine)
    for _ in range(20):
        assert _backend_pid(engine) == first
    assert engine.pings == []


def test_an_idle_connection_the_server_closed_is_replaced_before_use(engine):
    ping_when_idle(engine, idle_seconds=0.2)
    closed = _backend_pid(engine)
    _terminate(closed)
    time.sleep(0.3)
    assert _backend_pid(engine) != closed  # no error: the ping found it dead
    assert engine.pings == [1]


def test_zero_pings_at_every_checkout(engine):
    ping_when_idle(engine, idle_seconds=0)
    for _ in range(3):
        _backend_pid(engine)
    assert len(engine.pings) == 2  # the first checkout is a fresh connection


def test_sqlite_is_never_pinged(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    ping_when_idle(engine, idle_seconds=0)
    with engine.connect() as connection:
        connection.scalar(text("SELECT 1"))
    assert not engine.pool.dispatch.checkout
    engine.dispose()
