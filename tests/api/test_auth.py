"""Who may call the API: a workspace's active key, and nothing else."""

from __future__ import annotations

import pytest

from dashboard.extensions import db
from dashboard.models import ApiKey
from tests.api.records import booking_body, counts


def _assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token lks_x", "bearer",
    "Bearer lks_unknown_key", "Bearer lks_a lks_b", "Bearer " + "x" * 500,
], ids=["missing", "empty", "no-secret", "blank-secret", "basic", "other-scheme", "bare",
        "unknown", "two-secrets", "oversize"])
def test_missing_malformed_or_unknown_keys_get_401(app, api, header):
    headers = {} if header is None else {"Authorization": header}
    _assert_unauthorized(api.get("bookings", key=None, headers=headers))


def test_revoked_key_gets_401_and_writes_nothing(app, api, revoked_key):
    before = counts(app)
    _assert_unauthorized(api.post("bookings", booking_body(), key=revoked_key))
    _assert_unauthorized(api.get("bookings", key=revoked_key))
    assert counts(app) == before


def test_auth_comes_before_body_checks(app, api):
    response = api.post("bookings", key=None, data="x", content_type="text/plain")
    _assert_unauthorized(response)


def test_a_signed_in_browser_session_is_not_an_api_key(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.get("/api/v1/bookings")
    assert response.status_code == 401


def test_scheme_is_case_insensitive_and_no_csrf_token_is_needed(app, api, acme_key):
    response = api.post("bookings", booking_body(), key=None,
                        headers={"Authorization": f"bearer {acme_key}"})
    assert response.status_code == 201


def test_a_call_notes_when_the_key_was_last_used(app, api):
    assert api.get("bookings").status_code == 200
    with app.app_context():
        key = db.session.scalars(db.select(ApiKey).filter_by(name="booking workflow")).one()
        assert key.last_used_at is not None


def test_the_key_decides_the_workspace(app, api, globex_api):
    api.post("bookings", booking_body("shared-ref"))
    # The same reference in another workspace is another booking, not a conflict.
    assert globex_api.post("bookings", booking_body("shared-ref", title="Other")
                           ).status_code == 201
    assert [b["title"] for b in globex_api.get("bookings").get_json()["data"]] == ["Other"]
    assert [b["title"] for b in api.get("bookings").get_json()["data"]] == [
        "Consultation with Ana"]


def test_unknown_addresses_and_methods_answer_json(app, api):
    assert api.get("nothing-here").status_code == 404
    assert api.request("DELETE", "bookings/abc").status_code == 405
    assert api.request("PUT", "bookings").status_code == 405

