"""The operators' bookings page (`GET /bookings`) on a big table, served by gunicorn.

100,000 bookings on SQLite, 1,000,000 on PostgreSQL, each with its meeting and its create
operation. The data is built once and kept (SQLite: ``instance/bench/``; PostgreSQL: the
database ``lakesis_bench``), keyed by the ``bench_marker`` table, so the next run starts at
once. gunicorn serves ``wsgi:app`` with WORKERS sync workers; a bare Flask route served the
same way in the same run is the baseline, and so is the minimal hand-written keyset table
(``keyset_wsgi``). The dashboard runs as it ships (pages kept while the workspace's data
stands), again with ``LAKESIS_PAGE_CACHE=0`` (every page made), and once under writes.
Each case is a wrk run (CONNECTIONS at a time for SECONDS, the session cookie sent; each
server warmed up first) printing requests/s and p50/p99 latency, and their ratio to the
baselines; then EXPLAIN of every query the page runs for the case.
Nothing is asserted about time; the page must answer 200 with rows.
"""

from __future__ import annotations

import html
import random
import re
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, func, insert, select, text, update

from dashboard import create_app
from dashboard.cli import ensure_member, ensure_workspace
from dashboard.config import normalize_database_url
from dashboard.extensions import db
from dashboard.models import Booking, Meeting, Operation, Role, User, Workspace
from tests.perf.harness import (
    HOST,
    ROOT,
    Keys,
    LoadResult,
    Service,
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

pytestmark = pytest.mark.perf

WORKERS = 4
CONNECTIONS, SECONDS, WARM_SECONDS = 8, 8, 2  # wrk, per case; warm-up per server
DEEP_PAGES = 50
MADE = " (made each time)"
WRITE_EVERY_S = 0.1
ROWS = {"sqlite": 100_000, "postgresql": 1_000_000}
DATA_VERSION = 2  # bump when the generated data changes shape: cached databases rebuild
BATCH = 10_000
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@lakesis.test", "bench-password-not-secret"
FIRST = ("Ana", "Bruno", "Carla", "Diogo", "Eva", "Filipe", "Gabriela", "Hugo", "Ines",
         "Joao", "Karina", "Luis", "Marta", "Nuno", "Olivia", "Pedro", "Rita", "Sofia",
         "Tiago", "Vera")
LAST = ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues",
        "Martins", "Jesus", "Sousa", "Fernandes", "Goncalves", "Gomes", "Lopes", "Marques",
        "Alves", "Almeida", "Ribeiro", "Pinto", "Carvalho", "Teixeira", "Moreira", "Correia",
        "Mendes", "Nunes")
RARE_LAST, RARE_EVERY = "Quintanilha", 5_000  # one customer family in 5,000 bookings
SLOTS = 730 * 96  # start times: 15-minute slots over two years around the data's anchor
CASES = (
    # (name, query string or None for the deep page found by following "Next page")
    ("first page", ""),
    ("deep page (50 pages in)", None),
    ("search common name + status", "q=carv&status=scheduled"),
    ("search rare name + status", "q=quintan&status=scheduled"),
)
# Too slow on PostgreSQL for a load loop (seconds per page, see the README): timed once
# in-process and EXPLAINed, so the plan that makes them slow is in the report.
EXPLAIN_ONLY = (
    ("status filter only (scheduled)", "status=scheduled"),
)


# --- the data ----------------------------------------------------------------------------


def _meeting_status(i: int, cancelled: bool, past: bool) -> str:
    if cancelled:
        return "cancelled"
    bucket = (i * 37) % 100
    if bucket < 5:
        return "pending"
    if bucket < 8:
        return "failed"
    if bucket < 10:
        return "waiting_for_connection"
    return "ended" if past else "scheduled"


OP_STATE = {"pending": "queued", "failed": "dead", "waiting_for_connection": "waiting"}


