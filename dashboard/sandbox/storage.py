"""The sandbox's own database: tables, engine and transactions.

Deliberately separate from the host app's Flask-SQLAlchemy ``db``: the sandbox must never
appear in the host's Alembic migrations, and it can run as its own process against the
same file. Times are stored as epoch seconds (floats) on the sandbox clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

users = sa.Table(
    "sbx_users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False, index=True),
    sa.Column("email", sa.String(255), nullable=False, unique=True),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("last_name", sa.String(100), nullable=False),
    sa.Column("type", sa.Integer, nullable=False),
    sa.Column("role_name", sa.String(50), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
)

auth_codes = sa.Table(
    "sbx_auth_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(255), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("code_challenge", sa.String(128)),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used", sa.Boolean, nullable=False, default=False),
)

grants = sa.Table(
    "sbx_grants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.String(255), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False, index=True),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("refresh_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("refresh_expires_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float),
)

access_tokens = sa.Table(
    "sbx_access_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("grant_id", sa.Integer, nullable=False, index=True),
    sa.Column("expires_at", sa.Float, nullable=False),
)

meetings = sa.Table(
    "sbx_meetings",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("uuid", sa.String(64), nullable=False, unique=True),
    sa.Column("account_id", sa.String(64), nullable=False, index=True),
    sa.Column("host_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_ts", sa.Float, nullable=False),
    sa.Column("end_ts", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),  # when it last went live (for meeting.ended)
    sa.Column("deleted_at", sa.Float),
    sa.Column("data", sa.JSON, nullable=False),
)

faults = sa.Table(
    "sbx_faults",
    metadata,
    sa.Column("endpoint", sa.String(32), primary_key=True),
    sa.Column("mode", sa.String(32), nullable=False),
    sa.Column("remaining", sa.Integer),  # NULL: until cleared
    sa.Column("delay", sa.Float, nullable=False, default=0.0),
)

# Faults drawn at random, each for a share of an endpoint's requests (beside the fixed
# switches above, which go first): what a fault suite throws at a whole run.
fault_rates = sa.Table(
    "sbx_fault_rates",
    metadata,
    sa.Column("endpoint", sa.String(32), primary_key=True),
    sa.Column("mode", sa.String(32), primary_key=True),
    sa.Column("rate", sa.Float, nullable=False),  # 0 < rate <= 1
    sa.Column("delay", sa.Float, nullable=False, default=0.0),
)

counters = sa.Table(
    "sbx_counters",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

rate_windows = sa.Table(
    "sbx_rate_windows",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("window", sa.String(32), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)

# Who may schedule meetings for whom (Zoom's "scheduling privilege"): scheduler -> host.
scheduling = sa.Table(
    "sbx_scheduling",
    metadata,
    sa.Column("scheduler_id", sa.String(64), primary_key=True),
    sa.Column("host_id", sa.String(64), primary_key=True),
)

# Why a grant died, when it did not simply rotate: "revoked" (/oauth/revoke), "removed"
# (Marketplace), "superseded" (the user authorized the app again: OAuth error 4741).
grant_revocations = sa.Table(
    "sbx_grant_revocations",
    metadata,
    sa.Column("grant_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("reason", sa.String(32), nullable=False),
)

# Every endpoint.url_validation the sandbox sent, and whether the app answered right.
url_validations = sa.Table(
    "sbx_url_validations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sent_at", sa.Float, nullable=False),  # sandbox clock
    sa.Column("trigger", sa.String(16), nullable=False),  # "console", "control", "schedule"
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)

# What the local mail catcher received (make run points SMTP_URL at it), one row per
# Message-ID: a message sent again under the same id counts a delivery more.
mail = sa.Table(
    "sbx_mail",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(255), nullable=False, unique=True),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("mail_from", sa.String(255), nullable=False),
    sa.Column("rcpt_tos", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("deliveries", sa.Integer, nullable=False, default=1),
)

state = sa.Table(
    "sbx_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Everything /_control/reset wipes; seeded users stay (and the seeded scheduling
# privileges are put back by ``directory.seed_scheduling``).
RESETTABLE = (
    auth_codes,
    grants,
    access_tokens,
    meetings,
    faults,
    fault_rates,
    counters,
    rate_windows,
    state,
    scheduling,
    grant_revocations,
    url_validations,
    mail,
)


def create_engine(url: str) -> Engine:
    """Create an engine that is safe for a threaded server and several processes.

    For SQLite: WAL so readers never block the writer, a busy timeout so writers queue
    instead of failing, and ``BEGIN IMMEDIATE`` for every transaction so that
    read-then-write sequences (code use, token rotation, counters) are serialised across
    threads and processes rather than racing.
    """
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_schema(engine: Engine) -> None:
    """Create the tables; tolerate another process creating them at the same moment."""
    try:
        metadata.create_all(engine)
    except sa.exc.OperationalError:
        metadata.create_all(engine)


def engine() -> Engine:
    """The sandbox engine of the current app."""
    return current_app.extensions["zoom_sandbox"].engine


@contextmanager
def transaction() -> Iterator[Connection]:
    """One short write transaction on the sandbox database."""
    with engine().begin() as conn:
        yield conn


def bump(conn: Connection, name: str, by: int = 1) -> None:
    """Increment a named counter (used by /_control/state)."""
    updated = conn.execute(
        counters.update().where(counters.c.name == name).values(value=counters.c.value + by)
    ).rowcount
    if not updated:
        conn.execute(counters.insert().values(name=name, value=by))


def read_counters(conn: Connection) -> dict[str, int]:
    """All counters as a dict."""
    return {row.name: row.value for row in conn.execute(sa.select(counters))}


def get_state(conn: Connection, key: str) -> str | None:
    """A value of the sandbox's key/value state, or None."""
    return conn.execute(sa.select(state.c.value).where(state.c.key == key)).scalar()


def set_state(conn: Connection, key: str, value: str) -> None:
    """Store a value in the sandbox's key/value state."""
    updated = conn.execute(state.update().where(state.c.key == key).values(value=value)).rowcount
    if not updated:
        conn.execute(state.insert().values(key=key, value=value))
