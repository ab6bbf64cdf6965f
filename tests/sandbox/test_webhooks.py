"""Webhooks the sandbox sends: Zoom's signature, compact JSON, envelopes, delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from dashboard.sandbox import webhooks_out

from .conftest import WEBHOOK_SECRET, Sandbox


def verified(item: dict[str, Any]) -> dict[str, Any]:
    """Check the signature on the raw body as a receiver must, then parse it."""
    headers, raw = item["headers"], item["body"]
    timestamp = headers["x-zm-request-timestamp"]
    assert timestamp.isdigit()
    expected = (
        "v0="
        + hmac.new(
            WEBHOOK_SECRET.encode(), f"v0:{timestamp}:".encode() + raw, hashlib.sha256
        ).hexdigest()
    )
    assert hmac.compare_digest(headers["x-zm-signature"], expected)
    assert headers["content-type"] == "application/json"
    body = json.loads(raw)
    compact_utf8 = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    assert raw == compact_utf8, "not compact raw UTF-8 JSON"
    return body


def test_meeting_lifecycle_sends_signed_events(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token)
    path = f"/meetings/{meeting['id']}"
    sandbox.api(
        "PATCH",
        path,
        token,
        json={"topic": "Renamed", "duration": 30, "settings": {"host_video": True}},
    )
    sandbox.control("POST", f"{path}/start")
    sandbox.control("POST", f"{path}/end")
    sandbox.api("DELETE", path, token)
    bodies = [verified(item) for item in sandbox.webhooks.wait_for(5)]
    assert [b["event"] for b in bodies] == [
        "meeting.created",
        "meeting.updated",
        "meeting.started",
        "meeting.ended",
        "meeting.deleted",
    ]
    created, updated, started, ended, deleted = bodies
    for body in bodies:
        assert isinstance(body["event_ts"], int)
        assert body["payload"]["account_id"] == "sbx-acct-clinic"
    assert created["payload"]["operator"] == "dr.ada@clinic.zoom.test"
    assert created["payload"]["operator_id"] == "sbx-user-dr-ada"
    obj = created["payload"]["object"]
    assert obj["id"] == meeting["id"] and obj["uuid"] == meeting["uuid"]
    assert obj["join_url"] == meeting["join_url"] and "start_url" not in obj

    payload = updated["payload"]
    assert payload["object"] == {
        "id": meeting["id"],
        "uuid": meeting["uuid"],
        "topic": "Renamed",
        "settings": {"host_video": True},
    }
    assert payload["old_object"] == {
        "id": meeting["id"],
        "uuid": meeting["uuid"],
        "topic": "Consultation",
        "settings": {"host_video": False},
    }
    assert isinstance(payload["time_stamp"], int) and payload["operator_id"] == "sbx-user-dr-ada"

    assert started["payload"]["object"]["id"] == str(meeting["id"])
    assert started["payload"]["object"]["host_id"] == "sbx-user-dr-ada"
    assert "end_time" in ended["payload"]["object"]
    assert deleted["payload"]["object"]["id"] == meeting["id"]
    assert deleted["payload"]["operator"] == "dr.ada@clinic.zoom.test"


def test_update_without_changes_sends_nothing(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token)
    sandbox.api("PATCH", f"/meetings/{meeting['id']}", token, json={"topic": meeting["topic"]})
    assert sandbox.webhooks.events() == ["meeting.created"]


def test_failed_delivery_never_fails_the_api_call(sandbox: Sandbox, token: str) -> None:
    sandbox.webhooks.status = 500
    sandbox.create_meeting(token)
    sandbox.configure(ZOOM_SANDBOX_WEBHOOK_URL="http://127.0.0.1:9/unreachable")
    sandbox.create_meeting(token)
    assert sandbox.state()["webhooks"]["failed"] == 2


def test_background_delivery_retries_until_accepted(
    sandbox: Sandbox, token: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(webhooks_out, "RETRY_DELAYS", (0.05, 0.05))
    sandbox.configure(ZOOM_SANDBOX_WEBHOOKS_SYNC=False)
    sandbox.webhooks.script = [503, 500]
    created = sandbox.api("POST", "/users/me/meetings", token, json={"topic": "bg"})
    assert created.status_code == 201
    items = sandbox.webhooks.wait_for(3)
    assert items[0]["body"] == items[1]["body"] == items[2]["body"]
    assert [item["status"] for item in items] == [503, 500, 200]
    assert verified(items[2])["event"] == "meeting.created"


def test_sign_matches_zoom_formula() -> None:
    body = b'{"event":"x"}'
    expected = hmac.new(b"secret", b'v0:1700000000:{"event":"x"}', hashlib.sha256).hexdigest()
    assert webhooks_out.sign("secret", "1700000000", body) == "v0=" + expected
