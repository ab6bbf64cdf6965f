"""``zoom.webhooks.parse``: a webhook request becomes a typed event or a clear refusal.

Bodies are signed here with ``hmac`` directly (tests.zoom_builders), not with the code under
test, and hostile shapes are refused with a 4xx before anything is stored.
"""

from __future__ import annotations

import json

import pytest

from dashboard.zoom.webhooks import (
    Deauthorization,
    MeetingChange,
    MeetingEvent,
    Rejected,
    UnusedEvent,
    UrlValidation,
    from_stored,
    mentions_user,
    parse,
    without_user_data,
)
from tests.zoom_builders import compact, deauthorized_event, meeting_event, signed_headers

SECRET = "webhook-secret"


def _parse(body: dict | bytes, **headers: str):
    raw = body if isinstance(body, bytes) else compact(body)
    sent = {**signed_headers(SECRET, raw), **headers}
    return parse(raw, sent, SECRET, now=float(sent["x-zm-request-timestamp"]))


def test_a_meeting_event_reads_its_id_times_and_operator():
    body = meeting_event("meeting.updated", duration=45)
    body["payload"]["operator_id"] = "zu_Other"
    body["payload"]["old_object"] = {"id": 81047304804, "duration": 30}

    event = _parse(body)

    assert isinstance(event, MeetingEvent)
    assert (event.change, event.meeting_id, event.operator_id) == (
        MeetingChange.UPDATED, 81047304804, "zu_Other")
    assert (event.new.duration_minutes, event.old.duration_minutes) == (45, 30)
    assert event.new.start_at.isoformat() == "2026-12-01T10:00:00+00:00"
    assert "topic" not in _parse(meeting_event("meeting.started")).stored_payload()["object"]


def test_a_changed_passcode_is_kept_only_as_changed():
    body = meeting_event("meeting.updated")
    body["payload"]["object"]["password"] = "s3cret"
    body["payload"]["old_object"] = {"id": 81047304804, "password": "0ld"}

    event = _parse(body)

    assert "password" in event.new.sent and "password" in event.old.sent
    assert "s3cret" not in str(event.stored_payload()) and "0ld" not in str(event.stored_payload())
    again = from_stored(event.name, event.event_ts, event.account_id, event.stored_payload())
    assert "password" in again.new.sent


def test_a_stored_event_reads_back_the_same():
    event = _parse(meeting_event("meeting.started"))

    again = from_stored(event.name, event.event_ts, event.account_id, event.stored_payload())

    assert again == event


def test_deauthorization_and_url_validation_and_unused_events():
    assert isinstance(_parse(deauthorized_event()), Deauthorization)
    validation = _parse({"event": "endpoint.url_validation", "payload": {"plainToken": "p"}})
    assert isinstance(validation, UrlValidation) and validation.plain_token == "p"
    assert isinstance(_parse({"event": "recording.completed", "payload": {}}), UnusedEvent)


def test_a_400_digit_timestamp_is_refused_not_a_crash():
    raw = compact(meeting_event())
    with pytest.raises(Rejected) as refused:
        parse(raw, {"x-zm-request-timestamp": "9" * 400, "x-zm-signature": "v0=00"}, SECRET,
              now=1.0)
    assert refused.value.status == 401


@pytest.mark.parametrize("body", [
    b"[" * 5000 + b"]" * 5000,
    json.dumps({"event": "meeting.started", "payload": {"x": [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}
                }).replace("[[", "[" * 3000).replace("]]", "]" * 3000).encode(),
    compact({"event": "meeting.started", "event_ts": 10**30, "payload": {}}),
    compact({"event": "meeting.\u0000started", "payload": {}}),
    compact(meeting_event(meeting_id=2**64)),
    compact({"event": "meeting.started", "payload": {"object": {"id": "9" * 30}}}),
    compact(meeting_event(duration=10**12)),
    compact({"event": "x" * 65, "payload": {}}),
    compact(meeting_event(account_id="acct\x00")),
    compact({"event": "meeting.updated", "payload": {"operator_id": ["zu_1"]}}),
    compact(meeting_event("meeting.updated", timezone="Europe/Lisbon\u202e")),
    compact(meeting_event("meeting.updated", start_time="9999-12-31T23:00:00-05:00")),
    compact(meeting_event("meeting.updated", start_time="next tuesday")),
    compact({"event": "app_deauthorized", "payload": {"user_id": "u" * 65}}),
], ids=["nested-list", "nested-in-payload", "event_ts-1e30", "nul-in-name", "id-2^64",
        "id-30-digits", "duration-1e12", "long-name", "nul-in-account", "operator-a-list",
        "bidi-in-zone", "start-past-last-utc-year", "start-not-a-time", "user-id-65-chars"])
def test_hostile_shapes_are_a_bad_request(body):
    with pytest.raises(Rejected) as refused:
        _parse(body)
    assert refused.value.status == 400


def test_forgetting_the_user_leaves_times_and_statuses_and_applies_as_nothing():
    body = meeting_event("meeting.updated", duration=45)
    body["payload"]["operator_id"] = "zu_Host"
    event = _parse(body)
    assert mentions_user(event.stored_payload(), "zu_Host")

    forgotten = without_user_data({"account_id": event.account_id, **event.stored_payload()})

    assert "zu_Host" not in str(forgotten) and "81047304804" not in str(forgotten)
    assert forgotten["object"]["duration"] == 45
    again = from_stored(event.name, event.event_ts, None, forgotten)
    assert isinstance(again, MeetingEvent) and again.meeting_id == 0
