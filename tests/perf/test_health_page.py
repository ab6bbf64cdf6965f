"""The sync health page (`GET /health`) at 1,000 and 1,000,000 operations on PostgreSQL and
100,000 on SQLite, side by side, against a bare Flask route served the same way.

Each database holds one workspace whose finished operations are spread over a year (one
booking per ten operations, mostly succeeded, 1.5% failed or gave up with a handful of
error texts), an open backlog of BACKLOG operations (queued, waiting) whatever the size,
and a webhook event per ten operations. The page's queries read only the window
or the open work, so its cost follows what happened in the window, not the history: the
1,000,000-operation page reads about as much per window as a day of that workspace holds.

gunicorn serves ``wsgi:app`` (and the bare route) with WORKERS sync workers; ``wrk`` loads
each case for SECONDS with CONNECTIONS connections, signed in by the session cookie. Then
each case runs in-process, one request at a time (time in the app and in SQL, statements),
and the largest case's operations queries are EXPLAINed. The data is cached per database,
keyed by ``bench_marker``. Nothing is asserted about time: each page must answer 200.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from dashboard import create_app
from dashboard.cli import ensure_member, ensure_workspace
from dashboard.extensions import db
from dashboard.models import Booking, Meeting, Operation, Role, User, WebhookEvent, Workspace
from tests.perf.harness import (
    HOST,
    ROOT,
    WRK_THREADS,
    Keys,
    LoadResult,
    app_env,
    gunicorn,
    harness_overrides,
    is_marked,
    machine_load,
    mark,
    move_sequences_past_ids,
    postgres_database_url,
    recreate_postgres_database,
    report,
    running,
    settle,
    table,
    wrk,
    wrk_available,
)
from tests.perf.test_bookings_page import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    _explain,
    _short_plan,
    _short_sql,
    _sign_in,
    _sql_of_page,
)

pytestmark = pytest.mark.perf

WORKERS, CONNECTIONS, SECONDS = 4, 8, 8
DATA_VERSION = 4
BACKLOG = 100  # open operations (queued, waiting): the same at every size, like a real queue
MINUTES_A_YEAR = 365 * 24 * 60
SIZES = (("sqlite", 100_000), ("postgresql", 1_000), ("postgresql", 1_000_000))
CASES = (("24 h (default)", "/health"), ("last hour", "/health?window=1h"),
         ("7 days", "/health?window=7d"))
ERRORS = ("Zoom refused: 1001 User does not exist: host{n}@example.test.",
          "Zoom refused: 3000 Cannot access meeting {n} info.")
DEAD_ERROR = "Zoom is unavailable (HTTP 503, tracking id {n})"


# --- the data ----------------------------------------------------------------------------


def _op_state(i: int, ops: int) -> str:
    if i > ops - BACKLOG:
        return "queued" if i % 2 else "waiting"
    bucket = (i * 37) % 1000
    return "failed" if bucket < 10 else "dead" if bucket < 15 else "succeeded"


def _fill_sqlite(ops: int, workspace_id: int, anchor: datetime) -> None:
    random.seed(DATA_VERSION)
    bookings = ops // 10
    for start in range(1, bookings + 1, 10_000):
        rows = range(start, min(start + 10_000, bookings + 1))
        db.session.execute(insert(Booking.__table__), [{
            "id": b, "public_id": f"{random.getrandbits(128):032x}",
            "workspace_id": workspace_id, "external_ref": f"health-{b}", "kind": "booking",
            "title": f"Consultation {b}", "duration_minutes": 30, "timezone": "UTC",
            "start_at": anchor + timedelta(minutes=15 * ((b * 7919) % 70_080 - 35_040)),
            "host_email": f"host{b % 5}@example.test", "customer_name": "Ana Silva",
            "customer_email": f"ana{b}@example.test", "state": "active",
            "fingerprint": f"{b:064x}", "created_at": anchor, "updated_at": anchor}
            for b in rows])
        db.session.execute(insert(Meeting.__table__), [{
            "id": b, "booking_id": b, "workspace_id": workspace_id,
            "status": "failed" if b % 33 == 0 else "deleted_in_zoom" if b % 101 == 0
            else "scheduled", "recreated_count": 0, "create_unconfirmed": False,
            "updated_at": anchor} for b in rows])
    for start in range(1, ops + 1, 10_000):
        rows = range(start, min(start + 10_000, ops + 1))
        batch = []
        for i in rows:
            state = _op_state(i, ops)
            finished = anchor - timedelta(minutes=(i * 7919) % MINUTES_A_YEAR)
            batch.append({
                "id": i, "workspace_id": workspace_id, "booking_id": (i - 1) // 10 + 1,
                "kind": "update" if i % 4 == 0 else "create", "state": state,
                "attempts": 1, "next_attempt_at": anchor, "requested_by": "bench",
                "created_at": finished, "updated_at": finished,
                "finished_at": finished if state in ("succeeded", "failed", "dead") else None,
                "last_error": ERRORS[i % 2].format(n=i % 50) if state == "failed"
                else DEAD_ERROR.format(n=i) if state == "dead" else None})
        db.session.execute(insert(Operation.__table__), batch)
        db.session.execute(insert(WebhookEvent.__table__), [{
            "id": i // 10, "event": "meeting.started", "dedupe_key": f"{i:064x}",
            "workspace_id": workspace_id, "payload": {"object": {"id": i}},
            "received_at": anchor - timedelta(minutes=(i * 7919) % MINUTES_A_YEAR),
            "processed_at": anchor,
            "outcome": "ignored: not used" if i % 3 == 0 else "meeting started"}
            for i in rows if i % 10 == 0])
        db.session.commit()


def _fill_postgres(ops: int, workspace_id: int, anchor: datetime) -> None:
    """The same shapes as the SQLite rows, with INSERT ... SELECT generate_series."""
    params = {"ws": workspace_id, "anchor": anchor, "n": ops, "b": ops // 10}
    db.session.execute(text("""
        INSERT INTO bookings (id, public_id, workspace_id, external_ref, kind, title, start_at,
            duration_minutes, timezone, host_email, customer_name, customer_email, state,
            fingerprint, created_at, updated_at)
        SELECT b, md5('h' || b), :ws, 'health-' || b, 'booking', 'Consultation ' || b,
               CAST(:anchor AS timestamptz) + ((b::bigint * 7919) % 70080 - 35040)
                 * interval '15 minutes',
               30, 'UTC', 'host' || (b % 5) || '@example.test', 'Ana Silva',
               'ana' || b || '@example.test', 'active', lpad(to_hex(b), 64, '0'),
               :anchor, :anchor
        FROM generate_series(1, :b) AS b"""), params)
    db.session.execute(text("""
        INSERT INTO meetings (id, booking_id, workspace_id, status, recreated_count,
            create_unconfirmed, updated_at)
        SELECT b, b, :ws, CASE WHEN b % 33 = 0 THEN 'failed'
                               WHEN b % 101 = 0 THEN 'deleted_in_zoom' ELSE 'scheduled' END,
               0, false, :anchor
        FROM generate_series(1, :b) AS b"""), params)
    db.session.execute(text(f"""
        INSERT INTO operations (id, workspace_id, booking_id, kind, state, attempts,
            next_attempt_at, requested_by, created_at, updated_at, finished_at, last_error)
        SELECT i, :ws, (i - 1) / 10 + 1, CASE WHEN i % 4 = 0 THEN 'update' ELSE 'create' END,
               state, 1, :anchor, 'bench', finished, finished,
               CASE WHEN state IN ('succeeded', 'failed', 'dead') THEN finished END,
               CASE WHEN state = 'failed' AND i % 2 = 0
                      THEN 'Zoom refused: 1001 User does not exist: host' || (i % 50)
                           || '@example.test.'
                    WHEN state = 'failed'
                      THEN 'Zoom refused: 3000 Cannot access meeting ' || (i % 50) || ' info.'
                    WHEN state = 'dead'
                      THEN 'Zoom is unavailable (HTTP 503, tracking id ' || i || ')' END
        FROM (SELECT i, CAST(:anchor AS timestamptz)
                          - ((i::bigint * 7919) % {MINUTES_A_YEAR}) * interval '1 minute'
                          AS finished,
                     CASE WHEN i > :n - {BACKLOG} AND i % 2 = 1 THEN 'queued'
                          WHEN i > :n - {BACKLOG} THEN 'waiting'
                          WHEN (i::bigint * 37) % 1000 < 10 THEN 'failed'
                          WHEN (i::bigint * 37) % 1000 < 15 THEN 'dead'
                          ELSE 'succeeded' END AS state
              FROM generate_series(1, :n) AS i) AS s"""), params)  # noqa: S608 - constants
    db.session.execute(text(f"""
        INSERT INTO webhook_events (id, event, dedupe_key, workspace_id, payload, received_at,
            processed_at, outcome)
        SELECT i / 10, 'meeting.started', lpad(to_hex(i), 64, '0'), :ws,
               json_build_object('object', json_build_object('id', i)),
               CAST(:anchor AS timestamptz)
                 - ((i::bigint * 7919) % {MINUTES_A_YEAR}) * interval '1 minute',
               :anchor, CASE WHEN i % 3 = 0 THEN 'ignored: not used' ELSE 'meeting started' END
        FROM generate_series(10, :n, 10) AS i"""), params)  # noqa: S608 - constants
    move_sequences_past_ids(db.session, (Booking, Meeting, Operation, WebhookEvent))
    db.session.commit()



def _marked(ops: int) -> bool:
    return is_marked(db.session, "health", ops, DATA_VERSION)


def _build(backend: str, ops: int) -> float:
    began = time.monotonic()
    workspace = ensure_workspace("Bench Clinic", "bench")
    ensure_member(workspace, ADMIN_EMAIL, "Bench Admin", Role.ADMIN, ADMIN_PASSWORD)
    db.session.commit()
    anchor = datetime.now(UTC).replace(second=0, microsecond=0)
    (_fill_postgres if backend == "postgresql" else _fill_sqlite)(ops, workspace.id, anchor)
    settle(db.session)
    mark(db.session, "health", ops, DATA_VERSION)
    db.session.commit()
    return time.monotonic() - began


def _database(backend: str, ops: int, keys: Keys, tmp: Path) -> tuple[str, str]:
    """The cached database of this size, built if missing or stale; and what happened.
    The data's window moves with the clock: a cache older than a day is rebuilt."""
    name = f"lakesis_bench_health_{ops // 1000}k"
    if backend == "postgresql":
        url = postgres_database_url(name)
    else:
        path = ROOT / "instance" / "bench" / f"health-{ops // 1000}k.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    for attempt in ("reuse", "rebuild"):
        app = create_app(harness_overrides(url, keys, tmp))
        with app.app_context():
            try:
                upgrade()
                fresh = db.session.scalar(select(func.max(Operation.finished_at)))
                recent = fresh is not None and fresh.replace(tzinfo=UTC) > datetime.now(
                    UTC) - timedelta(hours=12)
                if _marked(ops) and recent:
                    return url, f"reused cached {backend} database ({ops:,} operations)"
                if attempt == "rebuild" or not db.session.scalar(
                        select(func.count()).select_from(Operation)):
                    seconds = _build(backend, ops)
                    return url, f"built {backend} database, {ops:,} operations, {seconds:.0f} s"
            finally:
                db.session.remove()
                db.engine.dispose()
        if backend == "postgresql":
            url = recreate_postgres_database(name)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
    raise AssertionError("unreachable")


