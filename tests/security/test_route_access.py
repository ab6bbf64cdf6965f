"""Every route, for every kind of visitor: signed out, each role, and another workspace's ids.

The matrix is built from ``app.url_map``, so a new route is checked the moment it exists; a
view that declares no access rule fails ``test_every_view_declares_who_may_use_it``. The
booking API's routes get their own rows: no key, a revoked key, and a key of another
workspace than the booking's; Zoom's webhooks get theirs: an event naming another
workspace's meeting changes nothing there. Ids no database can hold and query strings
meant to break a query get a 4xx on every route, never a 500.
"""

from __future__ import annotations

import re

import pytest

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import (
    Booking,
    Permission,
    Role,
    WebhookEvent,
    Workspace,
)
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from tests.booking_builders import add_booking, apply_webhooks, meeting_of
from tests.security.conftest import record_ids
from tests.zoom_builders import compact, meeting_event, signed_headers, store_connection

# Blueprints that answer to machines with their own authentication: not in the browser
# matrix (the API has its own rows below; the sandbox and webhooks are tested on their own).
OWN_AUTH_BLUEPRINTS = {"zoom_sandbox", "api", "webhooks"}
# What each machine blueprint's views may declare.
# (Zoom's webhook route is WSGI middleware in front of the app, ``webhooks/receiver.py``,
# verified there; the webhooks blueprint keeps no views, only the JSON 404 of its prefix.)
MACHINE_ACCESS = {"api": {"api_key", "public"}, "webhooks": {"public"}}
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
        url = _url(rule, record_ids(world.acme))
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
        url = _url(rule, record_ids(world.acme))
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
        url = _url(rule, record_ids(world.globex))
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
        booking = db.session.get(Booking, record_ids(workspace)["booking_id"])
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


# --- Zoom's webhooks: an event is only ever about the sender's own workspace ----------------

ACME_ACCOUNT, GLOBEX_ACCOUNT = "acct_Acme", "acct_Globex"


@pytest.fixture
def two_connected(app, world) -> dict[str, int]:
    """acme and globex, each connected to its own Zoom account with one scheduled meeting;
    returns their booking ids."""
    with app.app_context():
        store_connection(world.acme.id, zoom_user_id="zu_Acme", zoom_account_id=ACME_ACCOUNT)
        store_connection(world.globex.id, zoom_user_id="zu_Globex",
                         zoom_account_id=GLOBEX_ACCOUNT)
        return {"acme": add_booking(world.acme.id, "acme-1", zoom_id=81000000001),
                "globex": add_booking(world.globex.id, "globex-1", zoom_id=81000000002)}


def _deliver(app, body: dict) -> int:
    raw = compact(body)
    headers = signed_headers(app.config["ZOOM_WEBHOOK_SECRET_TOKEN"], raw)
    response = app.test_client().post("/webhooks/zoom", data=raw, headers=headers,
                                      content_type="application/json", csrf=False)
    response.close()
    apply_webhooks(app)  # the worker's next loop
    return response.status_code


@pytest.mark.parametrize("event", ["meeting.deleted", "meeting.started", "meeting.ended",
                                   "meeting.updated"])
def test_webhooks_naming_another_workspaces_meeting_change_nothing_there(
        app, two_connected, event):
    before = meeting_of(app, two_connected["globex"])
    # acme's Zoom account speaking of globex's meeting id
    body = meeting_event(event, meeting_id=81000000002, account_id=ACME_ACCOUNT,
                         duration=90, start_time="2027-01-05T10:00:00Z")
    assert _deliver(app, body) == 200
    after = meeting_of(app, two_connected["globex"])
    assert (after.status, after.join_url, after.zoom_meeting_id) == (
        before.status, before.join_url, before.zoom_meeting_id)
    with app.app_context():
        row = db.session.scalars(db.select(WebhookEvent)).one()
        assert row.workspace_id is None and row.outcome.startswith("ignored"), row.outcome


