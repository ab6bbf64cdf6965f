"""Settings > API keys: shown once, stored hashed, revocable."""

import re

from dashboard.extensions import db
from dashboard.models import ApiKey
from dashboard.services import api_keys


def test_created_key_is_shown_once_and_stored_only_as_a_hash(app, client, auth, world):
    auth.sign_in_as(world.admin)
    made = client.post("/settings/api-keys", data={"name": "Booking workflow"})
    # POST-redirect-GET: the page after the redirect shows the key; a reload makes no second
    # key and no longer shows the first.
    assert made.status_code == 303
    assert made.headers["Location"] == "/settings/api-keys#new-key"
    assert b"lks_" not in made.data
    response = client.get("/settings/api-keys")
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(rb'id="new-api-key">([^<]+)<', response.data).group(1).decode()
    assert secret.startswith("lks_")
    assert f'data-copy="{secret}"'.encode() in response.data
    assert secret not in (client.get_cookie("session").value or "")
    listing = client.get("/settings/api-keys").data.decode()
    assert secret not in listing
    assert "Booking workflow" in listing and secret[4:12] in listing
    with app.app_context():
        key = db.session.scalars(db.select(ApiKey)).one()  # the reloads made none
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
    assert b'class="is-revoked"' in response.data and b">Revoke</button>" not in response.data
    with app.app_context():
        assert db.session.get(ApiKey, key_id).revoked_at is not None


def test_revoke_without_javascript_asks_first_on_a_page_that_names_the_key(app, client, auth,
                                                                           world):
    auth.sign_in_as(world.admin)
    client.post("/settings/api-keys", data={"name": "old workflow"})
    with app.app_context():
        key_id = db.session.scalars(db.select(ApiKey.id)).one()
    listing = client.get("/settings/api-keys").data.decode()
    # The control: a GET to the confirmation page for plain browsers, the dialog's words
    # for confirm.js, and the POST for htmx.
    assert f'action="/settings/api-keys/{key_id}/revoke"' in listing
    assert f'hx-post="/settings/api-keys/{key_id}/revoke"' in listing
    assert 'data-confirm="Revoke the key" data-confirm-keep="Keep the key"' in listing
    page = client.get(f"/settings/api-keys/{key_id}/revoke")
    assert page.status_code == 200
    text = page.data.decode()
    assert "Revoke the key old workflow?" in text and ">Keep the key</a>" in text
    assert f'<form method="post" action="/settings/api-keys/{key_id}/revoke">' in text
    with app.app_context():
        assert db.session.get(ApiKey, key_id).revoked_at is None  # asking changed nothing
    done = client.post(f"/settings/api-keys/{key_id}/revoke", data={"confirmed": "yes"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(ApiKey, key_id).revoked_at is not None
    # Asking again about a revoked key goes back to the list.
    assert client.get(f"/settings/api-keys/{key_id}/revoke").status_code == 302


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
