"""`POST /webhooks/zoom` under load: Zoom wants an answer within 3 s and retries otherwise.

gunicorn serves ``wsgi:app`` with WORKERS sync workers on a database holding MEETINGS
meetings of a connected workspace; the baseline is ``bare_webhook_wsgi`` (verify the HMAC,
insert once under a dedupe key) served the same way on the same kind of database, in the
same run. ``wrk`` (Debian's package: a C load generator, so the client does not eat the CPU
the server needs) warms each server up, then sends CONNECTIONS at a time for SECONDS to one
and then the other, ROUNDS times, each request a different ``meeting.started`` body signed
beforehand. Printed: req/s and p50/p99 against the baseline,
and the correctness of the run (every answered event stored once and applied once).
Nothing about time is asserted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import statistics
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, insert, text

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import Booking, Meeting, Workspace, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services import webhook_events
from tests.perf.harness import (
    HOST,
    WRK_THREADS,
    Keys,
    LoadResult,
    app_env,
    gunicorn,
    harness_overrides,
    machine_load,
    recreate_postgres_database,
    report,
    running,
    table,
    wrk,
    wrk_available,
)

pytestmark = pytest.mark.perf

WORKERS, CONNECTIONS, SECONDS, ROUNDS = 2, 16, 6, 5  # a median of 5: one stall moves it less
MEETINGS = 100_000  # the setting: 100k bookings, each with its meeting
BATCH = 10_000
BODIES = 15_000  # more than a round sends: every request is a new event
# Before each measured run, wrk warms the server this long with other events: gunicorn
# opens the port before its workers have imported the app (ours takes twice the bare one's
# 0.5 s), and requests queued meanwhile would be counted as the app's latency.
WARM_SECONDS, WARM_BODIES = 2, 10_000
assert ROUNDS * BODIES + WARM_BODIES <= MEETINGS  # every event about a meeting of its own
SECRET = "bench-webhook-secret"  # noqa: S105 - a benchmark's own value
ACCOUNT = "acct_bench"
FIRST_MEETING = 81_000_000_000

WRK_SCRIPT = """
local bodies = dofile("%(bodies)s")
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
function init(args)
  -- Each thread takes every THREADS-th body from its own offset: no two send the same.
  i = offset
