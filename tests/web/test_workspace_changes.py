"""The workspace data version: the database changes it with every write to what the
bookings table shows, whoever writes (ORM or Core), and only for that workspace."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update

from dashboard.extensions import db
from dashboard.models import (
    Booking,
    BulkJob,
    DriftKind,
    Meeting,
    MeetingDrift,
    Workspace,
    WorkspaceChange,
)
from dashboard.models.workspace_change import TRACKED
from tests.booking_builders import add_booking
from tests.zoom_builders import store_connection


def version_of(workspace_id: int) -> int | None:
    return db.session.get(WorkspaceChange, workspace_id).version


def versions(app, world) -> tuple[int | None, int | None]:
    with app.app_context():
        return version_of(world.acme.id), version_of(world.globex.id)


@pytest.fixture
def every_table(app, world) -> None:
    """A row of acme's in each table the version follows."""
    with app.app_context():
        booking_id = add_booking(world.acme.id, "ref-every", operation="queued")
        db.session.add(MeetingDrift(workspace_id=world.acme.id, booking_id=booking_id,
                                    kind=DriftKind.DELETED, detected_by="webhook"))
        db.session.add(BulkJob(workspace_id=world.acme.id, kind="retry_failed",
                               requested_by="operator@acme.test"))
        db.session.commit()
        store_connection(world.acme.id)


def test_a_new_workspace_has_a_version_from_the_start(app, world):
    acme, globex = versions(app, world)
    assert acme is not None and globex is not None and acme != globex
    with app.app_context():
        db.session.add(Workspace(name="Initech", slug="initech"))
        db.session.commit()
        made = db.session.scalar(db.select(Workspace.id).filter_by(slug="initech"))
        assert version_of(made) is not None


@pytest.mark.parametrize("table", TRACKED)
def test_a_core_update_of_any_followed_table_changes_only_its_workspace(app, world,
                                                                        every_table, table):
    before = versions(app, world)
    with app.app_context():
        changed = db.session.execute(text(
            f"UPDATE {table} SET workspace_id = workspace_id WHERE workspace_id = :w"),  # noqa: S608
            {"w": world.acme.id}).rowcount
        db.session.commit()
    assert changed >= 1
    acme, globex = versions(app, world)
    assert acme != before[0]
    assert globex == before[1]


def test_inserts_and_deletes_change_it_and_a_rollback_does_not(app, world):
    first, _ = versions(app, world)
    with app.app_context():
        booking_id = add_booking(world.acme.id, "ref-new")
    inserted, _ = versions(app, world)
    assert inserted != first
    with app.app_context():
        db.session.execute(update(Meeting).where(Meeting.booking_id == booking_id)
                           .values(status="failed"))
        db.session.rollback()
    assert versions(app, world)[0] == inserted
    with app.app_context():
        db.session.execute(delete(Booking).where(Booking.id == booking_id))
        db.session.commit()
    assert versions(app, world)[0] not in (inserted, first)


def test_many_rows_in_one_transaction_change_it(app, world):
    with app.app_context():
        for n in range(5):
            add_booking(world.acme.id, f"ref-{n}")
    before, _ = versions(app, world)
    with app.app_context():
        db.session.execute(update(Meeting).where(Meeting.workspace_id == world.acme.id)
                           .values(status="ended"))
        db.session.execute(update(Booking).where(Booking.workspace_id == world.acme.id)
                           .values(title="Renamed"))
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(WorkspaceChange)) == 2
    assert versions(app, world)[0] != before
