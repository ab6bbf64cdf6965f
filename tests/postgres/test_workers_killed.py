"""Four `flask zoom worker` processes drain 500 bookings on PostgreSQL while bookings are
rescheduled and cancelled and one worker is killed mid-run: Zoom ends with exactly one
meeting per active booking, at its latest time, and none for cancelled ones."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Booking, Operation
from dashboard.services.zoom_tokens import TokenProvider
from dashboard.zoom.meetings import booking_marker as meeting_marker
from tests.postgres.fleet import (
    Fleet,
    change,
    connect_workspace,
    make_bookings,
    operation_counts,
    phase,
    postgres_app,
    running_op_of,
    sandbox_process,
    settled,
    wait_for,
    webhook_sink,
)
from tests.sandbox_control import SandboxControl

pytestmark = pytest.mark.postgres

BOOKINGS, WORKERS = 500, 4
RESCHEDULED, CANCELLED = range(0, 50), range(50, 100)
# The killed worker's operation is taken over after this. It must outlast the longest Zoom
# call (10 s read timeout): a shorter lease lets a live but slow worker be overtaken mid-call
# on a loaded machine, and two workers would then race on one booking.
LEASE_SECONDS = 15
DEADLINE_SECONDS = 120
DATABASE = f"lakesis_workers_test_{os.getpid()}"  # concurrent runs must not share it


@pytest.fixture
def zoom_sandbox(tmp_path) -> Iterator[SandboxControl]:
    """A sandbox process of its own (`flask zoom sandbox`)."""
    with webhook_sink() as sink, sandbox_process(tmp_path / "sandbox", sink) as control:
        yield control


@pytest.fixture
def pg_app(zoom_sandbox, tmp_path) -> Iterator:
    """An app on a PostgreSQL database of its own, calling the sandbox process."""
    with postgres_app(zoom_sandbox, tmp_path, DATABASE) as app:
        yield app


def test_killed_worker_loses_nothing_and_duplicates_nothing(pg_app, zoom_sandbox, tmp_path):
    started = time.monotonic()
    workspace_id = connect_workspace(pg_app, zoom_sandbox)
    ids = make_bookings(pg_app, workspace_id, BOOKINGS)
    phase(started, "bookings made")
    fleet = Fleet(pg_app, tmp_path / "workers",
                  env={"LAKESIS_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
                       # the killed worker's create may be lost: look again soon, not in 60 s
                       "LAKESIS_ZOOM_CREATE_SETTLE_SECONDS": "2"})
    fleet.start(WORKERS)
    try:
        wait_for(lambda: operation_counts(pg_app)["succeeded"] >= 100, "the first 100 meetings",
                 fleet, 60)
        phase(started, "100 meetings made")
        change(pg_app, [ids[n] for n in RESCHEDULED], "reschedule", minutes=7)
        change(pg_app, [ids[n] for n in CANCELLED], "cancel")

        victim = fleet.alive()[0]
        held: list[int] = []

        def victim_holds_one() -> bool:
            # Frozen while we look, so it cannot finish the operation between the look and
            # the kill (it is then killed holding it, or let go to try again).
            victim.send_signal(signal.SIGSTOP)
            held.append(running_op_of(pg_app, victim.pid))
            if not held[-1]:
                victim.send_signal(signal.SIGCONT)
            return bool(held[-1])

        wait_for(victim_holds_one, "the victim to hold an operation", fleet, 30)
        fleet.kill(victim)
        phase(started, f"killed worker {victim.pid} holding operation {held[-1]}")
        change(pg_app, [ids[n] for n in RESCHEDULED], "reschedule", minutes=11)

        wait_for(lambda: settled(pg_app), "every operation to finish", fleet,
                 DEADLINE_SECONDS - (time.monotonic() - started))
        phase(started, f"settled: {dict(operation_counts(pg_app))}")
    finally:
        fleet.stop()

    counts = operation_counts(pg_app)
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
