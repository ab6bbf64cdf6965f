"""``POST /webhooks/zoom`` as an attacker would send it: forged, stale, from the future,
replayed, malformed and oversize. Each is refused with a 4xx that stores and changes
nothing; a replay of a real event is answered but applied once."""

from __future__ import annotations

import io
import json
import time

import pytest

from dashboard.extensions import db
from dashboard.models import WebhookEvent, WebhookTally
from dashboard.zoom.webhooks import MAX_BODY
from tests.booking_builders import add_booking, apply_webhooks, meeting_of
from tests.security.conftest import snapshot
from tests.zoom_builders import (
    ZOOM_ACCOUNT_ID,
    compact,
    connection_of,
    deauthorized_event,
    meeting_event,
    signed_headers,
    store_connection,
    zoom_signature,
)

URL = "/webhooks/zoom"
MEETING_ID = 81047304804


@pytest.fixture
def secret(app) -> str:
    return app.config["ZOOM_WEBHOOK_SECRET_TOKEN"]


@pytest.fixture
def scheduled(app, world) -> int:
    """acme connected to Zoom, with one scheduled meeting the events below speak of."""
    with app.app_context():
        store_connection(world.acme.id)
        return add_booking(world.acme.id, "hook-1", zoom_id=MEETING_ID)


def _post(client, raw: bytes, headers: dict[str, str], content_type: str = "application/json"):
    response = client.post(URL, data=raw, headers=headers, content_type=content_type,
                           csrf=False)
    response.close()  # runs what the view left for after the answer
    return response


def _started(**extra) -> bytes:
    return compact(meeting_event("meeting.started", meeting_id=MEETING_ID, **extra))


def _now() -> int:
    return int(time.time())


# Each: (headers for the raw body, given the secret) -> what a forger might send.
FORGED = {
    "no-signature": lambda s, raw: {"x-zm-request-timestamp": str(_now())},
    "no-timestamp": lambda s, raw: {"x-zm-signature": zoom_signature(s, str(_now()), raw)},
    "nothing": lambda s, raw: {},
    "wrong-secret": lambda s, raw: signed_headers("not-the-secret", raw),
    "empty-secret": lambda s, raw: signed_headers("", raw),
    "v1-scheme": lambda s, raw: {
        **signed_headers(s, raw),
        "x-zm-signature": signed_headers(s, raw)["x-zm-signature"].replace("v0=", "v1=")},
    "truncated": lambda s, raw: {
        **signed_headers(s, raw), "x-zm-signature": signed_headers(s, raw)["x-zm-signature"][:-2]},
    "upper-case-hex": lambda s, raw: {
        **signed_headers(s, raw),
        "x-zm-signature": "v0=" + signed_headers(s, raw)["x-zm-signature"][3:].upper()},
    "other-body": lambda s, raw: signed_headers(s, raw + b" "),
    "signed-other-timestamp": lambda s, raw: {
        "x-zm-request-timestamp": str(_now()),
        "x-zm-signature": zoom_signature(s, str(_now() - 1), raw)},
    "non-ascii-signature": lambda s, raw: {"x-zm-request-timestamp": str(_now()),
                                           "x-zm-signature": "v0=\u00e9\u00e9"},
    "stale-6-minutes": lambda s, raw: signed_headers(s, raw, timestamp=_now() - 360),
    "stale-a-day": lambda s, raw: signed_headers(s, raw, timestamp=_now() - 86400),
    "future-6-minutes": lambda s, raw: signed_headers(s, raw, timestamp=_now() + 360),
    "future-far": lambda s, raw: signed_headers(s, raw, timestamp=_now() + 10**9),
    "timestamp-in-ms": lambda s, raw: signed_headers(s, raw, timestamp=_now() * 1000),
    "timestamp-zero": lambda s, raw: signed_headers(s, raw, timestamp=0),
    "timestamp-plus-sign": lambda s, raw: {
        "x-zm-request-timestamp": f"+{_now()}",
        "x-zm-signature": zoom_signature(s, f"+{_now()}", raw)},
    "timestamp-huge": lambda s, raw: {
        "x-zm-request-timestamp": "9" * 400, "x-zm-signature": zoom_signature(s, "9" * 400, raw)},
    "timestamp-float": lambda s, raw: {
        "x-zm-request-timestamp": f"{_now()}.5",
        "x-zm-signature": zoom_signature(s, f"{_now()}.5", raw)},
}


