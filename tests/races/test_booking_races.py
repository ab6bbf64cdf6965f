"""Races on bookings: the same create sent at once, conflicting creates, a reschedule racing
a cancel, and operators clicking Retry (or Re-sync) together. Never a 500, never two of what
must be one.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Booking, Meeting, Operation, OperationState
from dashboard.orm import utcnow
from dashboard.services import bookings, meeting_sync
from dashboard.zoom.meetings import booking_marker
from tests.booking_builders import add_booking
from tests.races.conftest import (
    RACERS,
    ROUNDS,
    api_client,
    at_once,
    connect_zoom,
    hold_after,
    make_clinic,
    signed_in,
)


def _body(ref: str, title: str = "Consultation with Ana", hours: int = 48) -> dict:
    start = (utcnow() + timedelta(hours=hours)).replace(microsecond=0)
    return {"external_ref": ref, "title": title, "start_time": start.isoformat(),
            "duration_minutes": 30, "timezone": "Europe/Lisbon",
            "customer": {"name": "Ana Silva", "email": "ana@example.test"}}


def _post_booking(app, key: str, body: dict):
    def call():
        response = api_client(app).post("/api/v1/bookings", json=body,
                                        headers={"Authorization": f"Bearer {key}"})
        return response.status_code, response.get_json()
    return call


def _rows(app, model, **filters) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(model).filter_by(**filters))
        db.session.remove()
        return count


def test_parallel_identical_creates_make_one_booking(race_app):
    clinic = make_clinic(race_app)
    for round_ in range(ROUNDS):
        body = _body(f"same-{round_}")
        answers = at_once([_post_booking(race_app, clinic.api_key, body)] * RACERS)
        statuses = Counter(status for status, _ in answers)
        assert statuses == {201: 1, 200: RACERS - 1}, statuses
        assert len({json["id"] for _, json in answers}) == 1
    assert _rows(race_app, Booking) == ROUNDS
    assert _rows(race_app, Meeting) == ROUNDS
    assert _rows(race_app, Operation, kind="create") == ROUNDS


def test_parallel_conflicting_creates_keep_the_first_and_refuse_the_rest(race_app):
    clinic = make_clinic(race_app)
    for round_ in range(ROUNDS):
        calls = [_post_booking(race_app, clinic.api_key, _body(f"clash-{round_}", f"Title {n}"))
                 for n in range(RACERS)]
        answers = at_once(calls)
        statuses = Counter(status for status, _ in answers)
        assert statuses == {201: 1, 409: RACERS - 1}, statuses
        winner = next(json for status, json in answers if status == 201)
        refused = [json for status, json in answers if status == 409]
        assert all(json["errors"][0]["field"] == "external_ref" for json in refused)
        with race_app.app_context():
            stored = db.session.scalars(select(Booking).filter_by(
                external_ref=f"clash-{round_}")).one()
            assert stored.title == winner["title"]
            db.session.remove()
    assert _rows(race_app, Operation, kind="create") == ROUNDS


def test_a_reschedule_racing_a_cancel_leaves_nothing_in_zoom(race_app, sandbox):
    clinic = make_clinic(race_app)
    connect_zoom(race_app, sandbox, clinic.workspace_id)
    auth = {"Authorization": f"Bearer {clinic.api_key}"}
    public_ids = []
    for round_ in range(ROUNDS):
        status, json = _post_booking(race_app, clinic.api_key, _body(f"move-{round_}"))()
        assert status == 201
        public_ids.append(json["id"])
    with race_app.app_context():
        meeting_sync.drain()  # every booking has its meeting in Zoom
    for round_, public_id in enumerate(public_ids):
        later = (utcnow() + timedelta(hours=72 + round_)).replace(microsecond=0).isoformat()

        def reschedule(public_id=public_id, later=later):
            return api_client(race_app).patch(
                f"/api/v1/bookings/{public_id}", headers=auth,
                json={"start_time": later, "duration_minutes": 45}).status_code

        def cancel(public_id=public_id):
            return api_client(race_app).post(f"/api/v1/bookings/{public_id}/cancel",
                                             headers=auth).status_code

        answers = at_once([reschedule, cancel, reschedule, cancel])
        assert answers[1] == answers[3] == 200, answers  # cancelling is always possible
        assert set(answers[::2]) <= {200, 409}, answers  # moved first, or refused: cancelled
    with race_app.app_context():
        meeting_sync.drain()
        rows = list(db.session.scalars(select(Booking).order_by(Booking.id)))
        assert {b.state for b in rows} == {"cancelled"}
        assert {b.meeting.status for b in rows} == {"cancelled"}
        markers = {booking_marker(b.public_id) for b in rows}
        open_ops = db.session.scalar(select(func.count()).select_from(Operation).where(
            Operation.state.in_(("queued", "running", "waiting"))))
        db.session.remove()
    live = [m for m in sandbox.stored_meetings()
            if not m["deleted"] and str(m.get("agenda")).split(" ", 1)[0] in markers]
    assert live == []  # no meeting survived its booking's cancel
    assert open_ops == 0


def _unfinished(app, booking_id: int) -> list[str]:
    with app.app_context():
        kinds = list(db.session.scalars(select(Operation.kind).where(
            Operation.booking_id == booking_id, Operation.state.in_(OperationState.UNFINISHED))))
        db.session.remove()
        return kinds


@pytest.mark.parametrize(("action", "fields", "kind"), [
    ("retry", {"status": "failed", "operation": "failed"}, "create"),
    ("retry", {"status": "failed", "zoom_id": 81200000077}, "update"),
    ("retry", {"status": "failed", "zoom_id": 81200000078, "state": "cancelled"}, "cancel"),
    ("resync", {"status": "scheduled"}, "resync"),
], ids=["retry-create", "retry-update", "retry-cancel", "resync"])
def test_parallel_clicks_enqueue_one_operation(race_app, monkeypatch, action, fields, kind):
    """Operators click Retry (or Re-sync) on one booking at the same moment: exactly one
    operation is enqueued, on PostgreSQL (READ COMMITTED) as on SQLite."""
    clicks = RACERS
    clinic = make_clinic(race_app)
    with race_app.app_context():
        booking_id = add_booking(clinic.workspace_id, f"{action}-{kind}", **fields)
        db.session.remove()
    browsers = [signed_in(race_app, clinic.operator) for _ in range(clicks)]
    # Each click decides what the booking offers, then waits for the others to decide too:
    # without the booking's lock, all act on what they read before any of them wrote.
    hold_after(monkeypatch, bookings, "actions", parties=clicks)

    def click(browser):
        return lambda: browser.post(f"/bookings/{booking_id}/{action}",
                                    headers={"HX-Request": "true"}).status_code

    answers = Counter(at_once([click(browser) for browser in browsers]))
    if action == "retry":  # the later clicks are refused: already on its way
        assert answers[200] == 1 and answers[409] == clicks - 1, answers
    else:  # a re-sync already on its way is no error: the later clicks are told so
        assert set(answers) <= {200, 409}, answers
    assert _unfinished(race_app, booking_id) == [kind]
