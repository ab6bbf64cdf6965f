"""The Meetings API: shapes, CRUD, listing, Zoom's validation and error codes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import FRONT_DESK, OTHER_HOST, Sandbox

VALID = {
    "topic": "Consultation",
    "type": 2,
    "start_time": "2030-03-01T10:00:00Z",
    "duration": 30,
    "timezone": "Europe/Lisbon",
}


def test_create_answers_201_with_zoom_shape(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.api(
        "POST",
        "/users/me/meetings",
        token,
        json={**VALID, "agenda": "Follow-up", "settings": {"waiting_room": False}},
    )
    assert answer.status_code == 201
    meeting = answer.json()
    assert isinstance(meeting["id"], int) and 10 <= len(str(meeting["id"])) <= 11
    assert re.fullmatch(r"[A-Za-z0-9+/]{22}==", meeting["uuid"])
    assert meeting["host_id"] == "sbx-user-dr-ada"
    assert meeting["host_email"] == "dr.ada@clinic.zoom.test"
    assert meeting["status"] == "waiting"
    assert meeting["start_time"] == "2030-03-01T10:00:00Z"
    assert meeting["timezone"] == "Europe/Lisbon" and meeting["duration"] == 30
    # Zoom's link shape, under the sandbox's own URL: the link opens the sandbox's page.
    assert re.fullmatch(rf"http://[\w.:]+/zoom-sandbox/j/{meeting['id']}\?pwd=[\w-]+",
                        meeting["join_url"])
    assert "zak=" in meeting["start_url"]
    assert meeting["password"] and meeting["created_at"].endswith("Z")
    assert meeting["settings"]["waiting_room"] is False
    assert meeting["settings"]["approval_type"] == 2
    assert answer.headers["X-RateLimit-Category"] == "Medium"
    assert answer.headers["Content-Location"].endswith(f"/v2/meetings/{meeting['id']}")


def test_get_returns_the_stored_meeting(sandbox: Sandbox, token: str) -> None:
    created = sandbox.create_meeting(token)
    answer = sandbox.api("GET", f"/meetings/{created['id']}", token)
    assert answer.status_code == 200
    assert answer.json() == created
    assert answer.headers["X-RateLimit-Category"] == "Light"


def test_local_start_time_is_read_in_the_timezone(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(
        token, start_time="2030-07-01T10:00:00", timezone="America/New_York"
    )
    assert meeting["start_time"] == "2030-07-01T14:00:00Z"
    no_zone = {key: value for key, value in VALID.items() if key != "timezone"}
    plain = sandbox.api(
        "POST", "/users/me/meetings", token, json={**no_zone, "start_time": "2030-07-01T10:00:00"}
    ).json()
    assert plain["timezone"] == "Europe/Lisbon" and plain["start_time"] == "2030-07-01T09:00:00Z"


def test_update_answers_204_and_changes_only_given_fields(sandbox: Sandbox, token: str) -> None:
    created = sandbox.create_meeting(token)
    answer = sandbox.api(
        "PATCH",
        f"/meetings/{created['id']}",
        token,
        json={
            "start_time": "2030-03-02T11:30:00Z",
            "duration": 45,
            "settings": {"mute_upon_entry": True},
            "unknown": 1,
        },
    )
    assert answer.status_code == 204 and answer.content == b""
    after = sandbox.api("GET", f"/meetings/{created['id']}", token).json()
    assert after["start_time"] == "2030-03-02T11:30:00Z" and after["duration"] == 45
    assert after["settings"]["mute_upon_entry"] is True
    assert after["settings"]["waiting_room"] is True
    assert after["topic"] == created["topic"] and after["join_url"] == created["join_url"]
    assert "unknown" not in after


def test_delete_is_final(sandbox: Sandbox, token: str) -> None:
    created = sandbox.create_meeting(token)
    path = f"/meetings/{created['id']}"
    answer = sandbox.api("DELETE", path, token)
    assert answer.status_code == 204 and answer.content == b""
    gone = {"code": 3001, "message": f"Meeting does not exist: {created['id']}."}
    for method in ("GET", "DELETE"):
        again = sandbox.api(method, path, token)
        assert again.status_code == 404 and again.json() == gone
    patched = sandbox.api("PATCH", path, token, json={"topic": "x"})
    assert patched.status_code == 404 and patched.json()["code"] == 3001


def test_unknown_meeting_is_3001(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.api("GET", "/meetings/12345678901", token)
    assert answer.status_code == 404
    assert answer.json() == {"code": 3001, "message": "Meeting does not exist: 12345678901."}


def test_meeting_in_progress_cannot_be_deleted(sandbox: Sandbox, token: str) -> None:
    created = sandbox.create_meeting(token)
    assert sandbox.control("POST", f"/meetings/{created['id']}/start").status_code == 200
    answer = sandbox.api("DELETE", f"/meetings/{created['id']}", token)
    assert answer.status_code == 400
    assert answer.json() == {"code": 3002, "message": f"Meeting {created['id']} is in progress"}
    assert sandbox.api("GET", f"/meetings/{created['id']}", token).json()["status"] == "started"
    assert sandbox.control("POST", f"/meetings/{created['id']}/end").status_code == 200
    assert sandbox.api("GET", f"/meetings/{created['id']}", token).json()["status"] == "finished"
    assert sandbox.api("DELETE", f"/meetings/{created['id']}", token).status_code == 204


def test_meeting_of_another_account_does_not_exist(sandbox: Sandbox, token: str) -> None:
    created = sandbox.create_meeting(token)
    other = sandbox.connect(OTHER_HOST)["access_token"]
    for method in ("GET", "PATCH", "DELETE"):
        answer = sandbox.api(method, f"/meetings/{created['id']}", other, json={"topic": "x"})
        assert answer.status_code == 404 and answer.json()["code"] == 3001


def test_member_who_is_not_the_host_gets_3003(sandbox: Sandbox, token: str) -> None:
    created = sandbox.create_meeting(token)
    desk = sandbox.connect(FRONT_DESK)["access_token"]
    assert sandbox.api("GET", f"/meetings/{created['id']}", desk).status_code == 200
    answer = sandbox.api("DELETE", f"/meetings/{created['id']}", desk)
    assert answer.status_code == 400 and answer.json()["code"] == 3003


def test_schedule_for_a_colleague_and_unknown_users(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token, schedule_for="front.desk@clinic.zoom.test")
    assert meeting["host_id"] == FRONT_DESK
    by_id = sandbox.api(
        "POST", "/users/me/meetings", token, json={**VALID, "schedule_for": FRONT_DESK}
    )
    assert by_id.status_code == 201 and by_id.json()["host_id"] == FRONT_DESK
    for ref in ("nobody@clinic.zoom.test", OTHER_HOST):
        answer = sandbox.api(
            "POST", "/users/me/meetings", token, json={**VALID, "schedule_for": ref}
        )
        assert answer.status_code == 404
        assert answer.json() == {"code": 1001, "message": f"User does not exist: {ref}."}
    # A user-level app creates through "me": another user's path needs the admin scope.
    for ref in (FRONT_DESK, "nobody@clinic.zoom.test", OTHER_HOST):
        answer = sandbox.api("POST", f"/users/{ref}/meetings", token, json=VALID)
        assert answer.status_code == 400
        assert answer.json() == {
            "code": 4711,
            "message": "Invalid access token, does not contain scopes:"
            "[meeting:write:meeting:admin].",
        }
    foreign = sandbox.api(
        "POST", "/users/me/meetings", token, json={**VALID, "schedule_for": "host@other.zoom.test"}
    )
    assert foreign.status_code == 404 and foreign.json()["code"] == 1001


def test_list_pages_with_next_page_token(sandbox: Sandbox, token: str) -> None:
    ids = [
        sandbox.create_meeting(token, start_time=f"2030-03-0{day}T10:00:00Z")["id"]
        for day in (3, 1, 2)
    ]
    seen: list[int] = []
    next_token = ""
    pages = 0
    while True:
        page = sandbox.api(
            "GET",
            "/users/me/meetings",
            token,
            params={"type": "scheduled", "page_size": 2, "next_page_token": next_token},
        ).json()
        pages += 1
        assert page["total_records"] == 3 and page["page_size"] == 2
        seen += [item["id"] for item in page["meetings"]]
        next_token = page["next_page_token"]
        if not next_token:
            break
    assert pages == 2 and sorted(seen) == sorted(ids)
    item = page["meetings"][0]
    assert set(item) == {
        "uuid",
        "id",
        "host_id",
        "topic",
        "type",
        "start_time",
        "duration",
        "timezone",
        "agenda",
        "created_at",
        "join_url",
    }


def test_list_types_upcoming_and_live(sandbox: Sandbox, token: str) -> None:
    past = sandbox.create_meeting(token, start_time="2020-01-01T10:00:00Z")
    future = sandbox.create_meeting(token)
    sandbox.control("POST", f"/meetings/{past['id']}/start")

    def listed(kind: str) -> set[int]:
        body = sandbox.api("GET", "/users/me/meetings", token, params={"type": kind}).json()
        return {item["id"] for item in body["meetings"]}

    assert listed("upcoming") == {past["id"], future["id"]}
    assert listed("live") == {past["id"]}
    sandbox.control("POST", f"/meetings/{past['id']}/end")
    assert listed("upcoming") == {future["id"]}
    assert listed("scheduled") == {past["id"], future["id"]}
    bad = sandbox.api("GET", "/users/me/meetings", token, params={"type": "nonsense"})
    assert bad.status_code == 400 and bad.json()["code"] == 300


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topic": "x" * 201}, "topic"),
        ({"agenda": "x" * 2001}, "agenda"),
        ({"type": 5}, "type"),
        ({"type": "2"}, "type"),
        ({"start_time": "01/03/2030 10:00"}, "start_time"),
        ({"start_time": "2030-02-30T10:00:00Z"}, "start_time"),
        ({"duration": 0}, "duration"),
        ({"duration": "30"}, "duration"),
        ({"duration": 30.5}, "duration"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"password": "has spaces"}, "password"),
        ({"settings": {"waiting_room": "yes"}}, "settings.waiting_room"),
        ({"settings": {"approval_type": 7}}, "settings.approval_type"),
        ({"settings": {"auto_recording": "tape"}}, "settings.auto_recording"),
        ({"settings": {"alternative_hosts": ["a@b.c"]}}, "settings.alternative_hosts"),
        ({"settings": "none"}, "settings"),
        ({"recurrence": {"type": 9}}, "recurrence.type"),
    ],
)
def test_validation_errors_use_zoom_shape(
    sandbox: Sandbox, token: str, body: dict[str, Any], field: str
) -> None:
    answer = sandbox.api("POST", "/users/me/meetings", token, json={**VALID, **body})
    assert answer.status_code == 400
    error = answer.json()
    assert error["code"] == 300 and error["message"] == "Validation Failed."
    assert [e["field"] for e in error["errors"]] == [field]
    created = sandbox.create_meeting(token)
    patch = sandbox.api("PATCH", f"/meetings/{created['id']}", token, json=body)
    assert patch.status_code == 400 and patch.json()["errors"][0]["field"] == field


def test_limits_and_unknown_fields_are_accepted(sandbox: Sandbox, token: str) -> None:
    body = {
        **VALID,
        "topic": "x" * 200,
        "agenda": "y" * 2000,
        "whatever": {"nested": True},
        "settings": {"jbh_time": 5, "host_video": True},
    }
    answer = sandbox.api("POST", "/users/me/meetings", token, json=body)
    assert answer.status_code == 201
    assert "whatever" not in answer.json() and "jbh_time" not in answer.json()["settings"]


def test_body_that_is_not_a_json_object_is_refused(sandbox: Sandbox, token: str) -> None:
    for data in (b"not json", b"[1, 2]"):
        answer = sandbox.api(
            "POST",
            "/users/me/meetings",
            token,
            data=data,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 400 and answer.json()["code"] == 300


def test_scopes_guard_each_operation(sandbox: Sandbox) -> None:
    reader = sandbox.connect(scope="meeting:read:meeting user:read:user")["access_token"]
    answer = sandbox.api("POST", "/users/me/meetings", reader, json=VALID)
    assert answer.status_code == 400
    assert answer.json() == {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:[meeting:write:meeting].",
    }
    # Listing needs its own scope: meeting:read:meeting does not cover it.
    listing = sandbox.api("GET", "/users/me/meetings", reader)
    assert listing.status_code == 400
    assert listing.json()["message"].endswith("scopes:[meeting:read:list_meetings].")
    lister = sandbox.connect(scope="meeting:read:list_meetings")["access_token"]
    assert sandbox.api("GET", "/users/me/meetings", lister).status_code == 200



def test_a_join_link_opens_the_sandbox_meeting_page(sandbox: Sandbox, token: str) -> None:
    import requests

    meeting = sandbox.create_meeting(token)
    page = requests.get(meeting["join_url"], timeout=5)
    assert page.status_code == 200
    assert "This is the Zoom sandbox" in page.text and str(meeting["id"]) in page.text
    assert requests.get(meeting["start_url"], timeout=5).status_code == 200
    gone = meeting["join_url"].replace(f"/j/{meeting['id']}", "/j/1")
    assert requests.get(gone, timeout=5).status_code == 404
