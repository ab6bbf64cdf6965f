"""Where the suite's databases are: SQLite by default, PostgreSQL when asked or required."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lakesis_test"


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; under CI a missing part is a failure, not a skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres")):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def ensure_postgres_database(url: str) -> str:
    """Create the test database if the server has not got it yet; skip if no server."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    except OperationalError as error:
        unavailable(f"PostgreSQL is not reachable at {target.host}:{target.port}: "
                    f"{error.orig.__class__.__name__}")
    finally:
        admin.dispose()
    return url


def fresh_postgres_database(base_url: str, name: str) -> str:
    """A new empty database beside ``base_url`` (for migration tests), named after it too,
    so that suites run against different base databases never drop each other's."""
    ensure_postgres_database(base_url)
    name = f"{make_url(base_url).database}__{name}"
    target = make_url(base_url).set(database=name)
    admin = create_engine(make_url(base_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return target.render_as_string(hide_password=False)
