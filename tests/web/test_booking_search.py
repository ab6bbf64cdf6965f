"""The bookings search is served by an index (SQLite: FTS5 trigram; PostgreSQL: pg_trgm)
and finds what the plain scan found: any part of the title, customer, email or reference,
whatever the case; the index follows every insert, change and delete."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text, update

from dashboard.extensions import db
from dashboard.models import Booking, Meeting
from dashboard.orm import utcnow
from dashboard.services.bookings import BookingFilters, list_bookings
from tests.booking_builders import add_booking
from tests.sql_statements import statements_sent


def _found(client, term: str) -> list[str]:
    response = client.get("/bookings", query_string={"q": term, "since": ""})
    assert response.status_code == 200, response.data[:300]
    titles = r"<a href=\"?/bookings/\d+\"?(?: id=t\d+)?>([^<]+)</a>"
    return sorted(re.findall(titles, response.data.decode()))


@pytest.fixture
def searchable(app, world):
    with app.app_context():
        ids = {
            "carla": add_booking(world.acme.id, "REF-ALPHA-1", title="First visit",
                                 customer="Carla Carvalho"),
            "joao": add_booking(world.acme.id, "ref-beta-2", title="Consulta com João",
                                customer="João Sousa"),
            "quote": add_booking(world.acme.id, 'ref-"quoted"', title='Review "100%" plan',
                                 customer="Dina Reis"),
            "other": add_booking(world.globex.id, "REF-ALPHA-9", title="Globex visit",
                                 customer="Carla Carvalho"),
        }
    return ids


def test_any_part_of_any_searched_column_in_any_case(client, auth, world, searchable):
    auth.sign_in_as(world.operator)
    assert _found(client, "CARVAL") == ["First visit"]  # customer name; Globex's is not ours
    assert _found(client, "alpha-1") == ["First visit"]  # reference
    assert _found(client, "carla@example") == ["First visit"]  # email
    assert _found(client, "consulta") == ["Consulta com João"]  # title
    assert _found(client, "JOÃO") == ["Consulta com João"]  # beyond ASCII too
    assert _found(client, "nobody") == []


def test_search_syntax_and_short_terms_are_taken_literally(client, auth, world, searchable):
    auth.sign_in_as(world.operator)
    assert _found(client, '"quoted"') == ['Review &#34;100%&#34; plan']
    assert _found(client, "100%") == ['Review &#34;100%&#34; plan']
    assert _found(client, "Jo") == ["Consulta com João"]  # two letters: the scan finds it
    assert _found(client, "OR NOT *") == []  # FTS operators are only text here


def test_the_index_follows_changes_and_deletes(app, client, auth, world, searchable):
    with app.app_context():
        db.session.execute(update(Booking).where(Booking.id == searchable["carla"])
                           .values(title="Renamed session", customer_name="Zelda Zimmer"))
        db.session.execute(db.delete(Booking).where(Booking.id == searchable["joao"]))
        db.session.commit()
    auth.sign_in_as(world.operator)
    assert _found(client, "carval") == []
    assert _found(client, "zimmer") == ["Renamed session"]
    assert _found(client, "consulta") == []
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # FTS5 compares its index with the bookings table and raises on any difference.
            db.session.execute(text(
                "INSERT INTO booking_search(booking_search) VALUES ('integrity-check')"))


def test_the_search_reads_the_index(app, searchable):
    from dashboard.services.bookings import _matching

    with app.app_context():
        query = select(Booking.id).where(_matching("carval"))
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(row) for row in db.session.execute(
                text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "VIRTUAL TABLE INDEX" in plan and "booking_search" in plan, plan
        else:
            # A handful of rows: told not to scan, the planner shows what can serve ILIKE.
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in db.session.execute(text(f"EXPLAIN {sql}")))
            assert "ix_bookings_search_trgm" in plan, plan
        db.session.rollback()


def _last_statement_plan(run) -> tuple[object, str]:
    """What ``run()`` returns, and PostgreSQL's plan of the last statement it sent."""
    with statements_sent(db.engine) as sent:
        result = run()
    statement, parameters = sent[-1]
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return result, " ".join(plan.scalars())


def test_postgresql_reads_a_rare_term_through_the_index_and_walks_time_for_a_common_one(
        app, world):
    """The planner needs the search text's statistics to tell them apart (migration 0018):
    with one index per column it walked the start-time index for a rare name too, reading
    most of the workspace's bookings to fill a page."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL planner choice; SQLite's FTS table is read above")
        start, rows = utcnow() + timedelta(days=1), 20_000
        names = [f"Ana Silva{n}" if n % 5_000 else "Ana Quintanilha" for n in range(rows)]
        created = db.session.scalars(insert(Booking).returning(Booking.id), [{
            "workspace_id": world.acme.id, "external_ref": f"plan-{n}", "title": "Visit",
            "start_at": start + timedelta(minutes=15 * n), "duration_minutes": 30,
            "timezone": "UTC", "customer_name": name, "customer_email": "a@example.test",
            "state": "active", "fingerprint": "0" * 64} for n, name in enumerate(names)]).all()
        db.session.execute(insert(Meeting), [{"booking_id": booking_id,
                                              "workspace_id": world.acme.id,
                                              "status": "pending"} for booking_id in created])
        db.session.commit()
        db.session.execute(text("ANALYZE bookings"))
        # 20,000 rows are read faster whole than through any index; what is tested is the
        # choice a million forces: the search's index or the walk in start order.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))

        def page_of(term: str):
            return lambda: list_bookings(world.acme, BookingFilters(search=term), None, 50)

        rare_page, rare = _last_statement_plan(page_of("quintan"))
        common_page, common = _last_statement_plan(page_of("silva"))
        assert len(rare_page.bookings) == 4 and "ix_bookings_search_trgm" in rare, rare
        assert len(common_page.bookings) == 50 and "ix_bookings_workspace_start" in common, common
        db.session.rollback()
