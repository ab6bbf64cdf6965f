"""Migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from dashboard import create_app
from dashboard.extensions import db, schema_of_models
from tests.databases import fresh_postgres_database, postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return fresh_postgres_database(postgres_url(), "lakesis_migrations_test")


@pytest.fixture
def migrating_app(empty_database, tmp_path):
    app = create_app({
        "LAKESIS_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": empty_database,
        "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}",
    })
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upgrade_from_empty_matches_the_models(migrating_app):
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_name": schema_of_models})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_downgrade_to_base_removes_every_table(migrating_app):
    upgrade()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()  # and back up again, cleanly
    assert "workspaces" in inspect(db.engine).get_table_names()


def test_bookings_made_before_the_search_index_are_found_by_it(migrating_app):
    from dashboard.models import Booking, Meeting, Workspace
    from dashboard.orm import utcnow
    from dashboard.services.bookings import _matching

    upgrade(revision="0013")
    workspace = Workspace(name="Old", slug="old")
    db.session.add(workspace)
    db.session.flush()
    booking = Booking(workspace_id=workspace.id, external_ref="old-1", title="Booked long ago",
                      start_at=utcnow(), duration_minutes=30, timezone="UTC",
                      customer_name="Carla Carvalho", customer_email="carla@example.test",
                      fingerprint="0" * 64)
    booking.meeting = Meeting(workspace_id=workspace.id)
    db.session.add(booking)
    db.session.commit()
    upgrade()
    assert db.session.scalars(select(Booking.title).where(_matching("carval"))).all() == [
        "Booked long ago"]


def test_bulk_jobs_take_the_selected_kinds_after_0016_and_no_others(migrating_app):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    upgrade(revision="0015")
    old_check = [c["sqltext"] for c in inspect(db.engine).get_check_constraints("bulk_jobs")]
    assert not any("cancel_selected" in check for check in old_check)
    upgrade()
    checks = inspect(db.engine).get_check_constraints("bulk_jobs")
    assert [c["name"] for c in checks] == ["ck_bulk_jobs_kind"]
    assert "cancel_selected" in checks[0]["sqltext"]
    insert = text("INSERT INTO bulk_jobs (workspace_id, kind, booking_ids, total, claimed, done,"
                  " errors, budget, requested_by, created_at) VALUES (:w, :kind, '[]', 0, 0, 0,"
                  " 0, '{}', 'x', CURRENT_TIMESTAMP)")
    from dashboard.models import Workspace
    workspace = Workspace(name="W", slug="w")
    db.session.add(workspace)
    db.session.commit()
    db.session.execute(insert, {"w": workspace.id, "kind": "cancel_selected"})
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(insert, {"w": workspace.id, "kind": "everything"})
    db.session.rollback()
    downgrade(revision="0015")
    assert not any("cancel_selected" in c["sqltext"]
                   for c in inspect(db.engine).get_check_constraints("bulk_jobs"))