@pytest.mark.parametrize("forgery", list(FORGED))
def test_forged_or_stale_events_are_refused_and_change_nothing(app, client, scheduled, secret,
                                                               forgery):
    raw = _started()
    before = snapshot(app)
    response = _post(client, raw, FORGED[forgery](secret, raw))
    assert response.status_code == 401, response.data
    assert response.get_json()["error"]
    assert snapshot(app) == before
    apply_webhooks(app)  # nothing was stored for the worker to apply either
    assert meeting_of(app, scheduled).status == "scheduled"


def test_a_flood_of_forged_events_is_one_counter(app, client, secret):
    raw = _started()
    for forgery in list(FORGED) * 3:
        assert _post(client, raw, FORGED[forgery](secret, raw)).status_code == 401
    with app.app_context():
        rows = db.session.execute(db.select(WebhookTally.outcome, WebhookTally.count)).all()
    assert len(rows) <= 2  # the hour may turn during the flood
    assert {outcome for outcome, _ in rows} == {"bad_signature"}
    assert sum(count for _, count in rows) == 3 * len(FORGED)


def test_a_correctly_signed_event_does_apply(app, client, scheduled, secret):
    """The rows above prove something only if the real thing gets through."""
    raw = _started()
    assert _post(client, raw, signed_headers(secret, raw)).status_code == 200
    apply_webhooks(app)
    assert meeting_of(app, scheduled).status == "started"


def test_a_replayed_event_is_answered_but_applied_once(app, client, scheduled, secret):
    raw = compact(meeting_event("meeting.ended", meeting_id=MEETING_ID))
    headers = signed_headers(secret, raw)
    first = _post(client, raw, headers)
    assert first.get_json() == {"status": "received"}
    assert apply_webhooks(app) == 1
    stored = snapshot(app)
    for _ in range(3):
        again = _post(client, raw, headers)
        assert again.status_code == 200 and again.get_json() == {"status": "duplicate"}
    assert apply_webhooks(app) == 0
    assert snapshot(app) == stored
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)) == 1


def test_a_replayed_deauthorization_after_a_reconnect_does_not_disconnect(app, client, world,
                                                                          secret):
    """A captured ``app_deauthorized`` sent again later (fresh signature, same event) must
    not end a connection made after it."""
    with app.app_context():
        store_connection(world.acme.id)
    old = deauthorized_event()
    raw = compact(old)
    assert _post(client, raw, signed_headers(secret, raw)).status_code == 200
    with app.app_context():
        db.session.delete(connection_of(world.acme.id))
        db.session.commit()
        store_connection(world.acme.id)  # reconnected after the removal
    resent = compact({**old, "event_ts": old["event_ts"]})
    _post(client, resent + b"\n", signed_headers(secret, resent + b"\n"))
    with app.app_context():
        assert connection_of(world.acme.id).status == "connected"


def _deep(levels: int) -> bytes:
    return b'{"event":"meeting.started","payload":' + b"[" * levels + b"]" * levels + b"}"


