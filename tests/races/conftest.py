"""The race suite: the same requests at the same moment, on a SQLite file database and on
PostgreSQL.

Each test gets ``race_app``, an app on a fresh database of its own (one per database
engine), whose Zoom is the session's live sandbox; ``at_once`` fires requests from threads
released together by a barrier, each with its own client, and returns what each got.
A race is run for several rounds: one round that happens to serialise proves nothing, a
round that breaks an invariant proves a defect.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from dashboard import create_app
from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Membership, Role, User, Workspace, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from dashboard.services.zoom_tokens import store_tokens
from tests.conftest import AuthActions, CSRFClient, make_user
from tests.databases import fresh_postgres_database, postgres_url
from tests.sandbox_control import ADA, SandboxControl, query

T = TypeVar("T")
ROUNDS = 4
RACERS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_app(request: pytest.FixtureRequest, app: Flask, tmp_path) -> Iterator[Flask]:
    """An app on its own database (SQLite file or PostgreSQL) calling the session's sandbox."""
    if request.param == "postgresql":
        url = fresh_postgres_database(postgres_url(), f"races_{os.getpid()}")
    else:
        url = f"sqlite:///{tmp_path / 'races.db'}"
    racing = create_app({
        "LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "ZOOM_MODE": "sandbox",
        "SECRET_KEY": "race-suite", "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'z.db'}",
        **{key: app.config[key] for key in ("ZOOM_SANDBOX_URL", "ZOOM_REDIRECT_URI",
                                            "APP_BASE_URL")}})
    racing.test_client_class = CSRFClient
    with racing.app_context():
        db.create_all()
    yield racing
    # No drop_all: the whole database goes (PostgreSQL's below, SQLite's with tmp_path).
    with racing.app_context():
        db.session.remove()
        db.engine.dispose()
    if request.param == "postgresql":
        from sqlalchemy import create_engine, text

        admin = create_engine(make_url(url).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(
                f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Clinic:
    """A workspace with two admins, an operator and an API key."""

    workspace_id: int
    admins: tuple[int, int]  # user ids
    operator: int
    api_key: str


def make_workspace(app: Flask, slug: str,
                   members: Mapping[str, Role]) -> tuple[int, dict[str, int]]:
    """A workspace with ``members`` (name to role; emails ``name@slug.test``, the shared test
    password): its id and the members' user ids by name."""
    with app.app_context():
        workspace = Workspace(name=f"Clinic {slug}", slug=slug)
        users = {name: make_user(f"{name}@{slug}.test") for name in members}
        for name, role in members.items():
            db.session.add(Membership(user=users[name], workspace=workspace, role=role.value))
        db.session.commit()
        made = workspace.id, {name: user.id for name, user in users.items()}
        db.session.remove()
        return made


def make_clinic(app: Flask, slug: str = "clinic") -> Clinic:
    workspace_id, people = make_workspace(
        app, slug, {"ann": Role.ADMIN, "bob": Role.ADMIN, "olga": Role.OPERATOR})
    with app.app_context():
        workspace = db.session.get(Workspace, workspace_id)
        key = api_keys.issue(workspace, Actor.system(), "booking workflow", None).secret
        db.session.remove()
    return Clinic(workspace_id, (people["ann"], people["bob"]), people["olga"], key)


def connect_zoom(app: Flask, sandbox: SandboxControl, workspace_id: int) -> None:
    """The workspace connected to Dr Ada's Zoom (a real consent at the sandbox)."""
    client = zoom_extension.client_of(app)
    request = client.authorization_request(app.config["ZOOM_REDIRECT_URI"])
    code = query(sandbox.consent(request.url, "allow", ADA))["code"]
    tokens = client.exchange_code(code, app.config["ZOOM_REDIRECT_URI"], request.code_verifier)
    with app.app_context():
        connection = ZoomConnection(workspace_id=workspace_id, status="connected",
                                    zoom_user_id=ADA, zoom_email="dr.ada@clinic.zoom.test",
                                    connected_at=utcnow())
        store_tokens(connection, tokens, utcnow())
        db.session.add(connection)
        db.session.commit()


def signed_in(app: Flask, user_id: int) -> CSRFClient:
    """A browser of ``user_id``, signed in (the sign-in form is not what these races test)."""
    client = app.test_client()
    AuthActions(client).sign_in_as(user_of(app, user_id))  # type: ignore[arg-type]
    return client  # type: ignore[return-value]


def api_client(app: Flask) -> FlaskClient:
    """A cookie-less client, as the booking workflow calls the API."""
    return FlaskClient(app, app.response_class, use_cookies=False)


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run every call in its own thread, all released at the same moment; their results in
    order. An exception in any of them fails the test (with the first one raised)."""
    start = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            start.wait(10)
            results[index] = call()
        except BaseException as error:  # collected; raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


def hold_after(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, parties: int,
               within: float = 2.0) -> None:
    """Force the interleaving a missing lock allows: ``owner.name``, once it has returned,
    waits until ``parties`` callers have all got that far (or ``within`` seconds pass).
    Unlocked, they all act on what they read before any of them wrote; locked, the first
    waits out ``within`` holding the lock and the others follow it one by one."""
    together = threading.Barrier(parties, timeout=within)
    original = getattr(owner, name)

    def held(*args, **kwargs):
        result = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait()
        return result

    monkeypatch.setattr(owner, name, held)


def user_of(app: Flask, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge_all()
        return user
