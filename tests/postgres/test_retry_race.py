"""Two operators click Retry (or Re-sync) on one booking at the same moment: exactly one
operation is enqueued, on PostgreSQL (READ COMMITTED) as on SQLite."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import pytest

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import Booking, Operation, OperationState, Workspace
from dashboard.services import ServiceError, bookings
from dashboard.services.audit import Actor
from tests.booking_builders import add_booking
from tests.databases import fresh_postgres_database, postgres_url

CLICKS = 2
# How long the first click waits, having decided, for the second to decide too. Only the
# broken code lets both decide at once; fixed, the second waits for the first's lock.
BOTH_DECIDED_WITHIN = 2.0


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def racing_app(request, tmp_path):
    if request.param == "postgresql":
        url = fresh_postgres_database(postgres_url(), "retry_race")
    else:
        url = f"sqlite:///{tmp_path / 'retry_race.db'}"
    racing = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with racing.app_context():
        db.create_all()
    yield racing
    with racing.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _booking(app, **fields) -> tuple[int, int]:
    with app.app_context():
        workspace = Workspace(name="Race", slug="race")
        db.session.add(workspace)
        db.session.commit()
        return workspace.id, add_booking(workspace.id, **fields)


def _click_at_once(app, monkeypatch, booking_id: int,
                   action: Callable[..., Operation | None]) -> list[BaseException]:
    """Each click decides what the booking offers, then (broken code) waits until the other
    has decided too, so both act on what they read before either wrote."""
    decided = threading.Barrier(CLICKS)
    offered = bookings.actions

    def decide_together(booking: Booking):
        actions = offered(booking)
        # Broken: the other click is held back by the first's lock, as it should be.
        with contextlib.suppress(threading.BrokenBarrierError):
            decided.wait(BOTH_DECIDED_WITHIN)
        return actions

    monkeypatch.setattr(bookings, "actions", decide_together)
    refusals: list[BaseException] = []
    errors: list[BaseException] = []

    def click() -> None:
        with app.app_context():
            try:
                booking = db.session.get(Booking, booking_id)
                action(booking.workspace, Actor.system(), booking)
            except ServiceError as refused:  # "already on its way": the second click
                refusals.append(refused)
            except BaseException as error:  # collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return refusals


def _unfinished(app, booking_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(Operation.kind).where(
            Operation.booking_id == booking_id,
            Operation.state.in_(OperationState.UNFINISHED))))


@pytest.mark.parametrize(("fields", "kind"), [
    ({"status": "failed", "zoom_id": None}, "create"),
    ({"status": "failed", "zoom_id": 81200000077}, "update"),
    ({"status": "failed", "zoom_id": 81200000078, "state": "cancelled"}, "cancel"),
], ids=["create", "update", "cancel"])
def test_two_parallel_retries_enqueue_one_operation(racing_app, monkeypatch, fields, kind):
    _, booking_id = _booking(racing_app, **fields)

    _click_at_once(racing_app, monkeypatch, booking_id, bookings.retry)

    assert _unfinished(racing_app, booking_id) == [kind]


def test_two_parallel_resyncs_enqueue_one_operation(racing_app, monkeypatch):
    _, booking_id = _booking(racing_app, status="scheduled")

    _click_at_once(racing_app, monkeypatch, booking_id, bookings.resync)

    assert _unfinished(racing_app, booking_id) == ["resync"]