def test_webhooks_from_the_meetings_own_account_do_apply(app, two_connected):
    """The other side of the row above: the same event from globex's account applies."""
    body = meeting_event("meeting.started", meeting_id=81000000002, account_id=GLOBEX_ACCOUNT)
    assert _deliver(app, body) == 200
    assert meeting_of(app, two_connected["globex"]).status == "started"


# --- ids and query strings meant to break a query ------------------------------------------

#: Past a 64-bit integer (PostgreSQL's bigint), a 32-bit one, and zero-padded.
HUGE_IDS = ["99999999999999999999", "9223372036854775808", "2147483648", "000000000001"]
INT_RULES = [rule for rule in RULES if "<int:" in rule.values[0]]


@pytest.mark.parametrize("number", HUGE_IDS)
@pytest.mark.parametrize(("rule", "method", "endpoint"), INT_RULES)
def test_ids_no_record_can_have_are_not_found(app, client, auth, world, rule, method, endpoint,
                                              number):
    url = re.sub(r"<int:[^>]+>", number, rule)
    auth.sign_in_as(world.admin)
    response = client.open(url, method=method, headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 404, response.data[:300]


#: Query strings that a careless view turns into a 500: NUL (PostgreSQL refuses it in
#: text), dates at the ends of the calendar, an edited cursor, numbers out of range.
PAGE_QUERIES = [
    "q=Ana%00Silva", "q=%25%5F%5C" + "x" * 5000, "until=9999-12-31", "since=9999-12-31",
    "since=0001-01-01&until=0001-01-01", "cursor=%00" + "A" * 500, "status=%00&action=%00",
    "actor=%00&before=99999999999999999999", "since=2026-13-45",
]
PAGE_RULES = [rule for rule in RULES
              if rule.values[1] == "GET" and isinstance(_access(_MAP_APP, rule.values[2]),
                                                         Permission)]


@pytest.mark.parametrize("query", PAGE_QUERIES)
@pytest.mark.parametrize(("rule", "method", "endpoint"), PAGE_RULES)
def test_hostile_query_strings_never_break_a_page(app, client, auth, world, rule, method,
                                                  endpoint, query):
    with app.app_context():
        url = _url(rule, record_ids(world.acme))
    auth.sign_in_as(world.admin)
    response = client.get(f"{url}?{query}")
    assert response.status_code < 500, response.data[:300]


API_QUERIES = [
    "q=%00", "cursor=%00", "cursor=" + "%00" * 10, "status=%00", "from=%00", "to=%00",
    "to=9999-12-31", "from=9999-12-31", "from=0001-01-01", "to=0001-01-01T00:00:00%2B14:00",
    "from=9999-12-31T23:59:59-14:00", "limit=%00", "limit=99999999999999999999", "q=%25%5F",
]


@pytest.mark.parametrize("query", API_QUERIES)
def test_hostile_query_strings_never_break_the_api_listing(app, world, query):
    key = _api_key(app, world.acme.id)
    response = _api_call(app, f"/api/v1/bookings?{query}", "GET", key)
    assert response.status_code in (200, 422), response.data[:300]
    assert response.is_json


@pytest.mark.parametrize("booking_id", ["%00", "a%00b", "x" * 5000, "%F0%9F%98%80",
                                        "..%2F..%2Fopenapi.json", "99999999999999999999"])
@pytest.mark.parametrize(("rule", "method", "endpoint"), API_KEY_RULES_WITH_IDS)
def test_api_ids_no_booking_can_have_are_not_found(app, world, rule, method, endpoint,
                                                   booking_id):
    key = _api_key(app, world.acme.id)
    response = _api_call(app, rule.replace("<booking_id>", booking_id), method, key)
    assert response.status_code == 404, response.data[:300]
    assert response.get_json()["error"]


def test_switching_to_a_workspace_you_are_not_in_changes_nothing(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/workspaces/switch", data={"workspace_id": world.globex.id})
    assert response.status_code in (302, 303, 403, 404)
    with client.session_transaction() as session:
        assert session.get("workspace_id") != world.globex.id
    assert b"Globex" not in client.get("/").data
