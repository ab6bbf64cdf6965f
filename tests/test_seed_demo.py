"""`flask seed-demo`: the demo workspace gets about 200 bookings in every state, once, and
their Zoom meetings live in the sandbox, so every action on them behaves as for real."""

from __future__ import annotations

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    ConnectionStatus,
    Meeting,
    MeetingStatus,
    Operation,
    User,
    Workspace,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import bookings, error_causes
from dashboard.services.audit import Actor
from tests.booking_builders import drain


def _count(model, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_seed_demo_adds_bookings_in_every_state_once(app, runner, sandbox):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Added 200 demo bookings" in first.output
    assert "their meetings are in the Zoom sandbox, connected as dr.ada@clinic.zoom.test" in (
        first.output)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "nothing added" in second.output
    with app.app_context():
        workspace = db.session.scalar(select(Workspace).filter_by(name="Acme Clinic"))
        assert _count(Booking, workspace_id=workspace.id) == 200
        statuses = set(db.session.scalars(select(Meeting.status).distinct()))
        # Connected to Zoom, so nothing waits for a connection.
        assert statuses == {s.value for s in MeetingStatus} - {"waiting_for_connection"}
        assert set(db.session.scalars(select(Booking.state).distinct())) == {"active",
                                                                             "cancelled"}
        ops = set(db.session.scalars(select(Operation.state).distinct()))
        assert {"failed", "dead", "queued", "succeeded"} <= ops and "waiting" not in ops
        refs = db.session.scalars(select(Booking.external_ref).order_by(Booking.external_ref))
        assert next(iter(refs)) == "demo-0001"
        connection = db.session.scalar(select(ZoomConnection).filter_by(
            workspace_id=workspace.id))
        assert connection.status == ConnectionStatus.CONNECTED
        assert connection.zoom_email == "dr.ada@clinic.zoom.test"
        assert connection.connected_by.email == "admin@demo.lakesis.test"
        now = utcnow()
        live = db.session.scalars(select(Booking).join(Booking.meeting).where(
            Meeting.status.in_(("scheduled", "started", "ended")))).unique().all()
        assert all(b.start_at > now for b in live if b.meeting.status == "scheduled")
        assert all(b.start_at < now for b in live if b.meeting.status == "ended")
        ours = {b.meeting.zoom_meeting_id: b for b in live}
        # A refusal carries Zoom's code, as a real one does: the pages explain it.
        refused = db.session.scalars(select(Meeting).where(
            Meeting.last_error.startswith("Zoom refused"))).all()
        assert refused and all(
            error_causes.explain(m.error_code, None, m.last_error) is not error_causes.UNKNOWN
            for m in refused)
    # Every meeting that exists in Zoom exists in the sandbox, with the booking's time.
    stored = {m["id"]: m for m in sandbox.stored_meetings() if m["id"] in ours}
    assert set(stored) == set(ours)
    for zoom_id, booking in ours.items():
        assert stored[zoom_id]["duration"] == booking.duration_minutes
        assert booking.meeting.join_url == stored[zoom_id]["join_url"]
        # the sandbox's meeting page, not a zoom.us that never heard of it
        assert booking.meeting.join_url.startswith(app.config["ZOOM_SANDBOX_URL"] + "/j/")
    # ... and opens there, served by the app itself (11-digit meeting numbers included).
    join = next(iter(ours.values())).meeting.join_url
    page = app.test_client().get(join.removeprefix(app.config["APP_BASE_URL"]))
    assert page.status_code == 200 and b"This is the Zoom sandbox" in page.data


def test_a_resync_of_a_healthy_demo_row_stays_green(app, runner, sandbox):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        booking = db.session.scalars(select(Booking).join(Booking.meeting).where(
            Meeting.status == "scheduled").order_by(Booking.external_ref)).first()
        booking_id = booking.id
        admin = db.session.scalar(select(User).filter_by(email="admin@demo.lakesis.test"))
        bookings.resync(booking.workspace, Actor.of_user(admin), booking)
    drain(app)
    with app.app_context():
        meeting = db.session.get(Booking, booking_id).meeting
        assert meeting.status == "scheduled" and meeting.last_error is None
        assert meeting.note is None
