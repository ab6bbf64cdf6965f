"""Four `flask zoom worker` processes drain 500 bookings on PostgreSQL while bookings are
rescheduled and cancelled and one worker is killed mid-run: Zoom ends with exactly one
meeting per active booking, at its latest time, and none for cancelled ones."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from dashboard import create_app
from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import (
    Booking,
    Operation,
    OperationState,
    Workspace,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import bookings
from dashboard.services.audit import Actor
from dashboard.services.booking_input import parse_new_booking
from dashboard.services.zoom_tokens import TokenProvider, store_tokens
from dashboard.zoom.meetings import booking_marker as meeting_marker
from tests.databases import fresh_postgres_database, postgres_url
from tests.live_server import free_port
from tests.sandbox_control import ADA, SandboxControl, query

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BOOKINGS, WORKERS = 500, 4
RESCHEDULED, CANCELLED = range(0, 50), range(50, 100)
# The killed worker's operation is taken over after this. It must outlast the longest Zoom
# call (10 s read timeout): a shorter lease lets a live but slow worker be overtaken mid-call
# on a loaded machine, and two workers would then race on one booking.
LEASE_SECONDS = 15
DEADLINE_SECONDS = 120
DATABASE = f"lakesis_workers_test_{os.getpid()}"  # concurrent runs must not share it
REDIRECT_URI = "http://127.0.0.1:9/settings/integrations/zoom/callback"  # never followed


class _Sink(BaseHTTPRequestHandler):
    """Takes the sandbox's webhooks and drops them: this test is about the worker."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/zoom"
    server.shutdown()
    server.server_close()


@pytest.fixture
def zoom_sandbox(tmp_path, webhook_sink) -> Iterator[SandboxControl]:
    """A sandbox process of its own (`flask zoom sandbox`), with Zoom's per-second and
    daily limits raised for 500 meetings."""
    port = free_port()
    home = tmp_path / "sandbox"
    home.mkdir()
    env = {**_base_env(), "LAKESIS_INSTANCE_PATH": str(home),
           "ZOOM_REDIRECT_URI": REDIRECT_URI,
           "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{home / 'zoom.db'}",
           "ZOOM_SANDBOX_WEBHOOK_URL": webhook_sink,
           "ZOOM_SANDBOX_QPS_MEDIUM": "1000", "ZOOM_SANDBOX_QPS_LIGHT": "1000",
           "ZOOM_SANDBOX_DAILY_MEETING_LIMIT": "100000"}
    with (home / "sandbox.log").open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "zoom", "sandbox",
             "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    control = SandboxControl(f"http://127.0.0.1:{port}/zoom-sandbox")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                control.state()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the sandbox did not start:\n"
                                + (home / "sandbox.log").read_text()[-2000:])
                time.sleep(0.1)
        yield control
    finally:
        _stop([(process, home / "sandbox.log")])


@pytest.fixture
def pg_app(zoom_sandbox, tmp_path) -> Iterator:
    """An app on a PostgreSQL database of its own, calling the sandbox process."""
    url = fresh_postgres_database(postgres_url(), DATABASE)
    name = make_url(url).database
    # The database is this test's alone and thrown away: no need to wait for each commit
    # to reach the disk (it makes the 500 bookings and the workers several times faster).
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    admin.dispose()
    pg = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                     "ZOOM_MODE": "sandbox", "ZOOM_SANDBOX_URL": zoom_sandbox.base,
                     "ZOOM_REDIRECT_URI": REDIRECT_URI, "SECRET_KEY": "workers-test",
                     "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
                     "TOKEN_ENCRYPTION_KEYS": (Fernet.generate_key().decode(),)})
    with pg.app_context():
        db.create_all()
    pg.config["TEST_DATABASE_URL"] = url
    yield pg
    with pg.app_context():
        db.session.remove()
        db.engine.dispose()
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _connect(pg, sandbox) -> int:
    """A workspace connected to Dr Ada's Zoom through a real consent at the sandbox."""
    client = zoom_extension.client_of(pg)
    request = client.authorization_request(pg.config["ZOOM_REDIRECT_URI"])
    code = query(sandbox.consent(request.url, "allow", ADA))["code"]
    tokens = client.exchange_code(code, pg.config["ZOOM_REDIRECT_URI"], request.code_verifier)
    me = client.get_me(tokens.access_token)
    with pg.app_context():
        workspace = Workspace(name="Busy Clinic", slug="busy")
        db.session.add(workspace)
        db.session.flush()
        connection = ZoomConnection(workspace_id=workspace.id, status="connected",
                                    zoom_user_id=me["id"], zoom_account_id=me["account_id"],
                                    zoom_email=me["email"], connected_at=utcnow())
        store_tokens(connection, tokens, utcnow())
        db.session.add(connection)
        db.session.commit()
        return workspace.id


