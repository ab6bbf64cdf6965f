"""A fleet of worker processes on PostgreSQL against a sandbox process of its own: what the
multi-process suites (workers killed, the fault suite) share.

Plain context managers and functions, not fixtures: each suite builds its own fixtures from
them with the sizes it needs.
"""

from __future__ import annotations

import ctypes
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from dashboard import create_app
from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Booking, Operation, OperationState, Workspace, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services import bookings
from dashboard.services.audit import Actor
from dashboard.services.booking_input import parse_new_booking
from dashboard.services.zoom_tokens import store_tokens
from tests.databases import fresh_postgres_database, postgres_url
from tests.live_server import free_port
from tests.sandbox_control import ADA, SandboxControl, query

ROOT = Path(__file__).resolve().parents[2]
REDIRECT_URI = "http://127.0.0.1:9/settings/integrations/zoom/callback"  # never followed
FLASK_WORKER = (str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "zoom", "worker")


def _die_with_parent() -> None:
    """Run in the child before it starts: the kernel SIGKILLs it when the test process
    dies, so a test killed by a timeout leaves no worker polling on (Linux only)."""
    with_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
    if with_prctl is not None:
        with_prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class _Sink(BaseHTTPRequestHandler):
    """Takes the sandbox's webhooks and drops them: these suites are about the worker."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def webhook_sink() -> Iterator[str]:
    """A URL that accepts webhooks and forgets them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/zoom"
    finally:
        server.shutdown()
        server.server_close()


def base_env() -> dict[str, str]:
    """This process's environment without the app's settings (each child gets its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKESIS_", "ZOOM_"))
           and k not in ("TEST_DATABASE_URL", "DATABASE_URL", "SECRET_KEY",
                         "TOKEN_ENCRYPTION_KEYS")}
    return {**env, "LAKESIS_ENV": "testing", "LOG_LEVEL": "WARNING"}


@contextmanager
def sandbox_process(home: Path, webhook_url: str) -> Iterator[SandboxControl]:
    """`flask zoom sandbox` on a free port, with Zoom's per-second and daily limits raised
    for hundreds of meetings."""
    port = free_port()
    home.mkdir()
    env = {**base_env(), "LAKESIS_INSTANCE_PATH": str(home),
           "ZOOM_REDIRECT_URI": REDIRECT_URI,
           "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{home / 'zoom.db'}",
           "ZOOM_SANDBOX_WEBHOOK_URL": webhook_url,
           "ZOOM_SANDBOX_QPS_MEDIUM": "1000", "ZOOM_SANDBOX_QPS_LIGHT": "1000",
           "ZOOM_SANDBOX_DAILY_MEETING_LIMIT": "100000"}
    log = home / "sandbox.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "zoom", "sandbox",
             "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
    # Generous: the fleet's own load (and a busy CI machine) slows the sandbox down.
    control = SandboxControl(f"http://127.0.0.1:{port}/zoom-sandbox", timeout=30)
    try:
        deadline = time.monotonic() + 90  # importing the app takes long on a busy machine
        while True:
            try:
                control.state()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the sandbox did not start:\n" + log.read_text()[-2000:])
                time.sleep(0.1)
        yield control
    finally:
        stop([process])


def _admin_engine(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


@contextmanager
def postgres_app(sandbox: SandboxControl, tmp_path: Path, database: str) -> Iterator[Flask]:
    """An app on a PostgreSQL database of its own (dropped after), calling ``sandbox``."""
    url = fresh_postgres_database(postgres_url(), database)
    name = make_url(url).database
    # The database is the test's alone and thrown away: no need to wait for each commit to
    # reach the disk (it makes the bookings and the workers several times faster).
    admin = _admin_engine(url)
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    admin.dispose()
    app = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                      "ZOOM_MODE": "sandbox", "ZOOM_SANDBOX_URL": sandbox.base,
                      "ZOOM_REDIRECT_URI": REDIRECT_URI, "SECRET_KEY": f"{database}-key",
                      "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
                      "TOKEN_ENCRYPTION_KEYS": (Fernet.generate_key().decode(),)})
    with app.app_context():
        db.create_all()
    app.config["TEST_DATABASE_URL"] = url
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        admin = _admin_engine(url)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def connect_workspace(app: Flask, sandbox: SandboxControl) -> int:
    """A workspace connected to Dr Ada's Zoom through a real consent at the sandbox."""
    client = zoom_extension.client_of(app)
    request = client.authorization_request(app.config["ZOOM_REDIRECT_URI"])
    code = query(sandbox.consent(request.url, "allow", ADA))["code"]
    tokens = client.exchange_code(code, app.config["ZOOM_REDIRECT_URI"], request.code_verifier)
    me = client.get_me(tokens.access_token)
    with app.app_context():
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


def make_bookings(app: Flask, workspace_id: int, count: int) -> list[int]:
    """``count`` bookings 15 minutes apart from three days ahead, through the service."""
    base = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    ids = []
    with app.app_context():
        workspace = db.session.get(Workspace, workspace_id)
        for n in range(count):
            fields = parse_new_booking({
                "external_ref": f"load-{n}", "title": f"Consultation {n}",
                "start_time": (base + timedelta(minutes=15 * n)).isoformat(),
                "duration_minutes": 30, "timezone": "Europe/Lisbon",
                "customer": {"name": f"Client {n}", "email": f"client{n}@example.test"}},
                utcnow())
            booking, _ = bookings.create(workspace, Actor.system(), fields)
            ids.append(booking.id)
    return ids