end
function request()
  local b = bodies[(i %% #bodies) + 1]
  i = i + %(threads)d
  return wrk.format("POST", "/webhooks/zoom", {["Content-Type"] = "application/json",
    ["x-zm-request-timestamp"] = b[1], ["x-zm-signature"] = b[2]}, b[3])
end
"""


def _database(backend: str, name: str, tmp: Path) -> str:
    if backend == "postgresql":
        return recreate_postgres_database(f"lakesis_bench_ingest_{name}")
    return f"sqlite:///{tmp / f'{name}.sqlite'}"


def _prepare_dashboard(url: str, keys: Keys, tmp: Path) -> None:
    """Migrated schema, a connected workspace and MEETINGS meetings its events are about."""
    app = create_app(harness_overrides(url, keys, tmp))
    with app.app_context():
        upgrade()
        workspace = Workspace(name="Bench", slug="bench")
        db.session.add(workspace)
        db.session.flush()
        db.session.add(ZoomConnection(workspace_id=workspace.id, status="connected",
                                      zoom_user_id="zu_bench", zoom_account_id=ACCOUNT))
        start = utcnow() + timedelta(days=1)
        for first in range(1, MEETINGS + 1, BATCH):
            numbers = range(first, min(first + BATCH, MEETINGS + 1))
            db.session.execute(insert(Booking.__table__), [{
                "id": n, "public_id": f"{n:032x}", "workspace_id": workspace.id,
                "external_ref": f"ingest-{n}", "kind": "booking", "title": "Bench call",
                "start_at": start, "duration_minutes": 30, "timezone": "UTC",
                "customer_name": "Ana", "customer_email": "ana@example.test",
                "state": "active", "fingerprint": f"{n:064x}", "created_at": start,
                "updated_at": start} for n in numbers])
            db.session.execute(insert(Meeting.__table__), [{
                "id": n, "booking_id": n, "workspace_id": workspace.id, "status": "scheduled",
                "zoom_meeting_id": FIRST_MEETING + n, "recreated_count": 0,
                "updated_at": start} for n in numbers])
            db.session.commit()
        db.session.remove()


def _prepare_baseline(url: str) -> None:
    from tests.perf.bare_webhook_wsgi import events

    engine = create_engine(url)
    events.metadata.create_all(engine)
    engine.dispose()


def _bodies(path: Path, numbers: range) -> None:
    """Signed ``meeting.started`` events numbered ``numbers`` as a Lua table {timestamp,
    signature, body}: compact JSON, raw UTF-8, as Zoom sends them; signed now (valid for 5
    minutes)."""
    stamp = str(int(time.time()))
    now_ms = int(time.time() * 1000)
    lines = ["return {"]
    for n in numbers:
        body = json.dumps({"event": "meeting.started", "event_ts": now_ms + n, "payload": {
            "account_id": ACCOUNT, "object": {
                "id": str(FIRST_MEETING + 1 + n % MEETINGS), "uuid": f"u{n}==",
                "host_id": "zu_bench", "topic": "Consulta com João", "type": 2,
                "start_time": "2026-12-02T10:00:00Z", "timezone": "UTC", "duration": 30}}},
            separators=(",", ":"), ensure_ascii=False)
        signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(),
                                     hashlib.sha256).hexdigest()
        lines.append(f'{{"{stamp}", "{signature}", [==[{body}]==]}},')
    lines.append("}")
    path.write_text("\n".join(lines), encoding="utf-8")


def _wrk(port: int, tmp: Path, bodies: str, seconds: float = SECONDS) -> LoadResult:
    script = tmp / f"{bodies}.wrk.lua"
    script.write_text(WRK_SCRIPT % {"bodies": tmp / f"{bodies}.lua", "threads": WRK_THREADS})
    return wrk(bodies, f"http://{HOST}:{port}", connections=CONNECTIONS, seconds=seconds,
               script=script)


def _summary(rounds: list[LoadResult]) -> dict[str, float]:
    """Several rounds as one: counts summed, the median rate and p50, the worst p99."""
    return {"requests": sum(r.requests for r in rounds),
            "non_2xx": sum(r.non_2xx for r in rounds),
            "errors": sum(r.errors for r in rounds),
            "rps": statistics.median(r.rps for r in rounds),
            "p50": statistics.median(r.pct(50) for r in rounds),
            "p99": max(r.pct(99) for r in rounds)}


def _apply_as_the_worker(url: str, keys: Keys, tmp: Path) -> tuple[int, float]:
    """What `flask zoom worker` does with the stored events, after the run (in production
    the worker runs on its own, beside the web processes): (events applied, seconds)."""
    app = create_app(harness_overrides(url, keys, tmp))
    applied, started = 0, time.perf_counter()
    with app.app_context():
        while settled := webhook_events.apply_pending(limit=500):
            applied += settled
        db.session.remove()
    return applied, time.perf_counter() - started


def _count(url: str, query: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.scalar(text(query))
    engine.dispose()
    return int(value)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                            marks=pytest.mark.postgres)])
def test_webhook_ingest(backend: str, tmp_path: Path) -> None:
    if not wrk_available():
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    keys = Keys()
    ours_url, bare_url = _database(backend, "ours", tmp_path), _database(backend, "bare",
                                                                          tmp_path)
    _prepare_dashboard(ours_url, keys, tmp_path)
    _prepare_baseline(bare_url)
    for n in range(ROUNDS):  # each round of ours sends new events; the bare's too
        _bodies(tmp_path / f"round{n}.lua", range(n * BODIES, (n + 1) * BODIES))
    _bodies(tmp_path / "warm.lua", range(ROUNDS * BODIES, ROUNDS * BODIES + WARM_BODIES))
    env = app_env(database_url=ours_url, instance=tmp_path / "instance", keys=keys,
                  app_base_url="http://127.0.0.1:9", sandbox_url="http://127.0.0.1:9/zs",
                  webhook_url="http://127.0.0.1:9/webhooks/zoom",
                  ZOOM_WEBHOOK_SECRET_TOKEN=SECRET, BENCH_WEBHOOK_SECRET=SECRET,
                  BENCH_DATABASE_URL=bare_url)
    servers = {name: gunicorn(f"gunicorn-ingest-{name}", target, env, tmp_path,
                              workers=WORKERS)
               for name, target in (("bare", "tests.perf.bare_webhook_wsgi:app"),
                                    ("ours", "wsgi:app"))}
    runs: dict[str, list[LoadResult]] = {"bare": [], "ours": []}
    with running(*servers.values()):
        for server in servers.values():
            server.wait_for_port(60)
            assert _wrk(server.port, tmp_path, "warm", WARM_SECONDS).ok
        time.sleep(0.5)  # the warm-up's last requests are stored before counting
        before = _count(ours_url, "SELECT count(*) FROM webhook_events")
        # Taking turns, each first in every other round: a machine that slows down for a
        # while slows both sides alike.
        for n in range(ROUNDS):
            for name in ("bare", "ours")[:: 1 if n % 2 == 0 else -1]:
                runs[name].append(_wrk(servers[name].port, tmp_path, f"round{n}"))
    applied, apply_seconds = _apply_as_the_worker(ours_url, keys, tmp_path)
    stored = _count(ours_url, "SELECT count(*) FROM webhook_events") - before
    unapplied = _count(ours_url, "SELECT count(*) FROM webhook_events WHERE processed_at IS NULL")
    started = _count(ours_url, "SELECT count(*) FROM meetings WHERE status = 'started'")
    bare, ours = _summary(runs["bare"]), _summary(runs["ours"])
    answered = ours["requests"] - ours["non_2xx"]
    ratios = sorted(o.rps / b.rps for b, o in zip(runs["bare"], runs["ours"], strict=True))
    report(table(
        f"Webhook ingest -- {backend}, gunicorn {WORKERS} sync workers, wrk {CONNECTIONS} "
        f"connections, {ROUNDS} rounds of {SECONDS} s each after {WARM_SECONDS} s of warm-up, "
        f"a new signed event per request; {machine_load()}",
        ["route", "requests", "req/s (median)", "p50 ms (median)", "p99 ms (worst)",
         "non-2xx", "socket errors", "req/s vs bare", "p99 x bare"],
        [["minimal: verify HMAC + insert once", bare["requests"], bare["rps"], bare["p50"],
          bare["p99"], bare["non_2xx"], bare["errors"], 1.0, 1.0],
         ["POST /webhooks/zoom", ours["requests"], ours["rps"], ours["p50"], ours["p99"],
          ours["non_2xx"], ours["errors"], statistics.median(ratios),
          ours["p99"] / bare["p99"]]]))
    report("  req/s vs bare by round: " + ", ".join(
        f"{o.rps:,.0f}/{b.rps:,.0f} = {o.rps / b.rps:.2f}"
        for b, o in zip(runs["bare"], runs["ours"], strict=True)))
    # Requests still in flight when wrk stops may be stored after it counted: stored >= 200s.
    report(f"  stored {stored:,} events for {answered:,} answered 200 (lost "
           f"{max(0, answered - stored)}); then one worker applied {applied:,} in "
           f"{apply_seconds:.1f} s ({applied / apply_seconds:,.0f} events/s, so it keeps up "
           f"with {applied / apply_seconds / ours['rps']:.1f}x the ingest rate); not applied "
           f"{unapplied}; meetings started {started:,} (each event is about a meeting of its own)")
    assert ours["non_2xx"] == 0
    assert answered <= stored <= ours["requests"] + CONNECTIONS * ROUNDS
    assert unapplied == 0
    assert started == applied  # each applied once: no meeting's event lost or applied twice
