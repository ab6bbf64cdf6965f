"""The security suites' shared parts: the tried/held tally, hostile text, a Zoom recorder,
and snapshots of every table (to prove a refused request wrote nothing)."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import select

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.models import (
    ApiKey,
    Booking,
    BulkJob,
    Meeting,
    Membership,
    WebhookEndpoint,
    Workspace,
)
from dashboard.orm import utcnow
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from dashboard.services.webhook_endpoints import new_secret
from tests.security import tally
from tests.zoom_builders import endpoints, token_body

# Hypothesis keeps caches beside the code it runs; keep them out of the work tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "lakesis-hypothesis")

SUITES = Path(__file__).parent
MATRIX = SUITES.parent / "web" / "test_route_matrix.py"


def _suite(report: pytest.TestReport) -> str | None:
    path = Path(report.fspath).resolve()
    if path == MATRIX.resolve():
        return "route access"
    if path.parent == SUITES.resolve() and path.name.startswith("test_"):
        return path.stem.removeprefix("test_").replace("_", " ")
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each security test is one thing tried; it held if it passed (a setup error did not)."""
    suite = _suite(report)
    if suite is None or report.skipped:
        return
    if report.when == "call" or (report.when == "setup" and report.failed):
        tally.tried(f"{suite} (tests)")
        if report.passed:
            tally.held(f"{suite} (tests)")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if tally.TRIED:
        terminalreporter.section("security suites: tried / held")
        for line in tally.lines():
            terminalreporter.write_line(line)


# --- hostile text ----------------------------------------------------------------------

#: Text that breaks a page, a query, a log line or a Zoom meeting when handled carelessly.
HOSTILE = {
    "script": "<script>alert('xss')</script>",
    "attribute": "\"><img src=x onerror=alert(1)>",
    "single-quote": "' onmouseover='alert(1)",
    "template": "{{ config.SECRET_KEY }}{% raw %}",
    "sql": "'); DROP TABLE bookings;--",
    "log-format": "%s%s%s%n %(secret)s {0}",
    "newline": "Ana\r\nSet-Cookie: session=forged",
    "bidi": "Ana \u202egnp.exe\u202c Silva",
    "zero-width": "A\u200bn\u200da\ufeff",
    "c1": "Ana\x85Silva\x9b",
    "nul": "Ana\x00Silva",
    "javascript-url": "javascript:alert(document.cookie)",
}
#: Characters that must never reach Zoom: C0/C1 controls, bidi overrides and isolates,
#: zero-width characters and the byte-order mark.
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def hostile_params() -> list[Any]:
    return [pytest.param(text, id=name) for name, text in HOSTILE.items()]


def unescaped_markup(page: str, text: str) -> bool:
    """Whether ``text``'s markup appears in ``page`` as markup (unescaped)."""
    return any(marker in text and marker in page for marker in (
        "<script>", "<img src=x", "\"><img", "' onmouseover='"))


# --- records ---------------------------------------------------------------------------

def issue_key(app: Flask, workspace_id: int, name: str = "security suite") -> str:
    """A new API key of the workspace; returns its secret."""
    with app.app_context():
        issued = api_keys.issue(db.session.get(Workspace, workspace_id), Actor.system(), name,
                                None)
        db.session.remove()
        return issued.secret


def record_ids(workspace: Workspace) -> dict[str, int | str]:
    """A record of each kind that lives in ``workspace``, by the URL argument naming it
    (call inside an app context; commits)."""
    key = ApiKey(workspace_id=workspace.id, name="matrix", prefix=f"m{workspace.id:07d}",
                 key_hash=f"{workspace.id:064d}")
    db.session.add(key)
    db.session.flush()
    member = db.session.scalars(db.select(Membership).filter_by(
        workspace_id=workspace.id).order_by(Membership.id.desc())).first()
    booking = Booking(workspace_id=workspace.id, external_ref=f"matrix-{key.id}",
                      title="Matrix booking", start_at=utcnow() + timedelta(days=3),
                      duration_minutes=30, timezone="UTC", customer_name="Matrix",
                      customer_email="matrix@example.test", fingerprint="0" * 64)
    booking.meeting = Meeting(workspace_id=workspace.id, status="failed")
    db.session.add(booking)
    db.session.flush()
    endpoint = WebhookEndpoint(workspace_id=workspace.id, url="https://hooks.example.test/in",
                               event_types="meeting.ready",
                               secret_enc=token_cipher.encrypt(new_secret()))
    job = BulkJob(workspace_id=workspace.id, kind="retry_failed", booking_ids=[booking.id],
                  total=1, requested_by="matrix")
    db.session.add_all([endpoint, job])
    db.session.flush()
    ids = {"membership_id": member.id, "key_id": key.id, "booking_id": booking.id,
           "endpoint_id": endpoint.id, "job_id": job.id}
    db.session.commit()
    return ids


#: Counters of refused and duplicate webhook requests (one row per hour and outcome, for
#: the sync health page): counting a refusal is the point, so snapshots leave them out.
COUNTERS = {"webhook_tallies"}


def snapshot(app: Flask) -> dict[str, list[tuple]]:
    """Every row of every table but ``COUNTERS``, in key order: equal snapshots mean nothing
    was written."""
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            if table.name in COUNTERS:
                continue
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [tuple(row) for row in rows]
        db.session.remove()
        return tables


# --- Zoom, recorded ----------------------------------------------------------------------

class ZoomRecorder:
    """Zoom's meetings endpoints mocked with ``responses``, keeping every body sent."""

    def __init__(self, mock: responses.RequestsMock, app: Flask) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.ids = iter(range(82_000_000_001, 82_000_100_000))
        api = endpoints(app).api_base_url
        mock.add_callback("POST", re.compile(re.escape(api) + r"/users/[^/]+/meetings"),
                          callback=self._create)
        mock.add_callback("GET", re.compile(re.escape(api) + r"/users/[^/]+/meetings"),
                          callback=self._list)
        mock.add_callback("PATCH", re.compile(re.escape(api) + r"/meetings/\d+"),
                          callback=self._changed)
        mock.add_callback("DELETE", re.compile(re.escape(api) + r"/meetings/\d+"),
                          callback=self._changed)
        mock.add("POST", endpoints(app).token_url, json=token_body("access-2", "refresh-2"))

    def _create(self, request: Any) -> tuple:
        body = json.loads(request.body)
        self.bodies.append(body)
        meeting_id = next(self.ids)
        answer = {**body, "id": meeting_id, "uuid": f"u{meeting_id}==", "host_id": "zu_Host",
                  "status": "waiting", "join_url": f"https://zoom.us/j/{meeting_id}",
                  "start_url": f"https://zoom.us/s/{meeting_id}?zak=start-secret",
                  "created_at": "2026-01-01T00:00:00Z"}
        return 201, {"Content-Type": "application/json"}, json.dumps(answer)

    def _list(self, request: Any) -> tuple:
        page = {"next_page_token": "", "page_size": 300, "total_records": 0, "meetings": []}
        return 200, {"Content-Type": "application/json"}, json.dumps(page)

    def _changed(self, request: Any) -> tuple:
        if request.body:
            self.bodies.append(json.loads(request.body))
        return 204, {}, ""

    def texts(self) -> list[str]:
        """Every string value of every body sent, however deep."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, str):
                found.append(node)
            elif isinstance(node, dict):
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.bodies)
        return found


@pytest.fixture
def zoom_recorder(app: Flask) -> Iterator[ZoomRecorder]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield ZoomRecorder(mock, app)
