"""Races on people: two admins demoting or removing each other at once, a burst of wrong
passwords against the sign-in throttle, and parallel adds of one new address."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Invitation, LoginFailure, Membership, Role, User
from dashboard.services import members
from tests.races.conftest import (
    RACERS,
    ROUNDS,
    at_once,
    hold_after,
    make_clinic,
    make_workspace,
    signed_in,
    user_of,
)


def _membership_ids(app, workspace_id: int, user_ids) -> list[int]:
    with app.app_context():
        ids = [db.session.scalars(select(Membership.id).filter_by(
            workspace_id=workspace_id, user_id=user_id)).one() for user_id in user_ids]
        db.session.remove()
        return ids


def _roles(app, workspace_id: int) -> Counter:
    with app.app_context():
        roles = Counter(db.session.scalars(select(Membership.role).filter_by(
            workspace_id=workspace_id)))
        db.session.remove()
        return roles


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize(("ann_does", "bob_does"), [
    ("role", "role"), ("remove", "remove"), ("role", "remove")])
def test_two_admins_cannot_leave_the_workspace_without_one(race_app, monkeypatch, ann_does,
                                                           bob_does, htmx):
    clinic = make_clinic(race_app)
    ann, bob = clinic.admins
    ann_membership, bob_membership = _membership_ids(race_app, clinic.workspace_id, (ann, bob))
    # Hold both requests right after they count the admins, so that without a lock both
    # count two; with the lock the second cannot count until the first has committed.
    hold_after(monkeypatch, members, "_admin_count", parties=2)
    headers = {"HX-Request": "true"} if htmx else {}

    def act(admin: int, action: str, membership_id: int):
        browser = signed_in(race_app, admin)
        data = {"role": "support"} if action == "role" else {}
        return lambda: browser.post(f"/settings/members/{membership_id}/{action}", data=data,
                                    headers=headers).status_code

    answers = at_once([act(ann, ann_does, bob_membership), act(bob, bob_does, ann_membership)])
    roles = _roles(race_app, clinic.workspace_id)
    assert roles["admin"] == 1, (answers, roles)  # the workspace keeps its admin
    # One change won; the other was refused: it would leave no admin (409), or its actor is
    # no longer an admin at all (403), depending on which went first. Never a 500.
    done = 200 if htmx else 302
    first, second = sorted(answers, key=lambda status: status != done)
    assert first == done and second in (403, 409), answers


@pytest.mark.parametrize(("racers", "many_addresses"), [(RACERS, False), (40, True)],
                         ids=["one-address", "many-addresses"])
def test_a_burst_of_wrong_passwords_stays_within_the_throttle(race_app, monkeypatch, racers,
                                                              many_addresses):
    """The attempt is counted before the hash is checked, so only the account's limit of
    wrong passwords is ever checked in a window: from one address, and from many (where
    only the account's limit can stop them)."""
    limit = 3
    monkeypatch.setitem(race_app.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT", limit)
    clinic = make_clinic(race_app)
    email = user_of(race_app, clinic.operator).email
    for round_ in range(ROUNDS):
        with race_app.app_context():
            db.session.query(LoginFailure).delete()  # each round a fresh window
            db.session.commit()
            db.session.remove()

        def wrong_password(n: int):
            browser = race_app.test_client()
            address = f"10.0.{n}.1" if many_addresses else "127.0.0.1"
            return lambda: browser.post("/login", data={
                "email": email, "password": f"not it {n}"},
                environ_base={"REMOTE_ADDR": address}).status_code

        answers = Counter(at_once([wrong_password(n) for n in range(racers)]))
        # The rest are turned away before the password is looked at.
        assert answers == {401: limit, 429: racers - limit}, (round_, answers)
        with race_app.app_context():
            row = db.session.get(LoginFailure, f"account:{email}")
            assert row.failures >= limit
            db.session.remove()


def test_parallel_adds_of_one_address_make_one_invitation(race_app):
    """One invitation, and a clear answer for every other request (never a 500)."""
    adds = 15
    _, people = make_workspace(race_app, "invite", {"admin": Role.ADMIN})
    admin = signed_in(race_app, people["admin"])
    token = admin.csrf_token()

    def add():
        browser = race_app.test_client()  # another tab of the admin's browser
        browser.set_cookie("session", admin.get_cookie("session").value)
        # The old form's fields too, so the old "add a user" path would race as well.
        return lambda: browser.post("/settings/members", headers={"X-CSRFToken": token}, data={
            "email": "new@race.test", "role": "operator", "name": "New",
            "password": "a long first password"}).status_code

    assert Counter(at_once([add() for _ in range(adds)])) == {201: 1, 409: adds - 1}
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1
        assert db.session.scalar(select(User).filter_by(email="new@race.test")) is None
        db.session.remove()
