"""Per-endpoint scopes (4711 is HTTP 400), the app registration's scopes, scheduling
privilege (code 3000) and listing another user's meetings (admin scope)."""

from __future__ import annotations

import pytest

from .conftest import ADA, FRONT_DESK, OTHER_HOST, Sandbox, http, parse_forms

VALID = {
    "topic": "Consultation",
    "type": 2,
    "start_time": "2030-03-01T10:00:00Z",
    "duration": 30,
    "timezone": "Europe/Lisbon",
}
ALL_GRANULAR = (
    "meeting:read:meeting meeting:write:meeting meeting:update:meeting "
    "meeting:delete:meeting meeting:read:list_meetings user:read:user"
)


def scope_refusal(scope: str) -> dict[str, object]:
    return {"code": 4711, "message": f"Invalid access token, does not contain scopes:[{scope}]."}


def call(sandbox: Sandbox, endpoint: str, token: str, meeting_id: int) -> object:
    """One call of an endpoint with a token."""
    path = f"/meetings/{meeting_id}"
    return {
        "users_me": lambda: sandbox.api("GET", "/users/me", token),
        "meetings_create": lambda: sandbox.api("POST", "/users/me/meetings", token, json=VALID),
        "meetings_get": lambda: sandbox.api("GET", path, token),
        "meetings_update": lambda: sandbox.api("PATCH", path, token, json={"topic": "x"}),
        "meetings_delete": lambda: sandbox.api("DELETE", path, token),
        "meetings_list": lambda: sandbox.api("GET", "/users/me/meetings", token),
    }[endpoint]()


@pytest.mark.parametrize(
    ("endpoint", "scope"),
    [
        ("users_me", "user:read:user"),
        ("meetings_create", "meeting:write:meeting"),
        ("meetings_get", "meeting:read:meeting"),
        ("meetings_update", "meeting:update:meeting"),
        ("meetings_delete", "meeting:delete:meeting"),
        ("meetings_list", "meeting:read:list_meetings"),
    ],
)
def test_each_endpoint_needs_its_granular_scope(
    sandbox: Sandbox, endpoint: str, scope: str
) -> None:
    own = sandbox.create_meeting(sandbox.connect(FRONT_DESK)["access_token"])["id"]
    others = " ".join(s for s in ALL_GRANULAR.split() if s != scope)
    without = sandbox.connect(FRONT_DESK, scope=others)["access_token"]
    refused = call(sandbox, endpoint, without, own)
    assert refused.status_code == 400, refused.text
    assert refused.json() == scope_refusal(scope)
    only = sandbox.connect(FRONT_DESK, scope=scope)["access_token"]
    assert call(sandbox, endpoint, only, own).status_code in (200, 201, 204)


def test_default_registration_holds_the_list_scope_and_shows_it(sandbox: Sandbox) -> None:
    page = http.get(sandbox.url("/oauth/authorize"), params=sandbox.authorize_params())
    assert "meeting:read:list_meetings" in page.text
    granted = sandbox.connect()
    assert "meeting:read:list_meetings" in granted["scope"].split()
    listing = sandbox.api("GET", "/users/me/meetings", granted["access_token"])
    assert listing.status_code == 200
    assert sandbox.control("GET", "/app").json()["scopes"] == ALL_GRANULAR


def test_console_drops_a_scope_from_the_registration(sandbox: Sandbox) -> None:
    before = sandbox.connect()["access_token"]
    page = http.get(sandbox.url("/")).text
    (form,) = [f for f in parse_forms(page) if f["action"].endswith("/console/app-scopes")]
    boxes = [f for f in form["fields"] if f.get("type") == "checkbox"]
    checked = [f["value"] for f in boxes if "checked" in f]
    assert sorted(checked) == sorted(ALL_GRANULAR.split())
    keep = [s for s in checked if s != "meeting:read:list_meetings"]
    answer = http.post(sandbox.url("/console/app-scopes"), data={"scope": keep})
    assert "The app is now registered with" in answer.text
    page = http.get(sandbox.url("/oauth/authorize"), params=sandbox.authorize_params())
    assert "meeting:read:list_meetings" not in page.text
    after = sandbox.connect()
    assert "meeting:read:list_meetings" not in after["scope"].split()
    refused = sandbox.api("GET", "/users/me/meetings", after["access_token"])
    assert refused.status_code == 400
    assert refused.json() == scope_refusal("meeting:read:list_meetings")
    # A refresh does not bring the scope back, nor does the grant made before (it died
    # when the new one was made).
    fresh = sandbox.refresh(after["refresh_token"]).json()
    assert sandbox.api("GET", "/users/me/meetings", fresh["access_token"]).status_code == 400
    assert sandbox.api("GET", "/users/me", before).status_code == 401
    # Registering the scope again and re-consenting fixes it.
    assert sandbox.control("POST", "/app", json={"scopes": ALL_GRANULAR}).ok
    again = sandbox.connect()["access_token"]
    assert sandbox.api("GET", "/users/me/meetings", again).status_code == 200


