"""A Zoom user's own edits and deletions (the console), and webhooks switched off."""

from __future__ import annotations

import json

from .conftest import FRONT_DESK, Sandbox, http, parse_forms


def _last_payload(sandbox: Sandbox) -> dict:
    body = sandbox.webhooks.received[-1]["body"]
    return (json.loads(body) if isinstance(body, (str, bytes)) else body)["payload"]


def test_an_edit_as_the_host_lands_and_sends_meeting_updated(sandbox: Sandbox,
                                                             token: str) -> None:
    meeting = sandbox.create_meeting(token)
    changed = sandbox.control("POST", f"/meetings/{meeting['id']}/edit",
                              json={"duration": 55, "topic": "Moved", "password": "n3w"})
    assert changed.status_code == 200
    assert changed.json()["duration"] == 55 and "password" not in changed.json()
    assert sandbox.webhooks.events()[-1] == "meeting.updated"
    payload = _last_payload(sandbox)
    assert payload["operator_id"] == meeting["host_id"]
    assert payload["object"]["duration"] == 55 and payload["old_object"]["duration"] == 30
    assert "password" in payload["object"]
    read = sandbox.api("GET", f"/meetings/{meeting['id']}", token).json()
    assert (read["duration"], read["topic"]) == (55, "Moved")


def test_an_edit_as_another_user_names_that_user(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token)
    sandbox.control("POST", f"/meetings/{meeting['id']}/edit",
                    json={"duration": 40, "user": FRONT_DESK})
    assert _last_payload(sandbox)["operator_id"] == FRONT_DESK


def test_bad_edits_are_refused_with_the_field_named(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token)
    for body, word in (({}, "Nothing to change"), ({"duration": "x"}, "duration"),
                       ({"duration": 0}, "duration"), ({"start_time": "soon"}, "start_time")):
        answer = sandbox.control("POST", f"/meetings/{meeting['id']}/edit", json=body)
        assert answer.status_code == 400 and word in answer.json()["error"]
    assert sandbox.control("POST", "/meetings/12345678901/edit",
                           json={"duration": 40}).status_code == 404


def test_a_deletion_sends_meeting_deleted_and_the_meeting_is_gone(sandbox: Sandbox,
                                                                  token: str) -> None:
    meeting = sandbox.create_meeting(token)
    assert sandbox.control("POST", f"/meetings/{meeting['id']}/delete").status_code == 200
    assert sandbox.webhooks.events()[-1] == "meeting.deleted"
    assert sandbox.api("GET", f"/meetings/{meeting['id']}", token).status_code == 404
    assert sandbox.control("POST", f"/meetings/{meeting['id']}/delete").status_code == 404


def test_webhooks_switched_off_are_counted_not_sent(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token)
    sent = len(sandbox.webhooks.events())
    assert sandbox.control("POST", "/webhooks", json={"enabled": False}).json() == {
        "enabled": False}
    assert sandbox.state()["webhooks"]["enabled"] is False
    sandbox.control("POST", f"/meetings/{meeting['id']}/edit", json={"duration": 45})
    assert len(sandbox.webhooks.events()) == sent
    assert sandbox.state()["webhooks"]["suppressed"] == 1
    sandbox.control("POST", "/webhooks", json={"enabled": True})
    sandbox.control("POST", f"/meetings/{meeting['id']}/edit", json={"duration": 50})
    assert len(sandbox.webhooks.events()) == sent + 1
    assert sandbox.control("POST", "/webhooks", json={"enabled": "no"}).status_code == 400


def test_the_console_edits_deletes_and_switches_webhooks(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token)
    page = http.get(sandbox.url("/")).text
    actions = {form["action"] for form in parse_forms(page)}
    assert any(a.endswith(f"/console/meetings/{meeting['id']}/edit") for a in actions)
    assert "Webhooks are <strong>on</strong>" in page
    edited = http.post(sandbox.url(f"/console/meetings/{meeting['id']}/edit"),
                       data={"duration": "65", "start_time": "", "topic": "", "password": ""})
    assert f"Meeting {meeting['id']} changed" in edited.text
    off = http.post(sandbox.url("/console/webhooks"), data={"enabled": "0"})
    assert "Webhooks are <strong>off</strong>" in off.text
    deleted = http.post(sandbox.url(f"/console/meetings/{meeting['id']}/delete"))
    assert f"Meeting {meeting['id']} deleted" in deleted.text
    assert sandbox.state()["webhooks"]["suppressed"] == 1
