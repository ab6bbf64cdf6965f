"""Shared plumbing of the benchmarks: processes, ports, databases, wrk runs, tables.

Every process a benchmark starts is a ``Service``: its own session (process group), its
output in a log file, a readiness check that polls its port with a deadline, and a stop
that always runs (``running()`` is a context manager) -- SIGTERM to the group it made,
then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.databases import in_ci, postgres_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FLASK = str(BIN / "flask")
GUNICORN = str(BIN / "gunicorn")
HOST = "127.0.0.1"


# --- ports and processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How busy all CPUs were between two ``cpu_jiffies()`` readings (100 = every core)."""
    total = after[1] - before[1]
    return 100.0 * (after[0] - before[0]) / total if total else 0.0


class Service:
    """A subprocess of the benchmark, logged to ``log_dir/<name>.log``."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_dir: Path,
                 port: int | None = None) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.port = port
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss_kb: dict[int, int] = {}  # pid -> VmHWM, read just before stopping
        self.cpu_s: dict[int, float] = {}  # pid -> user+system CPU seconds so far

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own venv's executables
                self.argv, env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _died(self, what: str) -> AssertionError:
        return AssertionError(f"{self.name} exited with {self.proc.returncode} {what}; "
                              f"log {self.log_path}:\n{self.log_tail()}")

    def wait_for_port(self, deadline_s: float = 30.0) -> None:
        """Poll the port until it accepts a connection, the process dies, or time is up."""
        assert self.port is not None
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if not self.alive():
                raise self._died("before listening")
            with socket.socket() as probe:
                probe.settimeout(0.5)
                if probe.connect_ex((HOST, self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not listen on {HOST}:{self.port} within "
                             f"{deadline_s:.0f} s; log:\n{self.log_tail()}")

    def wait_for_http(self, path: str, deadline_s: float = 30.0) -> requests.Response:
        """After the port: poll ``path`` until it answers below 500 (the app is imported)."""
        self.wait_for_port(deadline_s)
        end = time.monotonic() + deadline_s
        last: str = ""
        while time.monotonic() < end:
            if not self.alive():
                raise self._died("while starting")
            try:
                answer = requests.get(f"http://{HOST}:{self.port}{path}", timeout=5,
                                      allow_redirects=False)
                if answer.status_code < 500:
                    return answer
                last = f"HTTP {answer.status_code}"
            except requests.RequestException as error:
                last = type(error).__name__
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: {path} not ready within {deadline_s:.0f} s "
                             f"({last}); log:\n{self.log_tail()}")

    def process_tree(self) -> list[int]:
        """This process and its descendants (gunicorn's workers), from /proc."""
        if not self.alive():
            return []
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    stat = (entry / "stat").read_text()
                    parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, frontier = [self.pid], [self.pid]
        while frontier:
            children = [pid for pid, ppid in parents.items() if ppid in frontier]
            tree.extend(children)
            frontier = children
        return tree

    def sample_memory(self) -> None:
        """Remember each process's peak RSS (VmHWM) and CPU time so far; call before
        stopping (``stop`` does it too)."""
        for pid in self.process_tree():
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_rss_kb[pid] = max(self.peak_rss_kb.get(pid, 0),
                                                    int(line.split()[1]))
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                self.cpu_s[pid] = (int(fields[11]) + int(fields[12])) / _TICKS

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM to the process group this Service started, SIGKILL after ``grace_s``."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.sample_memory()
        tree = self.process_tree()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        # Children left behind (the leader went first): end those of this group only.
        for pid in tree[1:]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getpgid(pid) == self.proc.pid:
                    os.kill(pid, signal.SIGKILL)


def gunicorn(name: str, target: str, env: Mapping[str, str], log_dir: Path, *,
             workers: int) -> Service:
    """gunicorn serving ``target`` with ``workers`` sync workers on a free port, with the
    project's gunicorn.conf.py but no access log and no worker recycling (the same for the
    baselines: what is measured is the app, not log writes or restarts)."""
    port = free_port()
    return Service(name, [GUNICORN, "--workers", str(workers), "--worker-class", "sync",
                          "--bind", f"{HOST}:{port}", "--timeout", "120", "--max-requests", "0",
                          # gunicorn's advice: worker heartbeats on tmpfs, not disk
                          "--graceful-timeout", "5", "--worker-tmp-dir", "/dev/shm",  # noqa: S108
                          "--log-level", "warning", target],
                   {**env, "GUNICORN_ACCESS_LOG": ""}, log_dir, port=port)


@contextlib.contextmanager
def running(*services: Service) -> Iterator[tuple[Service, ...]]:
    """Start the services; stop every one of them on the way out, whatever happens."""
    started: list[Service] = []
    try:
        for service in services:
            started.append(service.start())
        yield services
    finally:
        for service in reversed(started):
            service.stop()


# --- environments ----------------------------------------------------------------------

# What the parent's environment must not leak into a benchmark's processes.
_DROP_PREFIXES = ("LAKESIS_", "ZOOM_", "FLASK_", "DATABASE_URL", "TEST_DATABASE_URL",
                  "SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "APP_BASE_URL", "PORT", "GUNICORN_")


@dataclass(frozen=True)
class Keys:
    """One run's secrets, shared by the harness and every process it starts."""

    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token_key: str = field(default_factory=lambda: Fernet.generate_key().decode())


def app_env(*, database_url: str, instance: Path, keys: Keys, app_base_url: str,
            sandbox_url: str, webhook_url: str, **extra: str) -> dict[str, str]:
    """The environment of a dashboard process (worker, gunicorn, sandbox) for a benchmark."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES)}
    instance.mkdir(parents=True, exist_ok=True)
    env.update({
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",
        "LAKESIS_ENV": "development",
        "LAKESIS_INSTANCE_PATH": str(instance),
        "SECRET_KEY": keys.secret_key,
        "TOKEN_ENCRYPTION_KEYS": keys.token_key,
        "DATABASE_URL": database_url,
        "APP_BASE_URL": app_base_url,
        "ZOOM_MODE": "sandbox",
        "ZOOM_SANDBOX_URL": sandbox_url,
        "ZOOM_REDIRECT_URI": f"{app_base_url}/settings/integrations/zoom/callback",
        "ZOOM_SANDBOX_WEBHOOK_URL": webhook_url,
        "LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


def harness_overrides(database_url: str, keys: Keys, tmp: Path, **extra: object) -> dict:
    """``create_app`` overrides for the harness's own in-process app on the same database."""
    from dashboard.config import normalize_database_url

    return {
        "LAKESIS_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url, tmp),
        "SECRET_KEY": keys.secret_key,
        "TOKEN_ENCRYPTION_KEYS": (keys.token_key,),
        # The harness never serves the sandbox; keep its (mounted) storage out of instance/.
        "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{tmp / 'harness-sandbox.db'}",
        **extra,
    }


# --- PostgreSQL ------------------------------------------------------------------------


def postgres_database_url(name: str) -> str:
    """A URL for database ``name`` on the suite's PostgreSQL server, created if missing.

    Skips (fails under CI=true) when the server is not reachable.
    """
    base = make_url(postgres_url())
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": name}):
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        reason = (f"PostgreSQL is not reachable at {base.host}:{base.port} "
                  f"({error.orig.__class__.__name__}); the PostgreSQL benchmark is skipped")
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def recreate_postgres_database(name: str) -> str:
    """Drop (if there) and create database ``name``: only for the benchmarks' own databases."""
    assert name.startswith("lakesis_bench"), name  # never a shared test database
    url = postgres_database_url("postgres")  # skips when unreachable
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


# --- load loop: wrk ---------------------------------------------------------------------

# Debian's wrk: a C load generator, so the client does not eat the CPU the server needs
# (a Python client on this 2-CPU machine took a third of it, more from the faster side).
WRK_THREADS = 2


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run printed: counts, rate, latency percentiles (ms), bytes read."""

    name: str
    requests: int
    rps: float
    latency_ms: Mapping[int, float]  # 50, 75, 90, 99
    non_2xx: int
    errors: int  # socket errors: connect, read, write, timeout
    bytes_read: int

    def pct(self, q: int) -> float:
        return self.latency_ms[q]

    @property
    def bytes_per_response(self) -> float:
        return self.bytes_read / self.requests if self.requests else 0.0

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.non_2xx == 0 and self.errors == 0


def wrk(name: str, url: str, *, connections: int, seconds: float,
        headers: Mapping[str, str] | None = None, script: Path | None = None) -> LoadResult:
    """``connections`` at a time for ``seconds`` against ``url`` (GET, with ``headers``), or
    what a Lua ``script`` sends."""
    command = [shutil.which("wrk") or "wrk", "-t", str(WRK_THREADS), "-c", str(connections),
               "-d", f"{seconds:g}s", "--latency", "--timeout", "30s"]
    for header, value in (headers or {}).items():
        command += ["-H", f"{header}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(command + [url], capture_output=True, text=True,  # noqa: S603
                         timeout=seconds + 90, check=True).stdout
    return LoadResult(
        name, int(_found(r"(\d+) requests in", out)),
        float(_found(r"Requests/sec:\s+([\d.]+)", out)),
        {q: _ms(_found(rf"\b{q}%\s+([\d.]+\w+)", out)) for q in (50, 75, 90, 99)},
        int(_found(r"Non-2xx or 3xx responses: (\d+)", out, "0")),
        sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
        _bytes(_found(r"requests in [\d.]+\w+, ([\d.]+\w+) read", out)))


def _found(pattern: str, text_: str, default: str | None = None) -> str:
    match = re.search(pattern, text_)
    if match is None:
        if default is None:
            raise AssertionError(f"wrk printed no {pattern!r}:\n{text_}")
        return default
    return match[1]


def _ms(value: str) -> float:
    number, unit = float(re.match(r"[\d.]+", value)[0]), re.sub(r"[\d.]+", "", value)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _bytes(value: str) -> int:
    number, unit = float(re.match(r"[\d.]+", value)[0]), re.sub(r"[\d.]+", "", value)
    return int(number * {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}[unit])


# --- printing --------------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list[object]]) -> str:
    """A plain fixed-width table, for the benchmark's printed report."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) if i else c.ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True)))
              for row in cells[1:]]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine_load() -> str:
    """The load average, printed with each result: other work on the machine (another
    test run, say) shows up in every figure measured here."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def report(text_block: str) -> None:
    """Print a block of the report, set apart from pytest's own dots."""
    print("\n" + text_block, flush=True)


# --- cached benchmark databases ----------------------------------------------------------

_MARKER = text("CREATE TABLE IF NOT EXISTS bench_marker ("
               "name VARCHAR(40) PRIMARY KEY, row_count INTEGER, version INTEGER)")


def is_marked(session, name: str, rows: int, version: int) -> bool:
    """Whether this database was built for benchmark ``name`` with ``rows`` rows of data
    version ``version`` (its build ends with ``mark``)."""
    session.execute(_MARKER)
    found = session.execute(text("SELECT row_count, version FROM bench_marker WHERE name = "
                                 ":name"), {"name": name}).first()
    session.commit()
    return found is not None and tuple(found) == (rows, version)


def mark(session, name: str, rows: int, version: int) -> None:
    session.execute(_MARKER)
    session.execute(text("INSERT INTO bench_marker VALUES (:name, :n, :v)"),
                    {"name": name, "n": rows, "v": version})


def settle(session) -> None:
    """After a bulk build: what autovacuum does to a table this size on PostgreSQL (fresh
    statistics, and the visibility map that lets a count read an index alone; this
    machine's server runs with autovacuum off), ANALYZE on SQLite. Commits."""
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        with session.get_bind().connect().execution_options(
                isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        session.execute(text("ANALYZE"))
        session.commit()


def move_sequences_past_ids(session, models) -> None:
    """PostgreSQL: rows were inserted with their ids given, so each table's id sequence is
    moved past them (the app's own inserts would collide otherwise)."""
    for model in models:
        highest = session.scalar(text(f"SELECT max(id) FROM {model.__tablename__}"))  # noqa: S608
        session.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                             "GREATEST(:n, 1))"), {"t": model.__tablename__, "n": highest or 1})
