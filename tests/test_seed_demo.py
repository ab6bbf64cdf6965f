"""`flask seed-demo`: the demo workspace gets about 200 bookings in every state, once."""

from __future__ import annotations

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Booking, Meeting, MeetingStatus, Operation, Workspace
from dashboard.orm import utcnow


def _count(model, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_seed_demo_adds_bookings_in_every_state_once(app, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Added 200 demo bookings" in first.output and "waiting for connection" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "nothing added" in second.output
    with app.app_context():
        workspace = db.session.scalar(select(Workspace).filter_by(name="Acme Clinic"))
        assert _count(Booking, workspace_id=workspace.id) == 200
        statuses = set(db.session.scalars(select(Meeting.status).distinct()))
        assert statuses == {status.value for status in MeetingStatus}
        assert set(db.session.scalars(select(Booking.state).distinct())) == {"active",
                                                                             "cancelled"}
        ops = set(db.session.scalars(select(Operation.state).distinct()))
        assert {"failed", "dead", "waiting", "queued", "succeeded"} <= ops
        refs = db.session.scalars(select(Booking.external_ref).order_by(Booking.external_ref))
        assert next(iter(refs)) == "demo-0001"
        now = utcnow()
        scheduled = db.session.scalars(select(Booking).join(Booking.meeting).where(
            Meeting.status == "scheduled")).unique().all()
        assert all(b.start_at > now for b in scheduled)
        assert all(b.meeting.join_url == f"https://zoom.us/j/{b.meeting.zoom_meeting_id}"
                   for b in scheduled)
        ended = db.session.scalars(select(Booking).join(Booking.meeting).where(
            Meeting.status == "ended")).unique().all()
        assert ended and all(b.start_at < now for b in ended)
        assert _count(Meeting, start_url_enc=None) == 200  # nothing secret is made up
