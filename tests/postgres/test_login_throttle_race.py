"""Forty wrong passwords at once for one account: only the throttle's limit of them is ever
checked, on SQLite and PostgreSQL alike (the attempt is counted before the hash is)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import LoginFailure, Membership, Workspace
from tests.conftest import CSRFClient, make_user
from tests.databases import fresh_postgres_database, postgres_url

THREADS = 40


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def racing_app(request, tmp_path):
    """An app of its own on a real database (a file for SQLite), with one member."""
    if request.param == "postgresql":
        url = fresh_postgres_database(postgres_url(), "lakesis_throttle_race")
    else:
        url = f"sqlite:///{tmp_path / 'throttle.db'}"
    racing = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                         "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"})
    racing.test_client_class = CSRFClient
    with racing.app_context():
        db.create_all()
        workspace = Workspace(name="Race", slug="race")
        db.session.add(Membership(user=make_user("target@race.test"), workspace=workspace,
                                  role="admin"))
        db.session.commit()
    yield racing
    with racing.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_parallel_wrong_passwords_get_only_the_limit_of_checks(racing_app):
    limit = racing_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    start = threading.Barrier(THREADS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def guess(n: int) -> None:
        client = racing_app.test_client()
        token = client.csrf_token()
        try:
            start.wait()
            response = client.post("/login", headers={"X-CSRFToken": token}, data={
                "email": "target@race.test", "password": f"wrong guess {n}"},
                environ_base={"REMOTE_ADDR": f"10.0.{n}.1"})  # many addresses, one account
            statuses.append(response.status_code)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert Counter(statuses) == {401: limit, 429: THREADS - limit}
    with racing_app.app_context():
        row = db.session.get(LoginFailure, "account:target@race.test")
        assert row.failures >= limit
