"""Twenty threads want a token just as it expires: exactly one refresh reaches Zoom."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from dashboard import create_app, token_cipher
from dashboard.extensions import db
from dashboard.extensions import zoom as zoom_extension
from dashboard.models import Workspace, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services.zoom_tokens import TokenProvider
from tests.databases import fresh_postgres_database, postgres_url
from tests.sandbox_control import ADA, query

THREADS = 20


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def racing_app(request, app, tmp_path):
    """A second app on its own database, calling the session's live sandbox."""
    if request.param == "postgresql":
        url = fresh_postgres_database(postgres_url(), "lakesis_race_test")
    else:
        url = f"sqlite:///{tmp_path / 'race.db'}"
    overrides = {key: app.config[key] for key in (
        "ZOOM_SANDBOX_URL", "ZOOM_REDIRECT_URI", "APP_BASE_URL")}
    racing = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                         "ZOOM_MODE": "live", **overrides})
    # live mode: nothing mounted; point the client at the sandbox the session serves
    from dashboard.zoom.client import ZoomClient, ZoomEndpoints

    client = ZoomClient(ZoomEndpoints.for_sandbox(app.config["ZOOM_SANDBOX_URL"]),
                        app.config["ZOOM_CLIENT_ID"], app.config["ZOOM_CLIENT_SECRET"])
    zoom_extension.init_app(racing, client=client)
    with racing.app_context():
        db.create_all()
    yield racing
    with racing.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _grant(app, sandbox):
    """Tokens for ADA, obtained through the sandbox's consent page like a real connect."""
    client = zoom_extension.client_of(app)
    request = client.authorization_request(app.config["ZOOM_REDIRECT_URI"])
    code = query(sandbox.consent(request.url, "allow", ADA))["code"]
    return client.exchange_code(code, app.config["ZOOM_REDIRECT_URI"], request.code_verifier)


def test_refresh_rotates_once_under_race(racing_app, sandbox):
    tokens = _grant(racing_app, sandbox)
    with racing_app.app_context():
        workspace = Workspace(name="Race", slug="race")
        db.session.add(workspace)
        db.session.flush()
        db.session.add(ZoomConnection(
            workspace_id=workspace.id, status="connected", zoom_user_id=ADA,
            access_token_enc=token_cipher.encrypt(tokens.access_token),
            refresh_token_enc=token_cipher.encrypt(tokens.refresh_token),
            access_expires_at=utcnow() + timedelta(minutes=2)))  # inside the 5-minute margin
        db.session.commit()
        workspace_id = workspace.id
    before = sandbox.state()
    start = threading.Barrier(THREADS)
    results: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        with racing_app.app_context():
            try:
                start.wait()
                provider = TokenProvider(zoom_extension.client_of(racing_app))
                me = provider.call(workspace_id, zoom_extension.client_of(racing_app).get_me)
                results.append(me["id"])
            except BaseException as error:  # collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert results == [ADA] * THREADS
    after = sandbox.state()
    assert after["refreshes_served"] - before["refreshes_served"] == 1
    assert after["successful_refreshes"] - before["successful_refreshes"] == 1
    with racing_app.app_context():
        row = db.session.scalars(db.select(ZoomConnection)).one()
        assert row.status == "connected"
        assert row.access_expires_at > utcnow() + timedelta(minutes=50)