def test_registration_refuses_empty_or_foreign_scopes(sandbox: Sandbox) -> None:
    for scopes in ("", "recording:read", ["meeting:read:meeting", "chat:write"]):
        answer = sandbox.control("POST", "/app", json={"scopes": scopes})
        assert answer.status_code == 400 and "error" in answer.json()
    bad = http.post(sandbox.url("/console/app-scopes"), data={})
    assert "Scopes not changed" in bad.text
    assert sandbox.control("GET", "/app").json()["scopes"] == ALL_GRANULAR


def test_schedule_for_needs_scheduling_privilege(sandbox: Sandbox, token: str) -> None:
    desk = sandbox.connect(FRONT_DESK)["access_token"]
    body = {**VALID, "schedule_for": "dr.ada@clinic.zoom.test"}
    refused = sandbox.api("POST", "/users/me/meetings", desk, json=body)
    assert refused.status_code == 400
    assert refused.json() == {
        "code": 3000,
        "message": "You cannot schedule a meeting for dr.ada@clinic.zoom.test",
    }
    assert sandbox.state()["meetings"]["waiting"] == 0
    # The seeded privilege: dr.ada may schedule for the front desk.
    assert {"scheduler": ADA, "host": FRONT_DESK} in sandbox.state()["scheduling"]
    meeting = sandbox.create_meeting(token, schedule_for=FRONT_DESK)
    assert meeting["host_id"] == FRONT_DESK
    # Taken back on the console: 3000 for dr.ada too.
    page = http.get(sandbox.url("/")).text
    assert "Scheduling privileges" in page
    taken = http.post(
        sandbox.url("/console/scheduling"),
        data={"scheduler": ADA, "host": FRONT_DESK, "action": "forbid"},
    )
    assert f"{ADA} may no longer schedule meetings for {FRONT_DESK}." in taken.text
    body = {**VALID, "schedule_for": "front.desk@clinic.zoom.test"}
    answer = sandbox.api("POST", "/users/me/meetings", token, json=body)
    assert answer.status_code == 400 and answer.json()["code"] == 3000
    # Given on the console: the front desk may now schedule for dr.ada.
    given = http.post(
        sandbox.url("/console/scheduling"),
        data={"scheduler": FRONT_DESK, "host": ADA, "action": "allow"},
    )
    assert f"{FRONT_DESK} may now schedule meetings for {ADA}." in given.text
    made = sandbox.create_meeting(desk, schedule_for="dr.ada@clinic.zoom.test")
    assert made["host_id"] == ADA


def test_update_with_schedule_for_needs_the_privilege_too(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token)
    sandbox.control(
        "POST", "/scheduling", json={"scheduler": ADA, "host": FRONT_DESK, "allow": False}
    )
    path = f"/meetings/{meeting['id']}"
    refused = sandbox.api("PATCH", path, token, json={"schedule_for": FRONT_DESK})
    assert refused.status_code == 400 and refused.json()["code"] == 3000
    assert sandbox.api("GET", path, token).json()["host_id"] == ADA
    sandbox.control("POST", "/scheduling", json={"scheduler": ADA, "host": FRONT_DESK})
    moved = sandbox.api("PATCH", path, token, json={"schedule_for": FRONT_DESK})
    assert moved.status_code == 204
    assert sandbox.api("GET", path, token).json()["host_id"] == FRONT_DESK


def test_scheduling_controls_refuse_nonsense(sandbox: Sandbox) -> None:
    for spec, status in (
        ({"scheduler": "nobody", "host": ADA}, 404),
        ({"scheduler": ADA, "host": ADA}, 400),
        ({"scheduler": ADA, "host": OTHER_HOST}, 400),
    ):
        answer = sandbox.control("POST", "/scheduling", json=spec)
        assert answer.status_code == status and "error" in answer.json()
    bad = http.post(sandbox.url("/console/scheduling"), data={"scheduler": ADA, "host": ADA})
    assert "Scheduling privilege not changed" in bad.text


def test_reset_restores_the_seeded_privileges(sandbox: Sandbox) -> None:
    sandbox.control(
        "POST", "/scheduling", json={"scheduler": ADA, "host": FRONT_DESK, "allow": False}
    )
    sandbox.control("POST", "/scheduling", json={"scheduler": FRONT_DESK, "host": ADA})
    sandbox.control("POST", "/reset")
    assert sandbox.state()["scheduling"] == [{"scheduler": ADA, "host": FRONT_DESK}]


def test_listing_another_users_meetings_needs_the_admin_scope(sandbox: Sandbox, token: str) -> None:
    sandbox.create_meeting(token, schedule_for=FRONT_DESK)
    mine = sandbox.create_meeting(token)
    for ref in ("front.desk@clinic.zoom.test", FRONT_DESK, "nobody@clinic.zoom.test"):
        refused = sandbox.api("GET", f"/users/{ref}/meetings", token)
        assert refused.status_code == 400
        assert refused.json() == scope_refusal("meeting:read:list_meetings:admin")
    for ref in ("me", ADA, "dr.ada@clinic.zoom.test", "DR.ADA@clinic.zoom.test"):
        listing = sandbox.api("GET", f"/users/{ref}/meetings", token)
        assert listing.status_code == 200
        assert [m["id"] for m in listing.json()["meetings"]] == [mine["id"]]