def _make_bookings(pg, workspace_id: int) -> list[int]:
    base = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    ids = []
    with pg.app_context():
        workspace = db.session.get(Workspace, workspace_id)
        for n in range(BOOKINGS):
            fields = parse_new_booking({
                "external_ref": f"load-{n}", "title": f"Consultation {n}",
                "start_time": (base + timedelta(minutes=15 * n)).isoformat(),
                "duration_minutes": 30, "timezone": "Europe/Lisbon",
                "customer": {"name": f"Client {n}", "email": f"client{n}@example.test"}},
                utcnow())
            booking, _ = bookings.create(workspace, Actor.system(), fields)
            ids.append(booking.id)
    return ids


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKESIS_", "ZOOM_"))
           and k not in ("TEST_DATABASE_URL", "DATABASE_URL", "SECRET_KEY",
                         "TOKEN_ENCRYPTION_KEYS")}
    return {**env, "LAKESIS_ENV": "testing", "LOG_LEVEL": "WARNING"}


def _start_workers(pg, tmp_path: Path) -> list[tuple[subprocess.Popen, Path]]:
    env = _base_env()
    env.update({
        "DATABASE_URL": pg.config["TEST_DATABASE_URL"],
        "ZOOM_MODE": "sandbox",
        "ZOOM_SANDBOX_URL": pg.config["ZOOM_SANDBOX_URL"],
        "TOKEN_ENCRYPTION_KEYS": ",".join(pg.config["TOKEN_ENCRYPTION_KEYS"]),
        "SECRET_KEY": pg.config["SECRET_KEY"],
        "LAKESIS_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    })
    workers = []
    for n in range(WORKERS):
        instance = tmp_path / f"worker-{n}"  # each its own (unused) sandbox storage
        instance.mkdir()
        log = instance / "worker.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "zoom", "worker",
                 "--poll", "0.2"],
                cwd=ROOT, env={**env, "LAKESIS_INSTANCE_PATH": str(instance)},
                stdout=out, stderr=subprocess.STDOUT)
        workers.append((process, log))
    return workers


def _stop(workers: list[tuple[subprocess.Popen, Path]]) -> None:
    for process, _ in workers:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process, _ in workers:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _counts(pg) -> Counter:
    with pg.app_context():
        rows = db.session.execute(select(Operation.state, func.count())
                                  .group_by(Operation.state)).all()
        db.session.commit()
        return Counter(dict(rows))


