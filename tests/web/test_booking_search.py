"""The bookings search is served by an index (SQLite: FTS5 trigram; PostgreSQL: pg_trgm)
and finds what the plain scan found: any part of the title, customer, email or reference,
whatever the case; the index follows every insert, change and delete."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text, update

from dashboard.extensions import db
from dashboard.models import Booking
from tests.booking_builders import add_booking


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
            for column in ("title", "customer_name", "customer_email", "external_ref"):
                assert f"ix_bookings_{column}_trgm" in plan, plan
        db.session.rollback()
