"""Every route, for every kind of visitor: signed out, each role, and another workspace's ids.

The matrix is built from ``app.url_map``, so a new route is checked the moment it exists; a
view that declares no access rule fails ``test_every_view_declares_who_may_use_it``. The
booking API's routes get their own rows: no key, a revoked key, and a key of another
workspace than the booking's.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import ApiKey, Booking, Meeting, Membership, Permission, Role, Workspace
from dashboard.orm import utcnow
from dashboard.services import api_keys
from dashboard.services.audit import Actor

# Blueprints that answer to machines with their own authentication: not in the browser
# matrix (the API has its own rows below; the sandbox and webhooks are tested on their own).
OWN_AUTH_BLUEPRINTS = {"zoom_sandbox", "api", "webhooks"}
# What each machine blueprint's views may declare.
MACHINE_ACCESS = {"api": {"api_key", "public"}, "webhooks": {"zoom_signature", "public"}}
METHODS = ("GET", "POST", "PATCH", "DELETE")


def _rules(keep=lambda rule, access: True):
    """(rule, method, endpoint) of every browser route whose rule and access ``keep`` takes."""
    for rule in _MAP_APP.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.split(".")[0] in OWN_AUTH_BLUEPRINTS:
            continue
        access = getattr(_MAP_APP.view_functions[rule.endpoint], "access", None)
        if not keep(rule, access):
            continue
        for method in sorted(set(rule.methods) & set(METHODS)):
            yield pytest.param(rule.rule, method, rule.endpoint,
                               id=f"{method} {rule.rule}")


# Only its url_map is read: nothing is stored, so both databases stay in memory.
_MAP_APP = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "ZOOM_SANDBOX_DATABASE_URL": "sqlite://"})
RULES = list(_rules())
NOT_PUBLIC = list(_rules(lambda rule, access: access != "public"))
WORKSPACE_RULES = list(_rules(lambda rule, access: isinstance(access, Permission)))
RULES_WITH_IDS = list(_rules(lambda rule, access: "<" in rule.rule))


def _blueprint_rules(blueprint: str, keep=lambda rule, access: True):
    """(rule, method, endpoint) of every route of ``blueprint`` whose rule and access
    ``keep`` takes."""
    for rule in _MAP_APP.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != blueprint:
            continue
        if not keep(rule, getattr(_MAP_APP.view_functions[rule.endpoint], "access", None)):
            continue
        for method in sorted(set(rule.methods) & set(METHODS)):
            yield pytest.param(rule.rule, method, rule.endpoint, id=f"{method} {rule.rule}")


MACHINE_RULES = [rule for blueprint in MACHINE_ACCESS for rule in _blueprint_rules(blueprint)]
API_KEY_RULES = list(_blueprint_rules("api", lambda rule, access: access == "api_key"))
API_KEY_RULES_WITH_IDS = list(_blueprint_rules(
    "api", lambda rule, access: access == "api_key" and "<" in rule.rule))


def _ids(world, workspace) -> dict[str, int]:
    """A record of each kind that lives in ``workspace``, by the URL argument naming it."""
    key = ApiKey(workspace_id=workspace.id, name="matrix", prefix=f"m{workspace.id:07d}",
                 key_hash=f"{workspace.id:064d}")
    db.session.add(key)
    db.session.flush()
    member = db.session.scalars(db.select(Membership).filter_by(
        workspace_id=workspace.id).order_by(Membership.id.desc())).first()
    booking = Booking(workspace_id=workspace.id, external_ref=f"matrix-{key.id}",
                      title="Matrix booking", start_at=utcnow() + timedelta(days=3),
                      duration_minutes=30, timezone="UTC", customer_name="Matrix",
                      customer_email="matrix@example.test", fingerprint="0" * 64)
    booking.meeting = Meeting(workspace_id=workspace.id, status="failed")
    db.session.add(booking)
    db.session.flush()
    ids = {"membership_id": member.id, "key_id": key.id, "booking_id": booking.id}
    db.session.commit()
    return ids


def _url(rule: str, ids: dict[str, int]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        if name not in ids:
            raise AssertionError(f"route matrix: add a record for URL argument {name!r}")
        return str(ids[name])

    return re.sub(r"<([^>]+)>", value, rule)


def _access(app, endpoint: str):
    return getattr(app.view_functions[endpoint], "access", None)


@pytest.mark.parametrize(("rule", "method", "endpoint"), RULES)
def test_every_view_declares_who_may_use_it(app, rule, method, endpoint):
    assert _access(app, endpoint) is not None, f"{endpoint} has no @requires/@public/@signed_in"


@pytest.mark.parametrize(("rule", "method", "endpoint"), NOT_PUBLIC)
def test_signed_out_visitors_are_sent_to_sign_in(app, client, world, rule, method, endpoint):
    with app.app_context():
        url = _url(rule, _ids(world, world.acme))
    response = client.open(url, method=method, headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("rule", "method", "endpoint"), WORKSPACE_RULES)
def test_each_role_gets_exactly_what_it_may(app, client, auth, world, rule, method, endpoint,
                                            role):
    access = _access(app, endpoint)
    user = {Role.ADMIN: world.admin, Role.OPERATOR: world.operator,
            Role.SUPPORT: world.support}[role]
    with app.app_context():
        url = _url(rule, _ids(world, world.acme))
        allowed = world.member(user).can(access)
    auth.sign_in_as(user)
    response = client.open(url, method=method, headers={"X-CSRFToken": client.csrf_token()})
    if allowed:
        assert response.status_code not in (401, 403, 500), response.data[:300]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("rule", "method", "endpoint"), RULES_WITH_IDS)
def test_another_workspaces_ids_are_not_found(app, client, auth, world, rule, method, endpoint):
    with app.app_context():
        url = _url(rule, _ids(world, world.globex))
    auth.sign_in_as(world.admin)  # may do anything in acme, nothing in globex
    response = client.open(url, method=method, headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 404


def test_a_removed_member_loses_access_at_once(app, client, auth, world):
    auth.sign_in_as(world.operator)
    assert client.get("/").status_code == 200
    with app.app_context():
        db.session.delete(world.member(world.operator))
        db.session.commit()
    response = client.get("/")
    assert response.status_code == 403
    assert b"not a member of any workspace" in response.data


# --- the booking API ---------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "method", "endpoint"), MACHINE_RULES)
def test_every_machine_view_declares_how_it_authenticates(app, rule, method, endpoint):
    blueprint = endpoint.split(".")[0]
    assert _access(app, endpoint) in MACHINE_ACCESS[blueprint], endpoint


def _api_key(app, workspace_id: int, revoked: bool = False) -> str:
    with app.app_context():
        workspace = db.session.get(Workspace, workspace_id)
        issued = api_keys.issue(workspace, Actor.system(), "matrix workflow", None)
        if revoked:
            api_keys.revoke(workspace, Actor.system(), issued.key.id)
        return issued.secret


def _api_url(app, world, rule: str, workspace) -> str:
    """``rule`` with a booking of ``workspace`` in it (the API names bookings by public id)."""
    with app.app_context():
        booking = db.session.get(Booking, _ids(world, workspace)["booking_id"])
        return _url(rule, {"booking_id": booking.public_id})


def _api_call(app, url: str, method: str, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    # A body that would be accepted, so only the key or the booking can be at fault.
    body = {"duration_minutes": 45} if method in ("POST", "PATCH") else None
    return app.test_client(use_cookies=False).open(url, method=method, headers=headers,
                                                   json=body)


@pytest.mark.parametrize(("rule", "method", "endpoint"), API_KEY_RULES)
def test_api_calls_without_a_key_get_401(app, world, rule, method, endpoint):
    response = _api_call(app, _api_url(app, world, rule, world.acme), method, None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("rule", "method", "endpoint"), API_KEY_RULES)
def test_api_calls_with_a_revoked_key_get_401(app, world, rule, method, endpoint):
    key = _api_key(app, world.acme.id, revoked=True)
    response = _api_call(app, _api_url(app, world, rule, world.acme), method, key)
    assert response.status_code == 401


@pytest.mark.parametrize(("rule", "method", "endpoint"), API_KEY_RULES_WITH_IDS)
def test_api_calls_for_another_workspaces_booking_are_not_found(app, world, rule, method,
                                                                endpoint):
    key = _api_key(app, world.acme.id)
    url = _api_url(app, world, rule, world.globex)
    response = _api_call(app, url, method, key)
    assert response.status_code == 404
    assert response.get_json()["error"]
    # and the same key reaches its own workspace's booking by the same route
    own = _api_call(app, _api_url(app, world, rule, world.acme), method, key)
    assert own.status_code not in (401, 403, 404, 500), own.data[:300]