# --- load --------------------------------------------------------------------------------


def _wrk(url: str, cookie: str | None = None) -> LoadResult:
    return wrk(url, url, connections=CONNECTIONS, seconds=SECONDS,
               headers={"Cookie": cookie} if cookie else None)


def _bare(tmp: Path) -> LoadResult:
    tmp.mkdir(parents=True, exist_ok=True)
    bare = gunicorn("gunicorn-bare", "tests.perf.bare_wsgi:app", app_env(
        database_url="sqlite://", instance=tmp / "bare-instance", keys=Keys(),
        app_base_url="http://127.0.0.1:9", sandbox_url="http://127.0.0.1:9",
        webhook_url="http://127.0.0.1:9"), tmp, workers=WORKERS)
    with running(bare):
        bare.wait_for_http("/")
        return _wrk(f"http://{HOST}:{bare.port}/")


def _measure(backend: str, ops: int, tmp: Path) -> tuple[str, list[list[object]], list]:
    keys = Keys()
    tmp.mkdir(parents=True, exist_ok=True)
    url, provenance = _database(backend, ops, keys, tmp)
    app = create_app(harness_overrides(url, keys, tmp))
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL))
        assert db.session.scalar(select(Workspace.id).where(Workspace.slug == "bench"))
        db.session.remove()
    web = gunicorn(f"gunicorn-{backend}-{ops}", "wsgi:app", app_env(
        database_url=url, instance=tmp / "web-instance", keys=keys,
        app_base_url="http://127.0.0.1:9", webhook_url="http://127.0.0.1:9/webhooks/zoom",
        sandbox_url="http://127.0.0.1:9/zoom-sandbox"), tmp, workers=WORKERS)
    rows, heavy_of_day = [], []
    try:
        with running(web):
            web.wait_for_http("/login", deadline_s=60)
            base = f"http://{HOST}:{web.port}"
            session: requests.Session = _sign_in(base)
            cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
            for name, path in CASES:
                page = session.get(base + path, timeout=60)
                assert page.status_code == 200, (path, page.status_code)
                assert "Zoom work" in page.text, path
                result = _wrk(base + path, cookie)
                assert result.ok, (path, result)
                heavy, app_ms, sql_ms, statements = _sql_of_page(app, path, admin_id)
                if path == "/health":
                    heavy_of_day = heavy
                rows.append([f"{backend} {ops:,} ops", name, result.requests, result.rps,
                             result.pct(50), result.pct(99), app_ms, sql_ms, statements])
    finally:
        with app.app_context():
            db.engine.dispose()
    plans = []
    if backend == "postgresql" and ops >= 1_000_000:
        for statement, parameters in heavy_of_day:
            if "operations" in statement:
                plans.append((statement, _explain(app, backend, statement, parameters)))
    return provenance, rows, plans


