"""Two admins demote or remove each other at the same moment: one of them stays admin, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import func, select

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import Membership, User, Workspace
from dashboard.services import members
from tests.conftest import PASSWORD, CSRFClient, make_user
from tests.databases import fresh_postgres_database, postgres_url


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def racing_app(request, tmp_path):
    """An app of its own on a real database (a file for SQLite): a workspace, two admins."""
    if request.param == "postgresql":
        url = fresh_postgres_database(postgres_url(), "lakesis_last_admin_race")
    else:
        url = f"sqlite:///{tmp_path / 'last_admin.db'}"
    racing = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                         "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"})
    racing.test_client_class = CSRFClient
    with racing.app_context():
        db.create_all()
        workspace = Workspace(name="Race", slug="race")
        for name in ("ann", "bob"):
            db.session.add(Membership(user=make_user(f"{name}@race.test"), workspace=workspace,
                                      role="admin"))
        db.session.commit()
    yield racing
    with racing.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _signed_in(app, email: str) -> CSRFClient:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _member_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Membership.id).join(Membership.user).where(
            User.email == email))


@pytest.mark.parametrize(("ann_does", "bob_does"), [
    ("role", "role"), ("remove", "remove"), ("role", "remove")])
def test_two_admins_cannot_leave_the_workspace_without_one(racing_app, monkeypatch, ann_does,
                                                           bob_does):
    clients = {email: _signed_in(racing_app, email) for email in ("ann@race.test",
                                                                  "bob@race.test")}
    targets = {"ann@race.test": _member_id(racing_app, "bob@race.test"),
               "bob@race.test": _member_id(racing_app, "ann@race.test")}
    # Hold both requests right after they count the admins, so that without a lock both
    # count two; with the lock the second cannot count until the first has committed.
    both_counted = threading.Barrier(2, timeout=2)
    counted = members._admin_count

    def count_then_wait(*args, **kwargs):
        n = counted(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_counted.wait()
        return n

    monkeypatch.setattr(members, "_admin_count", count_then_wait)
    statuses: dict[str, int] = {}
    errors: list[BaseException] = []
    actions = {"ann@race.test": ann_does, "bob@race.test": bob_does}

    def act(email: str) -> None:
        client = clients[email]
        token = client.csrf_token()
        try:
            path = f"/settings/members/{targets[email]}/{actions[email]}"
            data = {"role": "support"} if actions[email] == "role" else {}
            response = client.post(path, data=data, headers={"X-CSRFToken": token})
            statuses[email] = response.status_code
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=act, args=(email,)) for email in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    # The second is refused: it would leave no admin (409), or its actor is no longer an
    # admin at all (403), depending on which went first.
    first, second = sorted(statuses.values())
    assert first == 302 and second in (403, 409), statuses
    with racing_app.app_context():
        admins = db.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.role == "admin"))
    assert admins == 1
