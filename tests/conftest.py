"""Fixtures in the style of Flask's tutorial: app, client, auth, and builders of records."""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import delete
from werkzeug.security import generate_password_hash

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import Membership, Role, User, Workspace
from tests.databases import ensure_postgres_database, postgres_url
from tests.live_server import LiveServer, free_port
from tests.sandbox_control import SandboxControl

PASSWORD = "correct horse battery"


class CSRFClient(FlaskClient):
    """A test client that sends a valid CSRF token with every state change, like htmx does.

    ``csrf=False`` sends none, to prove the server refuses such requests.
    """

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def _with_token(self, kwargs: dict, csrf: bool) -> dict:
        if csrf:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return kwargs

    def post(self, *args, csrf: bool = True, **kwargs):  # type: ignore[override]
        return super().post(*args, **self._with_token(kwargs, csrf))

    def put(self, *args, csrf: bool = True, **kwargs):  # type: ignore[override]
        return super().put(*args, **self._with_token(kwargs, csrf))

    def patch(self, *args, csrf: bool = True, **kwargs):  # type: ignore[override]
        return super().patch(*args, **self._with_token(kwargs, csrf))

    def delete(self, *args, csrf: bool = True, **kwargs):  # type: ignore[override]
        return super().delete(*args, **self._with_token(kwargs, csrf))


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith(("postgres", "postgresql")):
        return ensure_postgres_database(postgres_url())
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app in sandbox mode; its Zoom URLs point at the port ``live_server`` will use."""
    instance = tmp_path_factory.mktemp("instance")
    os.environ["LAKESIS_INSTANCE_PATH"] = str(instance)
    base = f"http://127.0.0.1:{free_port()}"
    app = create_app({
        "LAKESIS_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "APP_BASE_URL": base,
        "ZOOM_SANDBOX_URL": f"{base}/zoom-sandbox",
        "ZOOM_REDIRECT_URI": f"{base}/settings/integrations/zoom/callback",
        "ZOOM_SANDBOX_WEBHOOK_URL": f"{base}/webhooks/zoom",
        "ZOOM_SANDBOX_WEBHOOKS_SYNC": True,
        "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{Path(instance) / 'zoom_sandbox.db'}",
    })
    app.test_client_class = CSRFClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts from empty tables (only for tests that use the app)."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The same app over real HTTP, where its sandbox answers the app's own Zoom calls."""
    port = int(app.config["APP_BASE_URL"].rsplit(":", 1)[1])
    server = LiveServer(app, port)
    yield server
    server.stop()


@pytest.fixture
def sandbox(app: Flask, live_server: LiveServer) -> Iterator[SandboxControl]:
    """The sandbox's control panel, reset before and after each test."""
    control = SandboxControl(app.config["ZOOM_SANDBOX_URL"])
    control.reset()
    yield control
    control.reset()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> CSRFClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@dataclass
class World:
    """Two workspaces: ``acme`` with one member per role, ``globex`` with its own admin."""

    acme: Workspace
    globex: Workspace
    admin: User
    operator: User
    support: User
    outsider: User  # admin of globex, not a member of acme

    def member(self, user: User, workspace: Workspace | None = None) -> Membership:
        workspace = workspace or self.acme
        return db.session.scalars(db.select(Membership).filter_by(
            user_id=user.id, workspace_id=workspace.id)).one()


@functools.cache
def _password_hash() -> str:
    # Hashing is deliberately slow (scrypt): hash the shared test password once per run.
    return generate_password_hash(PASSWORD)


def make_user(email: str, name: str = "") -> User:
    user = User(email=email, name=name or email.split("@")[0], password_hash=_password_hash())
    db.session.add(user)
    return user


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        acme = Workspace(name="Acme Clinic", slug="acme")
        globex = Workspace(name="Globex Health", slug="globex")
        people = {role: make_user(f"{role.value}@acme.test") for role in Role}
        outsider = make_user("admin@globex.test")
        for role, user in people.items():
            db.session.add(Membership(user=user, workspace=acme, role=role.value))
        db.session.add(Membership(user=outsider, workspace=globex, role=Role.ADMIN.value))
        db.session.commit()
        world = World(acme, globex, people[Role.ADMIN], people[Role.OPERATOR],
                      people[Role.SUPPORT], outsider)
        for record in (acme, globex, *people.values(), outsider):
            db.session.refresh(record)
        db.session.expunge_all()
        return world


class AuthActions:
    def __init__(self, client: CSRFClient) -> None:
        self.client = client

    def login(self, email: str, password: str = PASSWORD, **kwargs):
        return self.client.post("/login", data={"email": email, "password": password},
                                **kwargs)

    def login_as(self, user: User):
        response = self.login(user.email)
        assert response.status_code == 302, response.data
        return response

    def sign_in_as(self, user: User) -> None:
        """Skip the sign-in form (and its deliberately slow hash check) for tests about
        something else."""
        from dashboard.services.user_sessions import start

        with self.client.application.app_context():
            token = start(user.id, remembered=False)  # the cookie names a server-side session
        with self.client.session_transaction() as session:
            session["_user_id"] = token
            session["_fresh"] = True

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client: CSRFClient) -> AuthActions:
    return AuthActions(client)