def _sqlite_rows(i: int, workspace_id: int, anchor: datetime) -> tuple[dict, dict, dict]:
    first, last = FIRST[i % 20], (RARE_LAST if i % RARE_EVERY == 7 else LAST[(i // 20) % 25])
    start = anchor + timedelta(minutes=15 * (((i * 7919) % SLOTS) - SLOTS // 2))
    cancelled = i % 100 >= 95
    status = _meeting_status(i, cancelled, start < anchor)
    has_zoom = status in ("scheduled", "ended")
    booking = {
        "id": i, "public_id": f"{random.getrandbits(128):032x}", "workspace_id": workspace_id,
        "external_ref": f"bench-{i}", "kind": "consultation" if i % 3 == 0 else "booking",
        "title": f"Consultation with {first}", "start_at": start, "duration_minutes": 30,
        "timezone": "Europe/Lisbon", "host_email": None, "customer_name": f"{first} {last}",
        "customer_email": f"{first.lower()}.{last.lower()}{i}@example.test",
        "state": "cancelled" if cancelled else "active", "fingerprint": f"{i:064x}",
        "created_at": anchor, "updated_at": anchor}
    meeting = {
        "id": i, "booking_id": i, "workspace_id": workspace_id, "status": status,
        "zoom_meeting_id": 80_000_000_000 + i if has_zoom else None,
        "zoom_uuid": f"uuid{i}" if has_zoom else None,
        "join_url": f"https://zoom.us/j/{80_000_000_000 + i}" if has_zoom else None,
        "last_synced_at": anchor if has_zoom else None, "recreated_count": 0,
        "last_error": "Gave up after 8 attempts: Zoom is unavailable" if status == "failed"
        else None, "updated_at": anchor}
    state = OP_STATE.get(status, "succeeded")
    operation = {
        "id": i, "workspace_id": workspace_id, "booking_id": i, "kind": "create",
        "state": state, "attempts": 8 if state == "dead" else int(state == "succeeded"),
        "next_attempt_at": anchor, "requested_by": "system", "created_at": anchor,
        "updated_at": anchor, "finished_at": anchor if state in ("succeeded", "dead") else None}
    return booking, meeting, operation


def _fill_sqlite(rows: int, workspace_id: int, anchor: datetime) -> None:
    random.seed(DATA_VERSION)
    tables = (Booking.__table__, Meeting.__table__, Operation.__table__)
    for start in range(1, rows + 1, BATCH):
        batch = [_sqlite_rows(i, workspace_id, anchor)
                 for i in range(start, min(start + BATCH, rows + 1))]
        for index, table_ in enumerate(tables):
            db.session.execute(insert(table_), [row[index] for row in batch])
        db.session.commit()


def _pg_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def _fill_postgres(rows: int, workspace_id: int, anchor: datetime) -> None:
    """INSERT ... SELECT generate_series: the same shapes as the SQLite rows, in SQL."""
    params = {"ws": workspace_id, "anchor": anchor, "n": rows}
    db.session.execute(text(f"""
        INSERT INTO bookings (id, public_id, workspace_id, external_ref, kind, title, start_at,
            duration_minutes, timezone, host_email, customer_name, customer_email, state,
            fingerprint, created_at, updated_at)
        SELECT i, md5('b' || i), :ws, 'bench-' || i,
               CASE WHEN i % 3 = 0 THEN 'consultation' ELSE 'booking' END,
               'Consultation with ' || fn,
               CAST(:anchor AS timestamptz)
                 + ((i::bigint * 7919) % {SLOTS} - {SLOTS // 2}) * interval '15 minutes',
               30, 'Europe/Lisbon', NULL, fn || ' ' || ln,
               lower(fn) || '.' || lower(ln) || i || '@example.test',
               CASE WHEN i % 100 >= 95 THEN 'cancelled' ELSE 'active' END,
               lpad(to_hex(i), 64, '0'), :anchor, :anchor
        FROM (SELECT i, ({_pg_array(FIRST)})[1 + i % 20] AS fn,
                     CASE WHEN i % {RARE_EVERY} = 7 THEN '{RARE_LAST}'
                          ELSE ({_pg_array(LAST)})[1 + (i / 20) % 25] END AS ln
              FROM generate_series(1, :n) AS i) AS s
    """), params)  # noqa: S608 - only this module's constants are formatted in
    db.session.execute(text("""
        INSERT INTO meetings (id, booking_id, workspace_id, status, zoom_meeting_id, zoom_uuid,
            join_url, last_synced_at, recreated_count, last_error, updated_at)
        SELECT id, id, workspace_id, status,
               CASE WHEN zoom THEN 80000000000 + id END,
               CASE WHEN zoom THEN 'uuid' || id END,
               CASE WHEN zoom THEN 'https://zoom.us/j/' || (80000000000 + id) END,
               CASE WHEN zoom THEN CAST(:anchor AS timestamptz) END, 0,
               CASE WHEN status = 'failed'
                    THEN 'Gave up after 8 attempts: Zoom is unavailable' END, :anchor
        FROM (SELECT id, workspace_id, status, status IN ('scheduled', 'ended') AS zoom
              FROM (SELECT id, workspace_id,
                           CASE WHEN state = 'cancelled' THEN 'cancelled'
                                WHEN (id * 37) % 100 < 5 THEN 'pending'
                                WHEN (id * 37) % 100 < 8 THEN 'failed'
                                WHEN (id * 37) % 100 < 10 THEN 'waiting_for_connection'
                                WHEN start_at < :anchor THEN 'ended'
                                ELSE 'scheduled' END AS status
                    FROM bookings) AS b) AS m
    """), {"anchor": anchor})
    db.session.execute(text("""
        INSERT INTO operations (id, workspace_id, booking_id, kind, state, attempts,
            next_attempt_at, requested_by, created_at, updated_at, finished_at)
        SELECT id, workspace_id, booking_id, 'create', state,
               CASE WHEN state = 'dead' THEN 8 WHEN state = 'succeeded' THEN 1 ELSE 0 END,
               :anchor, 'system', :anchor, :anchor,
               CASE WHEN state IN ('succeeded', 'dead') THEN CAST(:anchor AS timestamptz) END
        FROM (SELECT id, workspace_id, booking_id,
                     CASE status WHEN 'pending' THEN 'queued' WHEN 'failed' THEN 'dead'
                                 WHEN 'waiting_for_connection' THEN 'waiting'
                                 ELSE 'succeeded' END AS state
              FROM meetings) AS m
    """), {"anchor": anchor})
    move_sequences_past_ids(db.session, (Booking, Meeting, Operation))
    db.session.commit()



def _marked(rows: int) -> bool:
    return is_marked(db.session, "bookings", rows, DATA_VERSION)


def _build(backend: str, rows: int) -> float:
    """Fill an empty migrated database: workspace, admin, bookings; then the marker."""
    began = time.monotonic()
    workspace = ensure_workspace("Bench Clinic", "bench")
    ensure_member(workspace, ADMIN_EMAIL, "Bench Admin", Role.ADMIN, ADMIN_PASSWORD)
    db.session.commit()
    anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    (_fill_postgres if backend == "postgresql" else _fill_sqlite)(rows, workspace.id, anchor)
    settle(db.session)
    mark(db.session, "bookings", rows, DATA_VERSION)
    db.session.commit()
    return time.monotonic() - began


def _bench_database(backend: str, rows: int, keys: Keys, tmp: Path) -> tuple[str, str]:
    """The URL of the cached bench database, built if missing or stale; and what happened."""
    if backend == "postgresql":
        url = postgres_database_url("lakesis_bench")  # skips when PostgreSQL is absent
    else:
        path = ROOT / "instance" / "bench" / f"bookings-{rows // 1000}k.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    for attempt in ("reuse", "rebuild"):
        app = create_app(harness_overrides(url, keys, tmp))
        with app.app_context():
            try:
                upgrade()  # a no-op on a current schema; applies new migrations to the cache
                if _marked(rows):
                    return url, f"reused cached {backend} database ({rows:,} bookings)"
                if attempt == "rebuild" or not db.session.scalar(
                        select(func.count()).select_from(Booking)):
                    seconds = _build(backend, rows)
                    return url, (f"built {backend} database with {rows:,} bookings "
                                 f"in {seconds:.0f} s")
            finally:
                db.session.remove()
                db.engine.dispose()
        # Stale or half-built: start again from nothing (our own bench database only).
        if backend == "postgresql":
            url = recreate_postgres_database("lakesis_bench")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
    raise AssertionError("unreachable")


# --- the web side ------------------------------------------------------------------------


def _gunicorn(name: str, target: str, env: dict, tmp: Path) -> Service:
    return gunicorn(name, target, env, tmp, workers=WORKERS)


def _sign_in(base: str) -> requests.Session:
    """Sign in through the form, with the CSRF token from the page, like a person."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
    assert token, f"no csrf_token in the sign-in page (HTTP {page.status_code})"
    answer = session.post(f"{base}/login", timeout=30, allow_redirects=False, data={
        "csrf_token": html.unescape(token.group(1)), "email": ADMIN_EMAIL,
        "password": ADMIN_PASSWORD})
    assert answer.status_code in (302, 303), f"sign-in answered {answer.status_code}"
    return session


def _check_page(session: requests.Session, base: str) -> str:
    answer = session.get(f"{base}/bookings", timeout=60, allow_redirects=False)
    if answer.status_code == 404:
        pytest.fail("GET /bookings answered 404: the operators' bookings page "
                    "(dashboard/bookings/routes.py) is not there yet, so there is nothing "
                    "to measure.")
    assert answer.status_code == 200, (
        f"GET /bookings as the bench admin answered {answer.status_code}: "
        f"{answer.headers.get('Location', '')} {answer.text[:300]}")
    return answer.text


_NEXT = re.compile(r"<a\b[^>]*\bhref=\"([^\"]*cursor=[^\"]*)\"[^>]*>(.*?)</a>", re.S)


def _next_url(page: str) -> str | None:
    """The page's "Next page" link (any link with a cursor, a "Next" one preferred)."""
    links = [(html.unescape(href), label) for href, label in _NEXT.findall(page)]
    for href, label in links:
        if "next" in label.lower() or "older" in label.lower() or "more" in label.lower():
            return href
    return links[0][0] if links else None


def _deep_path(session: requests.Session, base: str, path: str = "/bookings") -> str:
    for depth in range(DEEP_PAGES):
        answer = session.get(base + path, timeout=60)
        assert answer.status_code == 200, f"page {depth + 1}: HTTP {answer.status_code}"
        following = _next_url(answer.text)
        assert following, f"no next-page link on page {depth + 1} of /bookings"
        path = following if following.startswith("/") else "/bookings" + following
    return path


def _load(name: str, url: str, cookie: str | None = None) -> LoadResult:
    result = wrk(name, url, connections=CONNECTIONS, seconds=SECONDS,
                 headers={"Cookie": cookie} if cookie else None)
    assert result.ok, (name, result.requests, result.non_2xx, result.errors)
    return result


def _warm_up(url: str, cookie: str | None = None) -> None:
    """gunicorn opens the port before every worker has imported the app: load it a moment
    first, so no case counts a worker's start-up."""
    wrk("warm-up", url, connections=CONNECTIONS, seconds=WARM_SECONDS,
        headers={"Cookie": cookie} if cookie else None)


def _keyset_baseline(env: dict, tmp: Path) -> list[LoadResult]:
    """The minimal hand-written keyset table (tests/perf/keyset_wsgi.py), served by gunicorn
    with the same workers on the same database, through the same CASES."""
    keyset = _gunicorn("gunicorn-keyset", "tests.perf.keyset_wsgi:app", env, tmp)
    results = []
    with running(keyset):
        keyset.wait_for_http("/bookings", deadline_s=60)
        base = f"http://{HOST}:{keyset.port}"
        _warm_up(base + "/bookings")
        deep = _deep_path(requests.Session(), base)
        for name, query in CASES:
            path = deep if query is None else f"/bookings?{query}" if query else "/bookings"
            results.append(_load(f"keyset table: {name}", base + path))
    return results


@contextmanager
def _writing(url: str, workspace_id: int, *, every_s: float) -> Iterator[list[float]]:
    """Another connection changing one booking of the workspace every ``every_s`` while the
    block runs (a busy workspace: webhooks, the worker, the API); yields the writes' times."""
    engine = create_engine(normalize_database_url(url, ROOT / "instance"))
    done, writes = threading.Event(), []
    with engine.connect() as connection:
        booking_id = connection.scalar(select(func.max(Booking.id)).where(
            Booking.workspace_id == workspace_id))

    def write() -> None:
        while not done.wait(every_s):
            with engine.begin() as connection:
                connection.execute(update(Booking).where(Booking.id == booking_id)
                                   .values(updated_at=datetime.now(UTC)))
            writes.append(time.monotonic())

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield writes
    finally:
        done.set()
        writer.join(timeout=10)
        engine.dispose()


def _cookie_header(signed_in: requests.Session) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in signed_in.cookies)


# --- what the page asks the database ---------------------------------------------------


def _sql_of_page(app: Flask, path: str, user_id: int, runs: int = 5,
                 warm: bool = True) -> tuple[list, float, float, int]:
    """Run the page in-process, one request at a time; return its bookings/meetings/
    operations statements (with parameters), the median time per page in the app and in
    SQL (ms), and the number of statements."""
    seen: list[tuple[str, object, float]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_began"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters,
                     (time.perf_counter() - conn.info.pop("bench_began")) * 1000))

    from dashboard.services.user_sessions import start

    client = app.test_client()
    with app.app_context():
        token = start(user_id, remembered=False)  # the cookie names a server-side session
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    if warm:
        client.get(path)  # caches, compiled statements
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    per_page: list[float] = []
    app_ms: list[float] = []
    counts: list[int] = []
    until = time.monotonic() + 3.0  # slow pages: fewer runs, so the whole stays bounded
    try:
        while len(app_ms) < runs and (not app_ms or time.monotonic() < until):
            mark = len(seen)
            began = time.perf_counter()
            answer = client.get(path)
            app_ms.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, (path, answer.status_code)
            per_page.append(sum(ms for *_, ms in seen[mark:]))
            counts.append(len(seen) - mark)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    last = seen[-counts[-1]:]
    heavy = [(s, p) for s, p, _ in last
             if re.search(r"\b(bookings|meetings|operations)\b", s) and s.lstrip().upper()
             .startswith("SELECT")]
    return heavy, statistics.median(app_ms), statistics.median(per_page), counts[-1]


def _explain(app: Flask, backend: str, statement: str, parameters: object) -> str:
    with app.app_context():
        connection = db.session.connection()
        if backend == "postgresql":
            rows = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters).all()
            plan = "\n".join(f"    {row[0]}" for row in rows)
        else:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                              parameters).all()
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("    " + "  " * (depth[node] - 1) + detail)
            plan = "\n".join(lines)
        db.session.remove()
    return plan


def _short_sql(statement: str) -> str:
    """One line, the column list and long IN lists elided."""
    one_line = re.sub(r"^SELECT .*? FROM ", "SELECT ... FROM ", " ".join(statement.split()))
    one_line = re.sub(r"%\(\w+\)s(::\w+)?", "?", one_line)  # psycopg's named parameters
    return re.sub(r"IN \((\?, ){5,}\?\)", "IN (...)", one_line)


def _short_plan(plan: str, width: int = 180) -> str:
    return "\n".join(line if len(line) <= width else line[:width] + " ..."
                     for line in plan.splitlines())


# --- the benchmark -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadResult]:
    """The bare Flask route, served by gunicorn with the same workers and load."""
    tmp = tmp_path_factory.mktemp("bare")
    bare = _gunicorn("gunicorn-bare", "tests.perf.bare_wsgi:app",
                     app_env(database_url="sqlite://", instance=tmp / "instance", keys=Keys(),
                             app_base_url="http://127.0.0.1:9", sandbox_url="http://127.0.0.1:9",
                             webhook_url="http://127.0.0.1:9"), tmp)
    with running(bare):
        bare.wait_for_http("/")
        url = f"http://{HOST}:{bare.port}/"
        _warm_up(url)
        result = _load("bare Flask route", url)
    report(table(f"Baseline -- bare Flask route, gunicorn {WORKERS} sync workers, wrk "
                 f"{CONNECTIONS} connections for {SECONDS} s; {machine_load()}",
                 ["case", "requests", "req/s", "p50 ms", "p99 ms"],
                 [[result.name, result.requests, result.rps, result.pct(50), result.pct(99)]]))
    yield result


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                            marks=pytest.mark.postgres)])
def test_bookings_page(backend: str, baseline: LoadResult, tmp_path: Path) -> None:
    if not wrk_available():
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    rows = ROWS[backend]
    keys = Keys()
    url, provenance = _bench_database(backend, rows, keys, tmp_path)
    report(f"Bookings page -- {backend}: {provenance}; {machine_load()}")
    app = create_app(harness_overrides(url, keys, tmp_path))
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL))
        workspace_id = db.session.scalar(select(Workspace.id).where(Workspace.slug == "bench"))
        db.session.remove()

    env = app_env(
        database_url=url, instance=tmp_path / "web-instance", keys=keys,
        app_base_url="http://127.0.0.1:9", webhook_url="http://127.0.0.1:9/webhooks/zoom",
        # The page never calls Zoom: a dummy sandbox address (nothing listens on port 9).
        sandbox_url="http://127.0.0.1:9/zoom-sandbox")
    keyset = _keyset_baseline(env, tmp_path)
    web = _gunicorn(f"gunicorn-{backend}", "wsgi:app", env, tmp_path)
    # The same app making every page (no kept pages): what a first look at a page costs.
    made = _gunicorn(f"gunicorn-{backend}-made", "wsgi:app",
                     {**env, "LAKESIS_PAGE_CACHE": "0"}, tmp_path)
    results: list[tuple[LoadResult, str, bool]] = []  # the load, the path, kept pages
    try:
        with running(web, made):
            web.wait_for_http("/login", deadline_s=60)
            made.wait_for_http("/login", deadline_s=60)
            base = f"http://{HOST}:{web.port}"
            signed_in = _sign_in(base)  # a server-side session: both servers know it
            first = _check_page(signed_in, base)
            assert "<tbody" in first and _next_url(first), "the first page shows no rows"
            walk_began = time.monotonic()
            deep = _deep_path(signed_in, base)
            walk_s = time.monotonic() - walk_began
            report(f"  followed 'Next page' {DEEP_PAGES} times in {walk_s:.1f} s "
                   f"({walk_s / DEEP_PAGES * 1000:.0f} ms per page, one client)")
            cookie = _cookie_header(signed_in)
            for server, kept, label in ((web, True, ""), (made, False, MADE)):
                server_base = f"http://{HOST}:{server.port}"
                _warm_up(f"{server_base}/bookings", cookie)
                for name, query in CASES:
                    path = (deep if query is None else f"/bookings?{query}" if query
                            else "/bookings")
                    results.append((_load(name + label, server_base + path, cookie), path,
                                    kept))
            with _writing(url, workspace_id, every_s=WRITE_EVERY_S) as writes:
                busy = _load(f"first page, {1 / WRITE_EVERY_S:.0f} writes/s in the workspace",
                             base + "/bookings", cookie)
            assert writes, "the writer wrote nothing during the run"
            web.sample_memory()
        db_report = []
        for result, path, kept in results:
            app.config["PAGE_CACHE"] = kept
            heavy, app_ms, sql_ms, statements = _sql_of_page(app, path, admin_id)
            db_report.append((result.name, path, heavy, app_ms, sql_ms, statements))
        app.config["PAGE_CACHE"] = False
        explain_only = []
        for name, query in EXPLAIN_ONLY:
            path = f"/bookings?{query}"
            heavy, app_ms, sql_ms, statements = _sql_of_page(app, path, admin_id, runs=1,
                                                             warm=False)
            explain_only.append((name, path, heavy, app_ms, sql_ms, statements))
    finally:
        with app.app_context():
            db.engine.dispose()

    base_rps, base_p50 = baseline.rps, baseline.pct(50)
    report(table(
        f"Bookings page -- {backend}, {rows:,} bookings (workspace {workspace_id}), gunicorn "
        f"{WORKERS} sync workers, wrk {CONNECTIONS} connections for {SECONDS} s per case",
        ["case", "requests", "req/s", "p50 ms", "p99 ms", "KB", "alone ms", "SQL ms",
         "stmts", "req/s vs bare", "p50 x bare", "req/s vs keyset", "p50 x keyset"],
        [[r.name, r.requests, r.rps, r.pct(50), r.pct(99), r.bytes_per_response / 1024,
          app_ms, sql_ms, statements, r.rps / base_rps, r.pct(50) / base_p50,
          r.rps / k.rps, r.pct(50) / k.pct(50)]
         for r, k, (_, _, _, app_ms, sql_ms, statements) in zip(
             (r for r, _, _ in results), keyset + keyset, db_report, strict=True)]
        + [[busy.name, busy.requests, busy.rps, busy.pct(50), busy.pct(99),
            busy.bytes_per_response / 1024, "-", "-", "-", busy.rps / base_rps,
            busy.pct(50) / base_p50, busy.rps / keyset[0].rps,
            busy.pct(50) / keyset[0].pct(50)]]
        + [[k.name, k.requests, k.rps, k.pct(50), k.pct(99), k.bytes_per_response / 1024,
            "-", "-", 1, k.rps / base_rps, k.pct(50) / base_p50, 1.0, 1.0] for k in keyset]
        + [["baseline: bare Flask route", baseline.requests, base_rps, base_p50,
            baseline.pct(99), baseline.bytes_per_response / 1024, "-", "-", 0, 1.0, 1.0,
            "-", "-"]]))
    report("  req/s vs keyset: against the minimal hand-written 50-row keyset Jinja table "
           "(tests/perf/keyset_wsgi.py) on the same database, served the same way in this "
           "run; the target is 0.9 or more")
    report(f"  The first rows are the dashboard as it runs, keeping each page while its "
           f"workspace's data stands (dashboard/page_cache.py); rows marked{MADE} are the "
           f"same app with LAKESIS_PAGE_CACHE=0, making every page; the last row is the first "
           f"page while another connection changes a booking of the workspace every "
           f"{WRITE_EVERY_S} s ({len(writes)} writes during the run), each change making the "
           f"page again")
    report(f"  {machine_load()} (after)\n"
           "  alone ms / SQL ms: median time of the page / of its SQL, in-process, one "
           "request at a time (no HTTP, no contention); stmts: SQL statements per page")
    worker_rss = [kb for pid, kb in web.peak_rss_kb.items() if pid != web.pid]
    if worker_rss:
        report(f"  gunicorn worker peak RSS: max {max(worker_rss) / 1024:.0f} MiB, "
               f"sum {sum(worker_rss) / 1024:.0f} MiB over {len(worker_rss)} workers")
    for name, path, _, app_ms, sql_ms, _ in explain_only:
        report(f"  {name}, GET {path}: {app_ms:,.0f} ms alone, {sql_ms:,.0f} ms of it SQL "
               "(in-process, one request; no load loop)")
    for name, path, heavy, *_ in db_report + explain_only:
        if not heavy:  # a kept page reads no bookings
            continue
        report(f"  EXPLAIN -- {backend}, {name}: GET {path}")
        for statement, parameters in heavy:
            print(f"  SQL: {_short_sql(statement)}")
            print(_short_plan(_explain(app, backend, statement, parameters)), flush=True)