def _wait_for(condition, what: str, workers, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(log.read_text()[-2000:] for _, log in workers)
            pytest.fail(f"timed out waiting for {what}\n{logs}")
        alive = [p for p, _ in workers if p.poll() is None]
        if not alive:
            pytest.fail("every worker exited:\n" + workers[0][1].read_text()[-3000:])
        time.sleep(0.1)


def _phase(started: float, what: str) -> None:
    print(f"{time.monotonic() - started:6.1f}s {what}")  # shown with -s, or on failure


def _running_op_of(pg, pid: int) -> int | None:
    with pg.app_context():
        op_id = db.session.scalar(select(Operation.id).where(
            Operation.state == OperationState.RUNNING,
            Operation.locked_by.like(f"%:{pid}:%")).limit(1))
        db.session.commit()
        return op_id


def _change(pg, booking_ids, action: str, minutes: int = 0) -> None:
    with pg.app_context():
        for booking_id in booking_ids:
            booking = db.session.get(Booking, booking_id)
            if action == "cancel":
                bookings.cancel(booking.workspace, Actor.system(), booking)
            else:
                bookings.reschedule(booking.workspace, Actor.system(), booking, {
                    "start_at": booking.start_at + timedelta(minutes=minutes),
                    "duration_minutes": booking.duration_minutes + 5})


def test_killed_worker_loses_nothing_and_duplicates_nothing(pg_app, zoom_sandbox, tmp_path):
    started = time.monotonic()
    workspace_id = _connect(pg_app, zoom_sandbox)
    ids = _make_bookings(pg_app, workspace_id)
    _phase(started, "bookings made")
    workers = _start_workers(pg_app, tmp_path)
    try:
        _wait_for(lambda: _counts(pg_app)["succeeded"] >= 100, "the first 100 meetings",
                  workers, 60)
        _phase(started, "100 meetings made")
        _change(pg_app, [ids[n] for n in RESCHEDULED], "reschedule", minutes=7)
        _change(pg_app, [ids[n] for n in CANCELLED], "cancel")

        victim, _ = workers[0]
        held: list[int] = []

        def victim_holds_one() -> bool:
            # Frozen while we look, so it cannot finish the operation between the look and
            # the kill (it is then killed holding it, or let go to try again).
            victim.send_signal(signal.SIGSTOP)
            held.append(_running_op_of(pg_app, victim.pid))
            if not held[-1]:
                victim.send_signal(signal.SIGCONT)
            return bool(held[-1])

        _wait_for(victim_holds_one, "the victim to hold an operation", workers, 30)
        victim.send_signal(signal.SIGKILL)
        victim.wait(5)
        _phase(started, f"killed worker {victim.pid} holding operation {held[-1]}")
        _change(pg_app, [ids[n] for n in RESCHEDULED], "reschedule", minutes=11)

        def settled() -> bool:
            counts = _counts(pg_app)
            return counts["queued"] + counts["running"] + counts["waiting"] == 0

        _wait_for(settled, "every operation to finish", workers[1:],
                  DEADLINE_SECONDS - (time.monotonic() - started))
        _phase(started, f"settled: {dict(_counts(pg_app))}")
    finally:
        _stop(workers)

    counts = _counts(pg_app)
    assert counts["failed"] == counts["dead"] == 0, counts
    with pg_app.app_context():
        taken_over = db.session.get(Operation, held[-1])
        assert taken_over.state == "succeeded" and taken_over.attempts >= 2
        assert str(victim.pid) not in (taken_over.locked_by or "")
        rows = list(db.session.scalars(select(Booking).order_by(Booking.id)))
        client = zoom_extension.client_of(pg_app)
        tokens = TokenProvider(client)
        in_zoom = tokens.call(workspace_id, lambda t: list(
            client.list_meetings(t, "me", type_="scheduled")))
        expected = {meeting_marker(b.public_id): b for b in rows}
        by_marker = Counter(m["agenda"].split(" ", 1)[0] for m in in_zoom)
        duplicates = {marker: n for marker, n in by_marker.items() if n > 1}
        assert duplicates == {}
        assert set(by_marker) <= set(expected)  # nothing in Zoom without its booking
        active = {meeting_marker(b.public_id) for b in rows if b.state == "active"}
        assert set(by_marker) == active  # and nothing left behind by a cancel
        for meeting in in_zoom:
            booking = expected[meeting["agenda"].split(" ", 1)[0]]
            assert meeting["start_time"] == booking.start_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert meeting["duration"] == booking.duration_minutes
            assert booking.meeting.zoom_meeting_id == meeting["id"]
            assert booking.meeting.status == "scheduled"
        for booking in rows:
            if booking.state == "cancelled":
                assert booking.meeting.status == "cancelled"
        rescheduled = [b for b in rows if b.id in {ids[n] for n in RESCHEDULED}]
        assert all(b.duration_minutes == 40 for b in rescheduled)
    assert len(in_zoom) == BOOKINGS - len(CANCELLED)
    assert zoom_sandbox.state()["meetings"]["waiting"] == BOOKINGS - len(CANCELLED)
