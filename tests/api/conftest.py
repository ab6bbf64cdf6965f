"""Fixtures for the booking API: keys for two workspaces and clients calling with them.

Each key is its own fixture so a test pays only for the keys it uses (a commit each).
"""

from __future__ import annotations

import pytest
from flask import Flask

from dashboard.extensions import db
from dashboard.models import Workspace
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from tests.api.api_client import ApiClient


def _issue(app: Flask, workspace_id: int, name: str, revoked: bool = False) -> str:
    with app.app_context():
        workspace = db.session.get(Workspace, workspace_id)
        issued = api_keys.issue(workspace, Actor.system(), name, None)
        if revoked:
            api_keys.revoke(workspace, Actor.system(), issued.key.id)
        db.session.remove()
        return issued.secret


@pytest.fixture
def acme_key(app: Flask, world) -> str:
    return _issue(app, world.acme.id, "booking workflow")


@pytest.fixture
def globex_key(app: Flask, world) -> str:
    return _issue(app, world.globex.id, "globex workflow")


@pytest.fixture
def revoked_key(app: Flask, world) -> str:
    """A key of acme's that was revoked."""
    return _issue(app, world.acme.id, "old workflow", revoked=True)


@pytest.fixture
def api(app: Flask, acme_key: str) -> ApiClient:
    """The acme workspace's booking workflow."""
    return ApiClient(app, acme_key)


@pytest.fixture
def globex_api(app: Flask, globex_key: str) -> ApiClient:
    """Another workspace's workflow, which must never see acme's bookings."""
    return ApiClient(app, globex_key)
