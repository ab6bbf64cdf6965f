"""Settings > API keys: shown once, stored hashed, revocable."""

import re

from dashboard.extensions import db
from dashboard.models import ApiKey
from dashboard.services import api_keys


def test_created_key_is_shown_once_and_stored_only_as_a_hash(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/api-keys", data={"name": "Booking workflow"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(rb'id="new-api-key">([^<]+)<', response.data).group(1).decode()
    assert secret.startswith("lks_")
    listing = client.get("/settings/api-keys").data.decode()
    assert secret not in listing
    assert "Booking workflow" in listing and secret[4:12] in listing
    with app.app_context():
        key = db.session.scalars(db.select(ApiKey)).one()
        assert secret not in (key.key_hash, key.prefix)
        assert api_keys.authenticate(secret).id == key.id
        assert key.last_used_at is not None


def test_revoked_key_no_longer_authenticates(app, client, auth, world):
    auth.sign_in_as(world.admin)
    client.post("/settings/api-keys", data={"name": "old"})
    with app.app_context():
        key_id = db.session.scalars(db.select(ApiKey.id)).one()
    response = client.post(f"/settings/api-keys/{key_id}/revoke", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"Revoked" in response.data and b"revoked: calls with it now get 401" in response.data
    with app.app_context():
        assert db.session.get(ApiKey, key_id).revoked_at is not None


def test_unknown_or_malformed_secrets_do_not_authenticate(app_context, world):
    assert api_keys.authenticate("") is None
    assert api_keys.authenticate("lks_nothing") is None
    assert api_keys.authenticate("Bearer x") is None


def test_a_key_needs_a_name(client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/api-keys", data={"name": "  "})
    assert response.status_code == 422
    assert b"Give the key a name" in response.data
    response = client.post("/settings/api-keys", data={"name": "x" * 81})
    assert response.status_code == 422
