"""Every state-changing browser route refuses a request without a valid CSRF token.

The routes come from ``app.url_map`` (every POST, PATCH, PUT and DELETE outside the API,
which takes a Bearer key and no cookie, Zoom's webhooks, which are signed, and the
sandbox, which plays Zoom): a new form is covered the moment it exists. Each is sent by a
signed-in admin (who may do anything) with no token, a malformed one, one from another
session, and one signed with another secret key; each must be a 400 that writes nothing
at all.
"""

from __future__ import annotations

import re
import secrets

import pytest
from itsdangerous import URLSafeTimedSerializer

from dashboard import create_app
from tests.security.conftest import record_ids, snapshot

_MAP_APP = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "ZOOM_SANDBOX_DATABASE_URL": "sqlite://"})
# Machines' blueprints: the API (Bearer key, no cookie), Zoom's webhooks (signed), the
# sandbox (plays Zoom, never mounted in production).
NOT_BROWSER = {"api", "webhooks", "zoom_sandbox"}
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


def _state_changing_routes() -> list:
    found = []
    for rule in _MAP_APP.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in NOT_BROWSER:
            continue
        for method in sorted(rule.methods & CHANGES):
            found.append(pytest.param(rule.rule, method, id=f"{method} {rule.rule}"))
    return found


ROUTES = _state_changing_routes()


def _other_session_token(app) -> str:
    """A well-formed token, signed with the app's key, but for another session's secret."""
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(
        secrets.token_hex(20))


def _foreign_key_token(client) -> str:
    """This session's own secret, signed with a key that is not the app's."""
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    return URLSafeTimedSerializer("not-the-secret-key", salt="wtf-csrf-token").dumps(raw)


TOKENS = {
    "none": lambda app, client: None,
    "garbage": lambda app, client: "not-a-token",
    "other-session": lambda app, client: _other_session_token(app),
    "foreign-key": lambda app, client: _foreign_key_token(client),
}


def _url(app, world, rule: str) -> str:
    """``rule`` with real ids of acme's records in it, so only the token can be at fault."""
    with app.app_context():
        ids = record_ids(world.acme)
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(ids[m.group(1)]), rule)


#: A body each form would accept, so that a refusal can only be the token's doing.
FORMS = {
    "/login": {"email": "admin@acme.test", "password": "correct horse battery"},
    "/workspaces/switch": {"workspace_id": "1"},
    "/settings/members": {"email": "new@acme.test", "role": "operator",
                          "password": "a long enough password"},
    "/settings/api-keys": {"name": "csrf probe"},
    "/settings/webhooks": {"url": "https://hooks.example.test/csrf",
                           "event_types": "meeting.ready"},
    "/settings/webhooks/<int:endpoint_id>/types": {"event_types": "meeting.failed"},
    "/settings/members/<int:membership_id>/role": {"role": "support"},
    "/settings/members/<int:membership_id>/integrations": {"allowed": "y"},
    "/settings/integrations/meeting-defaults": {"default_duration_minutes": "45",
                                                "timezone": "UTC"},
}


@pytest.mark.parametrize("token", list(TOKENS))
@pytest.mark.parametrize(("rule", "method"), ROUTES)
def test_state_changes_without_a_valid_csrf_token_are_refused(app, client, auth, world, rule,
                                                              method, token):
    url = _url(app, world, rule)
    if rule != "/login":
        auth.sign_in_as(world.admin)
    value = TOKENS[token](app, client)
    headers = {} if value is None else {"X-CSRFToken": value}
    data = dict(FORMS.get(rule, {}))
    if value is not None:
        data["csrf_token"] = value
    before = snapshot(app)
    response = client.open(url, method=method, data=data, headers=headers)
    assert response.status_code == 400, response.data[:300]
    assert b"security token" in response.data
    assert snapshot(app) == before


@pytest.mark.parametrize(("rule", "method"), ROUTES)
def test_the_same_requests_with_a_valid_token_get_past_the_check(app, client, auth, world,
                                                                rule, method):
    """The rows above prove something only if a valid token is enough to get through."""
    url = _url(app, world, rule)
    if rule != "/login":
        auth.sign_in_as(world.admin)
    response = client.open(url, method=method, data=dict(FORMS.get(rule, {})),
                           headers={"X-CSRFToken": client.csrf_token()})
    assert b"security token" not in response.data
    assert response.status_code != 400 or rule == "/login", response.data[:300]


def test_sign_out_without_a_token_keeps_you_signed_in(app, client, auth, world):
    """A cross-site page must not be able to sign anyone out either."""
    auth.sign_in_as(world.admin)
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/").status_code == 200


def test_a_token_from_before_sign_in_is_not_kept(app, client, auth, world):
    """Sign-in starts a fresh session: a token planted before it is worthless after."""
    planted = client.csrf_token()
    auth.login_as(world.admin)
    before = snapshot(app)
    response = client.post("/settings/api-keys", data={"name": "planted"}, csrf=False,
                           headers={"X-CSRFToken": planted})
    assert response.status_code == 400
    assert snapshot(app) == before
