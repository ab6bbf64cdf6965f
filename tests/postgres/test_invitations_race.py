"""Fifteen parallel adds of one new address: one invitation, and a clear answer for every
other request (never a 500), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import Invitation, Membership, User, Workspace
from tests.conftest import PASSWORD, CSRFClient, make_user
from tests.databases import fresh_postgres_database, postgres_url

THREADS = 15


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def racing_app(request, tmp_path):
    """An app of its own on a real database (a file for SQLite), with one admin."""
    if request.param == "postgresql":
        url = fresh_postgres_database(postgres_url(), "lakesis_invitations_race")
    else:
        url = f"sqlite:///{tmp_path / 'invitations.db'}"
    racing = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                         "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"})
    racing.test_client_class = CSRFClient
    with racing.app_context():
        db.create_all()
        workspace = Workspace(name="Race", slug="race")
        db.session.add(Membership(user=make_user("admin@race.test"), workspace=workspace,
                                  role="admin"))
        db.session.commit()
    yield racing
    with racing.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_parallel_adds_of_one_address_make_one_invitation(racing_app):
    admin = racing_app.test_client()
    assert admin.post("/login", data={"email": "admin@race.test",
                                      "password": PASSWORD}).status_code == 302
    token = admin.csrf_token()
    start = threading.Barrier(THREADS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def add() -> None:
        client = racing_app.test_client()  # another tab of the admin's browser
        client.set_cookie("session", admin.get_cookie("session").value)
        try:
            start.wait()
            # The old form's fields too, so the old "add a user" path would race as well.
            response = client.post("/settings/members", headers={"X-CSRFToken": token}, data={
                "email": "new@race.test", "role": "operator", "name": "New",
                "password": "a long first password"})
            statuses.append(response.status_code)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=add) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Counter(statuses) == {201: 1, 409: THREADS - 1}
    with racing_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1
        assert db.session.scalar(select(User).filter_by(email="new@race.test")) is None
