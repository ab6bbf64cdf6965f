"""A burst of 1,000 bookings drained by `flask zoom worker` processes against a separate
Zoom sandbox process that enforces Zoom's per-second limits (so 429s happen).

Printed: time to drain, bookings/s, 429s received, Zoom calls per booking, the bound the
sandbox's Medium limit sets (1,000 creates / 20 per s = 50 s) and measured/bound, and the
peak memory of the worker processes. Asserted (correctness only): every booking ends with
exactly one scheduled Zoom meeting, and Zoom holds exactly 1,000 meetings (no duplicate
from a retried create).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from dashboard import create_app, token_cipher
from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Meeting, Operation, Workspace, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services import bookings
from dashboard.services.audit import Actor
from dashboard.services.booking_input import NewBooking
from tests.perf.harness import (
    FLASK,
    HOST,
    Keys,
    Service,
    app_env,
    busy_percent,
    cpu_jiffies,
    free_port,
    harness_overrides,
    machine_load,
    recreate_postgres_database,
    report,
    running,
    table,
)
from tests.sandbox_control import ADA, SandboxControl, query

pytestmark = pytest.mark.perf

BOOKINGS = 1_000
QPS_MEDIUM = 20  # the sandbox's default for meetings_create (Zoom's Medium category)
BOUND_S = BOOKINGS / QPS_MEDIUM
DRAIN_DEADLINE_S = 300.0  # six times the bound: a stuck drain fails instead of hanging
FINISHED = ("succeeded", "failed", "dead")
_LOG_LINE = re.compile(r'"(GET|POST|PATCH|DELETE|PUT) (\S+) HTTP/[\d.]+" (\d{3})')
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours its access log


class _WebhookSink(BaseHTTPRequestHandler):
    """Stands where the dashboard would receive the sandbox's meeting.created webhooks."""

    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _WebhookSink.lock:
            _WebhookSink.received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _endpoint(method: str, path: str) -> str:
    path = path.split("?", 1)[0].removeprefix("/zoom-sandbox")
    path = re.sub(r"/meetings/\d+", "/meetings/{id}", path)
    return f"{method} {path}"


def _sandbox_log_statuses(log: Path) -> Counter:
    """(endpoint, status) of every request the sandbox served, from werkzeug's access log."""
    seen: Counter = Counter()
    for line in log.read_text(errors="replace").splitlines():
        match = _LOG_LINE.search(_ANSI.sub("", line))
        if match and "/_control/" not in match.group(2):
            seen[(_endpoint(match.group(1), match.group(2)), int(match.group(3)))] += 1
    return seen


def _connect_zoom(app, sandbox_url: str, workspace_id: int) -> None:
    """Tokens for ADA through the sandbox's consent page, stored like a real connect."""
    client = zoom_extension.client_of(app)
    redirect_uri = app.config["ZOOM_REDIRECT_URI"]
    request = client.authorization_request(redirect_uri)
    code = query(SandboxControl(sandbox_url).consent(request.url, "allow", ADA))["code"]
    tokens = client.exchange_code(code, redirect_uri, request.code_verifier)
    me = client.get_me(tokens.access_token)
    db.session.add(ZoomConnection(
        workspace_id=workspace_id, status="connected", zoom_user_id=me["id"],
        zoom_account_id=me.get("account_id"), zoom_email=me.get("email"),
        scopes=" ".join(tokens.scopes),
        access_token_enc=token_cipher.encrypt(tokens.access_token),
        refresh_token_enc=token_cipher.encrypt(tokens.refresh_token),
        access_expires_at=tokens.expires_at, connected_at=utcnow()))
    db.session.commit()


def _burst(workspace: Workspace) -> float:
    """Create the bookings through the service, one transaction each; returns seconds."""
    first = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    began = time.perf_counter()
    for i in range(BOOKINGS):
        bookings.create(workspace, Actor.system(), NewBooking(
            external_ref=f"burst-{i:05d}", kind="consultation", title=f"Consultation {i}",
            start_at=first + timedelta(minutes=15 * i), duration_minutes=30,
            timezone="Europe/Lisbon", customer_name=f"Customer {i}",
            customer_email=f"customer{i}@example.test", host_email=None))
    return time.perf_counter() - began