def test_health_page_cost_follows_the_window_not_the_history(tmp_path: Path) -> None:
    if not wrk_available():
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    report(f"Sync health page -- {machine_load()}")
    bare = _bare(tmp_path / "bare")
    all_rows, all_plans = [], []
    for backend, ops in SIZES:
        try:
            provenance, rows, plans = _measure(backend, ops, tmp_path / f"{backend}-{ops}")
        except pytest.skip.Exception as skipped:  # PostgreSQL absent: the rest still runs
            report(f"  {backend} {ops:,}: skipped ({skipped})")
            continue
        report(f"  {provenance}")
        all_rows += rows
        all_plans += plans
    assert all_rows
    report(table(
        f"Sync health page, gunicorn {WORKERS} sync workers, wrk {WRK_THREADS} threads "
        f"{CONNECTIONS} connections {SECONDS} s per case; 'alone'/'SQL': median ms "
        "in-process, one request at a time",
        ["data", "window", "requests", "req/s", "p50 ms", "p99 ms", "alone ms", "SQL ms",
         "stmts", "req/s vs bare", "p50 x bare"],
        [row + [row[3] / bare.rps, row[4] / bare.pct(50)] for row in all_rows]
        + [["bare Flask route", "-", bare.requests, bare.rps, bare.pct(50), bare.pct(99),
            "-", "-", 0, 1.0, 1.0]]))
    by_window: dict[str, dict[str, float]] = {}
    for row in all_rows:
        by_window.setdefault(row[1], {})[row[0]] = row[3]
    for window, figures in by_window.items():
        small, large = figures.get("postgresql 1,000 ops"), figures.get("postgresql 1,000,000 ops")
        if small and large:
            report(f"  {window}: PostgreSQL 1,000,000 ops at {large / small:.2f}x the req/s "
                   "of 1,000 ops")
    report(f"  {machine_load()} (after)")
    for statement, plan in all_plans:
        print(f"  SQL: {_short_sql(statement)}")
        print(_short_plan(plan), flush=True)
