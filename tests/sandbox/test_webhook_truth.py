"""Webhooks as Zoom sends them: raw UTF-8 bodies, x-zm-trackingid, event shapes, and the
endpoint URL validation (on demand and every 72 h of the sandbox clock)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from dashboard.sandbox import webhooks_out
from tests.zoom_builders import compact

from .conftest import WEBHOOK_SECRET, Sandbox, http
from .test_webhooks import verified

TRACKING = re.compile(r"v=2\.0;clid=sbx;rid=SBX_[0-9a-f]{32}")
TOPIC = "Consulta com João"


def zoom_sample_receiver_accepts(item: dict[str, Any]) -> bool:
    """What zoom/webhook-sample does: parse, re-serialize (JSON.stringify: compact, raw
    UTF-8), and verify the signature over that."""
    headers = item["headers"]
    message = f"v0:{headers['x-zm-request-timestamp']}:".encode() + compact(
        json.loads(item["body"])
    )
    expected = "v0=" + hmac.new(WEBHOOK_SECRET.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-zm-signature"], expected)


def test_non_ascii_topic_is_sent_as_raw_utf8_and_verifies(sandbox: Sandbox, token: str) -> None:
    sandbox.create_meeting(token, topic=TOPIC)
    (item,) = sandbox.webhooks.wait_for(1)
    assert "João".encode() in item["body"]
    assert b"\\u00e3" not in item["body"]
    body = verified(item)  # signed over the raw bytes
    assert body["payload"]["object"]["topic"] == TOPIC
    assert zoom_sample_receiver_accepts(item)
    # The tests' "JSON the way Zoom sends it" helper builds the very same bytes.
    assert compact(body) == item["body"]


def test_api_answers_are_raw_utf8_too(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token, topic=TOPIC)
    answer = sandbox.api("GET", f"/meetings/{meeting['id']}", token)
    assert "João".encode() in answer.content and answer.json()["topic"] == TOPIC


def test_deliveries_carry_a_tracking_id_kept_across_retries(
    sandbox: Sandbox, token: str, monkeypatch: Any
) -> None:
    sandbox.create_meeting(token)
    sandbox.create_meeting(token)
    first, second = sandbox.webhooks.wait_for(2)
    ids = [item["headers"]["x-zm-trackingid"] for item in (first, second)]
    assert all(TRACKING.fullmatch(value) for value in ids) and ids[0] != ids[1]
    # A retried delivery is the same event: it keeps its tracking id.
    monkeypatch.setattr(webhooks_out, "RETRY_DELAYS", (0.05, 0.05))
    sandbox.configure(ZOOM_SANDBOX_WEBHOOKS_SYNC=False)
    sandbox.webhooks.clear()
    sandbox.webhooks.script = [503]
    sandbox.create_meeting(token)
    failed, retried = sandbox.webhooks.wait_for(2)
    assert failed["headers"]["x-zm-trackingid"] == retried["headers"]["x-zm-trackingid"]


def test_event_shapes_created_has_password_deleted_names_its_operator(
    sandbox: Sandbox, token: str
) -> None:
    meeting = sandbox.create_meeting(token)
    sandbox.api("DELETE", f"/meetings/{meeting['id']}", token)
    created, deleted = (verified(item) for item in sandbox.webhooks.wait_for(2))
    obj = created["payload"]["object"]
    assert obj["password"] == meeting["password"]
    for key in ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone"):
        assert obj[key] == meeting[key]
    assert obj["join_url"] == meeting["join_url"] and "start_url" not in obj
    payload = deleted["payload"]
    assert payload["operator"] == "dr.ada@clinic.zoom.test" and payload["operator_id"]
    assert set(payload["object"]) == {
        "uuid",
        "id",
        "host_id",
        "topic",
        "type",
        "start_time",
        "duration",
        "timezone",
    }


def check_validation_request(item: dict[str, Any]) -> str:
    """The validation event is signed as usual; return its plainToken."""
    body = verified(item)
    assert body["event"] == "endpoint.url_validation"
    assert isinstance(body["event_ts"], int)
    assert TRACKING.fullmatch(item["headers"]["x-zm-trackingid"])
    plain = body["payload"]["plainToken"]
    assert isinstance(plain, str) and len(plain) >= 16
    return plain


def test_url_validation_from_the_console(sandbox: Sandbox) -> None:
    page = http.get(sandbox.url("/")).text
    assert "No URL validation sent yet." in page
    answer = http.post(sandbox.url("/console/url-validation"))
    assert "URL validation passed at" in answer.text and "answered correctly" in answer.text
    (item,) = sandbox.webhooks.wait_for(1)
    check_validation_request(item)
    (latest,) = sandbox.state()["url_validations"]
    assert latest["ok"] is True and latest["trigger"] == "console"
    assert latest["at"].endswith("Z")  # when, on the sandbox clock

    sandbox.webhooks.validation = "wrong"
    failed = http.post(sandbox.url("/console/url-validation"))
    assert "URL validation FAILED at" in failed.text
    assert "encryptedToken is not hex(HMAC_SHA256(secret token, plainToken))" in failed.text
    page = http.get(sandbox.url("/")).text
    assert "events are not being delivered until a validation passes" in page


def test_url_validation_judges_every_wrong_answer(sandbox: Sandbox) -> None:
    for setup, detail in (
        (lambda r: setattr(r, "validation", "plain"), "the answer is not JSON"),
        (lambda r: setattr(r, "status", 500), "HTTP 500 (Zoom wants 200)"),
    ):
        sandbox.webhooks.clear()
        setup(sandbox.webhooks)
        result = sandbox.control("POST", "/url_validation").json()
        assert result["ok"] is False and result["detail"] == detail
    sandbox.configure(ZOOM_SANDBOX_WEBHOOK_URL="http://127.0.0.1:9/unreachable")
    result = sandbox.control("POST", "/url_validation").json()
    assert result["ok"] is False and result["detail"].startswith("no answer")


def test_failed_validation_stops_events_until_one_passes(sandbox: Sandbox, token: str) -> None:
    sandbox.webhooks.validation = "wrong"
    assert sandbox.control("POST", "/url_validation").json()["ok"] is False
    sandbox.create_meeting(token)
    assert sandbox.webhooks.events() == ["endpoint.url_validation"]
    assert sandbox.state()["webhooks"]["suppressed"] == 1
    sandbox.webhooks.validation = "correct"
    assert sandbox.control("POST", "/url_validation").json()["ok"] is True
    sandbox.create_meeting(token)
    assert sandbox.webhooks.events()[-1] == "meeting.created"


def test_url_validation_repeats_every_72_hours_of_sandbox_time(sandbox: Sandbox) -> None:
    sandbox.advance(71 * 3600)
    assert sandbox.webhooks.received == []
    moved = sandbox.control("POST", "/clock", json={"advance_seconds": 3600 + 1}).json()
    assert moved["url_validation"]["ok"] is True
    assert moved["url_validation"]["trigger"] == "schedule"
    (item,) = sandbox.webhooks.wait_for(1)
    check_validation_request(item)
    # The next one is due 72 h after this one, not before.
    assert sandbox.state()["url_validation_next_due"] > moved["now"]
    sandbox.advance(71 * 3600)
    assert len(sandbox.webhooks.received) == 1
    sandbox.advance(3600)
    assert len(sandbox.webhooks.received) == 2
    # The console shows when it was answered and what is next.
    page = http.get(sandbox.url("/")).text
    assert "Next scheduled validation" in page and "schedule" in page
    assert page.count("answered correctly") >= 2