def change(app: Flask, booking_ids: Sequence[int], action: str, minutes: int = 0) -> None:
    """Cancel the bookings, or move them ``minutes`` later and make them 5 minutes longer."""
    with app.app_context():
        for booking_id in booking_ids:
            booking = db.session.get(Booking, booking_id)
            if action == "cancel":
                bookings.cancel(booking.workspace, Actor.system(), booking)
            else:
                bookings.reschedule(booking.workspace, Actor.system(), booking, {
                    "start_at": booking.start_at + timedelta(minutes=minutes),
                    "duration_minutes": booking.duration_minutes + 5})


def stop(processes: Sequence[subprocess.Popen]) -> None:
    """SIGTERM, then SIGKILL whatever is still running 10 s later."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class Fleet:
    """Worker processes of one app's database. With ``chaos`` set, every wait on the fleet
    also SIGKILLs a random worker now and then and starts another in its place (from the
    test's own thread: a child's death signal follows the thread that started it)."""

    def __init__(self, app: Flask, home: Path, *, command: Sequence[str] = FLASK_WORKER,
                 env: dict[str, str] | None = None) -> None:
        self.home = home
        self.command = [*command, "--poll", "0.2"]
        self.env = {**base_env(), **(env or {}),
                    "DATABASE_URL": app.config["TEST_DATABASE_URL"],
                    "ZOOM_MODE": "sandbox",
                    "ZOOM_SANDBOX_URL": app.config["ZOOM_SANDBOX_URL"],
                    "TOKEN_ENCRYPTION_KEYS": ",".join(app.config["TOKEN_ENCRYPTION_KEYS"]),
                    "SECRET_KEY": app.config["SECRET_KEY"]}
        self.workers: list[tuple[subprocess.Popen, Path]] = []
        self.killed: list[int] = []
        self.chaos: Chaos | None = None

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            instance = self.home / f"worker-{len(self.workers)}"  # its own sandbox storage
            instance.mkdir(parents=True)
            log = instance / "worker.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    self.command, cwd=ROOT,
                    env={**self.env, "LAKESIS_INSTANCE_PATH": str(instance)},
                    stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
            self.workers.append((process, log))

    def alive(self) -> list[subprocess.Popen]:
        return [p for p, _ in self.workers if p.poll() is None]

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: no chance to release its claim or finish its Zoom call."""
        process.send_signal(signal.SIGKILL)
        process.wait(5)
        self.killed.append(process.pid)

    def tick(self) -> None:
        """Let chaos do what is due: a random worker SIGKILLed and replaced."""
        chaos = self.chaos
        if chaos is None or len(self.killed) >= chaos.max_kills \
                or time.monotonic() < chaos.next_kill:
            return
        self.kill(chaos.rng.choice(self.alive()))
        self.start()
        chaos.next_kill = time.monotonic() + chaos.rng.uniform(*chaos.every)

    def logs(self) -> str:
        return "\n".join(log.read_text()[-1500:] for _, log in self.workers[-4:])

    def stop(self) -> None:
        stop([p for p, _ in self.workers])


@dataclass
class Chaos:
    """SIGKILL a random worker every ``every`` seconds (drawn), at most ``max_kills``."""

    rng: random.Random
    every: tuple[float, float]
    max_kills: int
    next_kill: float = 0.0

    def __post_init__(self) -> None:
        self.next_kill = time.monotonic() + self.rng.uniform(*self.every)


def operation_counts(app: Flask) -> Counter:
    with app.app_context():
        rows = db.session.execute(select(Operation.state, func.count())
                                  .group_by(Operation.state)).all()
        db.session.commit()
        return Counter(dict(rows))


def settled(app: Flask) -> bool:
    """No operation is queued, running or waiting for a connection."""
    counts = operation_counts(app)
    return counts["queued"] + counts["running"] + counts["waiting"] == 0


def wait_for(condition: Callable[[], bool], what: str, fleet: Fleet, timeout: float,
             progress: Callable[[], object] | None = None) -> None:
    """Poll ``condition``; fail after ``timeout`` seconds, or, with ``progress``, after
    ``timeout`` seconds in which what it returns did not change (a loaded machine is slow,
    a stuck fleet makes no progress at all)."""
    deadline = time.monotonic() + timeout
    seen = progress() if progress else None
    while not condition():
        if progress is not None and (now := progress()) != seen:
            seen, deadline = now, time.monotonic() + timeout
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what} (last seen: {seen})\n{fleet.logs()}")
        if not fleet.alive():
            pytest.fail("every worker exited:\n" + fleet.logs())
        fleet.tick()
        time.sleep(0.1)


def phase(started: float, what: str) -> None:
    print(f"{time.monotonic() - started:6.1f}s {what}")  # shown with -s, or on failure


def running_op_of(app: Flask, pid: int) -> int | None:
    with app.app_context():
        op_id = db.session.scalar(select(Operation.id).where(
            Operation.state == OperationState.RUNNING,
            Operation.locked_by.like(f"%:{pid}:%")).limit(1))
        db.session.commit()
        return op_id