def _op_states() -> Counter:
    db.session.rollback()  # a fresh snapshot each poll
    return Counter(dict(db.session.execute(
        select(Operation.state, func.count()).group_by(Operation.state)).all()))


@pytest.mark.parametrize("backend,workers", [
    ("sqlite", 1),
    pytest.param("postgresql", 2, marks=pytest.mark.postgres),
    pytest.param("postgresql", 4, marks=pytest.mark.postgres),
])
def test_burst_drain(backend: str, workers: int, tmp_path: Path) -> None:
    if backend == "postgresql":
        database_url = recreate_postgres_database("lakesis_bench_burst")  # ours alone
    else:
        database_url = f"sqlite:///{tmp_path / 'burst.db'}"
    keys = Keys()
    sandbox_port, app_port = free_port(), free_port()
    app_base_url = f"http://{HOST}:{app_port}"  # nothing serves it: only the redirect URI
    sandbox_url = f"http://{HOST}:{sandbox_port}/zoom-sandbox"
    sink = ThreadingHTTPServer((HOST, 0), _WebhookSink)
    sink_thread = threading.Thread(target=sink.serve_forever, daemon=True)
    sink_thread.start()
    _WebhookSink.received = 0
    common = dict(keys=keys, app_base_url=app_base_url, sandbox_url=sandbox_url,
                  webhook_url=f"http://{HOST}:{sink.server_address[1]}/webhooks/zoom")
    sandbox = Service("zoom-sandbox", [FLASK, "zoom", "sandbox", "--port", str(sandbox_port)],
                      app_env(database_url=f"sqlite:///{tmp_path / 'sandbox-host.db'}",
                              instance=tmp_path / "sandbox-instance", **common,
                              ZOOM_SANDBOX_DATABASE_URL=f"sqlite:///{tmp_path / 'zoom.db'}",
                              # above the burst, so the daily cap does not park the run
                              ZOOM_SANDBOX_DAILY_MEETING_LIMIT=str(BOOKINGS * 5)),
                      tmp_path, port=sandbox_port)
    worker_env = app_env(database_url=database_url, instance=tmp_path / "worker-instance",
                         **common)
    pool = [Service(f"zoom-worker-{n}", [FLASK, "zoom", "worker", "--poll", "0.5"],
                    worker_env, tmp_path) for n in range(workers)]
    app = create_app(harness_overrides(
        database_url, keys, tmp_path, ZOOM_SANDBOX_URL=sandbox_url,
        APP_BASE_URL=app_base_url,
        ZOOM_REDIRECT_URI=f"{app_base_url}/settings/integrations/zoom/callback"))
    try:
        with running(sandbox):
            sandbox.wait_for_http("/zoom-sandbox/_control/state")
            control = SandboxControl(sandbox_url)
            with app.app_context():
                upgrade()
                workspace = Workspace(name="Burst Clinic", slug="burst")
                db.session.add(workspace)
                db.session.commit()
                _connect_zoom(app, sandbox_url, workspace.id)
                create_s = _burst(workspace)
                before = control.state()
                load_before = machine_load()
                sandbox.sample_memory()
                with running(*pool):
                    spawned = time.monotonic()
                    cpu_before = cpu_jiffies()
                    first_claim = done_at = None
                    states: Counter = Counter()
                    while time.monotonic() - spawned < DRAIN_DEADLINE_S:
                        states = _op_states()
                        if first_claim is None and states.get("queued", 0) < BOOKINGS:
                            first_claim = time.monotonic()
                        if sum(states.get(s, 0) for s in FINISHED) >= BOOKINGS:
                            done_at = time.monotonic()
                            break
                        for worker in pool:
                            worker.sample_memory()
                            assert worker.alive(), worker.log_tail()
                        time.sleep(0.2)
                    cpu_busy = busy_percent(cpu_before, cpu_jiffies())
                    sandbox_cpu_during = sum(sandbox.cpu_s.values())
                    for worker in pool:
                        worker.sample_memory()
                    sandbox.sample_memory()
                    sandbox_cpu_during = sum(sandbox.cpu_s.values()) - sandbox_cpu_during
                assert done_at is not None, (
                    f"not drained within {DRAIN_DEADLINE_S:.0f} s: operations {dict(states)}")
                after = control.state()
                attempts = db.session.scalar(select(func.sum(Operation.attempts)))
                histogram = dict(db.session.execute(
                    select(Operation.attempts, func.count()).group_by(Operation.attempts)
                    .order_by(Operation.attempts)).all())
                unfinished = db.session.execute(
                    select(Operation.id, Operation.state, Operation.attempts,
                           Operation.last_error).where(Operation.state != "succeeded")
                    .order_by(Operation.id).limit(5)).all()
                scheduled = db.session.scalar(select(func.count()).select_from(Meeting).where(
                    Meeting.status == "scheduled", Meeting.zoom_meeting_id.is_not(None)))
                distinct_ids = db.session.scalar(
                    select(func.count(func.distinct(Meeting.zoom_meeting_id))))
                db.session.remove()
            sandbox.sample_memory()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        sink.shutdown()
        sink.server_close()

    requests_by_endpoint = {name: after["requests"][name] - before["requests"].get(name, 0)
                            for name in after["requests"]}
    api_calls = sum(n for name, n in requests_by_endpoint.items() if name not in ("revoke",))
    served = _sandbox_log_statuses(sandbox.log_path)
    got_429 = sum(n for (_, status), n in served.items() if status == 429)
    drain_s = done_at - first_claim
    startup_s = first_claim - spawned
    rss = [kb for worker in pool for kb in worker.peak_rss_kb.values()]

    report(table(
        f"Burst drain -- {BOOKINGS:,} bookings, {backend}, {workers} worker process(es), "
        f"sandbox QPS Medium {QPS_MEDIUM}/s, Light 30/s; {load_before}",
        ["figure", "value"], [
            ["bookings created through bookings.create (s)", create_s],
            ["worker start -> first claim (s)", startup_s],
            ["time to drain, first claim -> last done (s)", drain_s],
            ["bookings/s", BOOKINGS / drain_s],
            ["bound: 1,000 creates / 20 per s (s)", BOUND_S],
            ["ratio measured / bound", drain_s / BOUND_S],
            ["429s received (sandbox access log)", got_429],
            ["failed attempts retried (operations: sum(attempts) - ops)",
             attempts - BOOKINGS],
            ["Zoom calls (API + token) per booking", api_calls / BOOKINGS],
            ["all CPUs busy during the drain, whole machine (%)", cpu_busy],
            ["worker CPU per booking, sum of processes (ms)",
             1000 * sum(sum(w.cpu_s.values()) for w in pool) / BOOKINGS],
            ["sandbox CPU per booking (ms)", 1000 * sandbox_cpu_during / BOOKINGS],
            ["worker peak RSS, max of processes (MiB)", max(rss) / 1024],
            ["worker peak RSS, sum of processes (MiB)", sum(rss) / 1024],
            ["sandbox peak RSS (MiB)", max(sandbox.peak_rss_kb.values()) / 1024],
            ["webhooks delivered to the sink", _WebhookSink.received],
            ["operations not succeeded (failed or dead)",
             sum(states.get(s, 0) for s in ("failed", "dead"))],
        ]))
    report("  attempts per operation: " + ", ".join(
        f"{n} attempt{'s' if n > 1 else ''}: {count}" for n, count in histogram.items()))
    report(table("  Zoom requests by endpoint and answer (sandbox access log)",
                 ["endpoint", "status", "count"],
                 [[name, status, n] for (name, status), n in sorted(served.items())]))

    assert not unfinished, (
        f"operations that did not succeed (a booking left without a meeting): {dict(states)}; "
        + "; ".join(f"op {i} {state} after {n} attempts: {error}"
                    for i, state, n, error in unfinished))
    assert scheduled == BOOKINGS, f"{scheduled} of {BOOKINGS} bookings have a Zoom meeting"
    assert distinct_ids == BOOKINGS
    assert after["meetings"]["waiting"] == BOOKINGS, "duplicate or missing meetings at Zoom"
