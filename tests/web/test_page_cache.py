"""The bookings table kept per process: shown again only while nothing it shows changed,
with each request's own CSRF token and time, and every check still made per request."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from dashboard.extensions import db
from dashboard.models import Meeting, Membership, Role
from tests.booking_builders import add_booking
from tests.sql_statements import statements_sent

HX = {"HX-Request": "true"}
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
AT = re.compile(r'data-at="([^"]+)"')


@pytest.fixture
def booked(app, world) -> dict[str, int]:
    with app.app_context():
        return {"acme": add_booking(world.acme.id, "ref-acme", title="Visit of Bea",
                                    operation="queued", status="pending"),
                "globex": add_booking(world.globex.id, "ref-globex", title="Globex visit")}


def page(client, path: str = "/bookings", **kwargs) -> tuple[str, int]:
    with client.application.app_context():
        engine = db.engine
    with statements_sent(engine) as seen:
        response = client.get(path, **kwargs)
    assert response.status_code == 200
    return response.data.decode(), len(seen)


def set_status(app, booking_id: int, status: str) -> None:
    with app.app_context():
        db.session.execute(update(Meeting).where(Meeting.booking_id == booking_id)
                           .values(status=status))
        db.session.commit()


def test_the_second_look_is_kept_and_the_same_but_for_token_and_time(client, auth, world,
                                                                      booked):
    auth.sign_in_as(world.operator)
    first, made = page(client)
    second, kept = page(client)
    assert "Visit of Bea" in second
    assert kept < made and kept <= 2  # the session; the memberships with the version
    assert AT.search(second)[1] > AT.search(first)[1]
    assert CSRF.sub("", AT.sub("", first)) == CSRF.sub("", AT.sub("", second))


def test_a_change_in_the_workspace_is_shown_at_once(app, client, auth, world, booked):
    auth.sign_in_as(world.operator)
    cell = f'id="status-{booked["acme"]}">'
    assert cell + "Not in Zoom yet" in page(client)[0]
    set_status(app, booked["acme"], "cancelled")
    shown = page(client)[0]
    assert cell + "Not in Zoom yet" not in shown and cell in shown


def test_a_change_in_another_workspace_keeps_the_page(app, client, auth, world, booked):
    auth.sign_in_as(world.operator)
    page(client)
    set_status(app, booked["globex"], "failed")
    _, count = page(client)
    assert count <= 2


def test_the_kept_page_carries_this_sessions_token(app, world, booked, auth):
    one, two = app.test_client(), app.test_client()
    type(auth)(one).sign_in_as(world.operator)
    type(auth)(two).sign_in_as(world.operator)
    page(one)
    shown, count = page(two)
    assert count <= 2
    token = CSRF.search(shown)[1]
    answer = two.post(f"/bookings/{booked['acme']}/resync", csrf=False,
                      headers={"X-CSRFToken": token})
    assert answer.status_code != 400, answer.data[:300]
    refused = one.post(f"/bookings/{booked['acme']}/resync", csrf=False,
                       headers={"X-CSRFToken": token})
    assert refused.status_code == 400


def test_each_role_and_each_kind_of_answer_has_its_own_copy(client, auth, world, booked):
    auth.sign_in_as(world.operator)
    operated, _ = page(client)
    partial, _ = page(client, headers=HX)
    assert "<html" in operated and "<html" not in partial
    assert "<html" in page(client)[0] and "<html" not in page(client, headers=HX)[0]
    auth.sign_in_as(world.support)
    watched, _ = page(client)
    assert 'id=select-page' in operated and 'id=select-page' not in watched


def test_a_role_changed_is_a_new_page_and_a_member_removed_is_refused(app, client, auth,
                                                                      world, booked):
    auth.sign_in_as(world.operator)
    assert 'id=select-page' in page(client)[0]
    with app.app_context():
        db.session.execute(update(Membership).where(Membership.user_id == world.operator.id)
                           .values(role=Role.SUPPORT.value))
        db.session.commit()
    assert 'id=select-page' not in page(client)[0]
    with app.app_context():
        db.session.execute(db.delete(Membership).where(
            Membership.user_id == world.operator.id))
        db.session.commit()
    assert client.get("/bookings").status_code == 403


def test_a_message_is_shown_once_and_never_kept(client, auth, world, booked):
    auth.sign_in_as(world.operator)
    page(client)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Re-sync queued for Visit of Bea.")]
    assert "Re-sync queued for Visit of Bea." in page(client)[0]
    assert "Re-sync queued for Visit of Bea." not in page(client)[0]


def test_pages_on_the_clock_and_with_the_cache_off_are_made_each_time(app, client, auth,
                                                                       world, booked):
    auth.sign_in_as(world.operator)
    path = "/bookings?sync=failed&window=1h"
    page(client, path)
    assert page(client, path)[1] > 4
    app.config["PAGE_CACHE"] = False
    try:
        page(client)
        assert page(client)[1] > 4
    finally:
        app.config["PAGE_CACHE"] = True