MALFORMED = {
    "not-json": b"event=meeting.started",
    "truncated-json": _started()[:-5],
    "array": b"[]",
    "string": b'"meeting.started"',
    "null": b"null",
    "empty": b"",
    "deep-nesting": _deep(20_000),
    "event-missing": compact({"payload": {"object": {"id": MEETING_ID}}}),
    "event-not-text": compact({"event": 7, "payload": {}}),
    "event-control-chars": compact({"event": "meeting.started\x00", "payload": {}}),
    "event-too-long": compact({"event": "e" * 5000, "payload": {}}),
    "event-ts-text": compact(
        {**meeting_event("meeting.started", meeting_id=MEETING_ID), "event_ts": "soon"}),
    "event-ts-negative": compact(
        {**meeting_event("meeting.started", meeting_id=MEETING_ID), "event_ts": -1}),
    "event-ts-huge": compact(
        {**meeting_event("meeting.started", meeting_id=MEETING_ID), "event_ts": 10**30}),
    "meeting-id-huge": compact(meeting_event("meeting.started", meeting_id=10**30)),
    "meeting-id-negative": compact({**meeting_event("meeting.started"), "payload": {
        "account_id": ZOOM_ACCOUNT_ID, "object": {"id": -5}}}),
    "duration-huge": _started(duration=10**12),
    "duration-negative": _started(duration=-30),
    "invalid-utf8": b'{"event":"meeting.started","payload":{"x":"\xff\xfe"}}',
    "nan": b'{"event":"meeting.started","event_ts":NaN,"payload":{}}',
    "url-validation-without-token": compact({"event": "endpoint.url_validation",
                                             "payload": {}}),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_events_get_a_400_and_nothing_is_written(app, client, scheduled, secret,
                                                           kind):
    raw = MALFORMED[kind]
    before = snapshot(app)
    response = _post(client, raw, signed_headers(secret, raw))
    assert response.status_code == 400, response.data
    assert response.get_json()["error"]
    assert snapshot(app) == before


#: Well-formed and signed, but nothing Zoom sends: stored and ignored, or refused; never a
#: 500, never applied to the meeting.
ODD = {
    "lone-surrogate-account": b'{"event":"meeting.started","payload":{"account_id":"\\ud800",'
                              b'"object":{"id":81047304804}}}',
    "nul-in-account": compact(meeting_event("meeting.started", meeting_id=MEETING_ID,
                                            account_id="acct\x00")),
    "unknown-event": compact({"event": "meeting.sharing_started", "payload": {"x": 1}}),
    "payload-not-object": compact({"event": "meeting.started", "payload": [1, 2]}),
    "object-not-object": compact({"event": "meeting.started", "payload": {"object": "x"}}),
    "hostile-account": compact(meeting_event("meeting.started", meeting_id=MEETING_ID,
                                             account_id="<script>alert(1)</script>" * 20)),
}


@pytest.mark.parametrize("kind", list(ODD))
def test_odd_but_signed_events_never_break_or_misapply(app, client, scheduled, secret, kind):
    raw = ODD[kind]
    response = _post(client, raw, signed_headers(secret, raw))
    assert response.status_code in (200, 400), response.data
    assert response.is_json
    assert meeting_of(app, scheduled).status == "scheduled"


@pytest.mark.parametrize("size", [MAX_BODY + 1, 10 * MAX_BODY, 2 * 1024 * 1024])
def test_oversize_bodies_are_refused_unread(app, client, scheduled, secret, size):
    body = meeting_event("meeting.started", meeting_id=MEETING_ID)
    body["payload"]["object"]["agenda"] = "x" * size
    raw = compact(body)
    before = snapshot(app)
    response = _post(client, raw, signed_headers(secret, raw))
    assert response.status_code == 413
    assert snapshot(app) == before


def test_an_oversize_chunked_body_is_refused(app, scheduled, secret):
    """No Content-Length to go by: the limit must hold while reading."""
    raw = compact({**meeting_event("meeting.started", meeting_id=MEETING_ID),
                   "padding": "x" * (MAX_BODY + 10)})
    before = snapshot(app)
    environ = {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
    response = app.test_client().open(URL, method="POST", input_stream=io.BytesIO(raw),
                                      headers=signed_headers(secret, raw),
                                      content_type="application/json",
                                      environ_overrides=environ)
    assert response.status_code == 413
    assert snapshot(app) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_signed_event_is_read_from_the_raw_body_whatever_its_content_type(
        app, client, scheduled, secret, content_type):
    """The signature covers the raw bytes; a form-looking content type must not make the app
    parse (and lose) them."""
    raw = _started()
    response = _post(client, raw, signed_headers(secret, raw), content_type=content_type)
    assert response.status_code in (200, 400, 415)
    assert response.status_code != 401


def test_url_validation_answers_only_a_signed_challenge(app, client, secret):
    raw = compact({"event": "endpoint.url_validation",
                   "payload": {"plainToken": "challenge-123"}})
    assert _post(client, raw, signed_headers("wrong", raw)).status_code == 401
    answer = _post(client, raw, signed_headers(secret, raw)).get_json()
    assert answer["plainToken"] == "challenge-123"
    assert secret not in json.dumps(answer)


def test_events_for_accounts_nobody_connected_change_nothing(app, client, scheduled, secret):
    raw = compact(meeting_event("meeting.deleted", meeting_id=MEETING_ID,
                                account_id="acct_Stranger"))
    assert _post(client, raw, signed_headers(secret, raw)).status_code == 200
    assert meeting_of(app, scheduled).status == "scheduled"
    assert ZOOM_ACCOUNT_ID != "acct_Stranger"
