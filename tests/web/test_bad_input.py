"""Hostile input gets a clear 4xx (JSON where the caller speaks JSON), never a 500, and
never a half-written record: Zoom's webhooks, the dashboard's filters, ids in URLs, NULs.

Run on SQLite and on PostgreSQL (``TEST_DATABASE_URL``): PostgreSQL refuses NUL in text and
``integer`` ids beyond 2^31 - 1, SQLite integers beyond 2^63 - 1.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from dashboard.extensions import db
from dashboard.models import (
    ApiKey,
    AuditEvent,
    Booking,
    Meeting,
    Operation,
    WebhookEvent,
    Workspace,
)
from dashboard.orm import utcnow
from dashboard.services import webhook_events
from dashboard.services.audit import Actor, record
from tests.booking_builders import add_booking
from tests.zoom_builders import (
    ZOOM_ACCOUNT_ID,
    compact,
    deauthorized_event,
    meeting_event,
    signed_headers,
    store_connection,
)

WEBHOOK = "/webhooks/zoom"
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


@pytest.fixture
def secret(app) -> str:
    return app.config["ZOOM_WEBHOOK_SECRET_TOKEN"]


def _post_webhook(client, raw: bytes, headers: dict[str, str]):
    response = client.post(WEBHOOK, data=raw, headers=headers,
                           content_type="application/json", csrf=False)
    response.close()  # runs what is queued for after the answer, as a real server does
    return response


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(WebhookEvent))


# --- Zoom's webhooks: refused before anything is stored ----------------------------------

def test_a_400_digit_timestamp_without_a_signature_is_a_401_in_json(app, client, zoom):
    raw = compact(meeting_event())
    response = _post_webhook(client, raw, {"x-zm-request-timestamp": "9" * 400,
                                           "x-zm-signature": "v0=" + "0" * 64})
    assert response.status_code == 401
    assert response.is_json and "error" in response.get_json()
    assert _stored(app) == 0


def _nested(depth: int) -> bytes:
    return (b'{"event":"meeting.started","payload":{"object":' + b"[" * depth + b"]" * depth
            + b"}}")


# Each is signed with the right secret: only its shape or range is wrong.
HOSTILE_EVENTS = {
    "nested 5000 deep": _nested(5000),
    "a list 5000 deep": b"[" * 5000 + b"]" * 5000,
    "event_ts 10**30": compact({**meeting_event(), "event_ts": 10**30}),
    "event_ts 2**63": compact({**meeting_event(), "event_ts": 2**63}),
    "event_ts negative": compact({**meeting_event(), "event_ts": -1}),
    "NUL in the event name": compact({**meeting_event(), "event": "meeting.\x00started"}),
    "meeting id 2**63": compact(meeting_event(meeting_id=2**63)),
    "meeting id 2**64 as a number": compact(
        {**meeting_event(), "payload": {"account_id": ZOOM_ACCOUNT_ID,
                                        "object": {"id": 2**64}}}),
    "duration 2**31": compact(meeting_event("meeting.updated", duration=2**31)),
    "duration 10**12": compact(meeting_event("meeting.updated", duration=10**12)),
    "start time past the last UTC year": compact(
        meeting_event("meeting.updated", start_time="9999-12-31T23:00:00-05:00")),
    "start time before year one": compact(
        meeting_event("meeting.updated", start_time="0001-01-01T00:00:00+01:00")),
    "NUL in the account id": compact(meeting_event(account_id="acct\x00")),
    "NUL in the time zone": compact(meeting_event("meeting.updated", timezone="Europe/\x00")),
    "NUL in the operator id": compact(
        {**meeting_event("meeting.updated"), "payload": {
            **meeting_event()["payload"], "operator_id": "zu_\x00"}}),
    "operator id an object": compact(
        {**meeting_event("meeting.updated"), "payload": {
            **meeting_event()["payload"], "operator_id": {"id": "zu_1"}}}),
    "NUL in the deauthorized user id": compact(deauthorized_event(user_id="zu_\x00")),
    "deauthorization time past the last UTC year": compact(
        {**deauthorized_event(), "payload": {**deauthorized_event()["payload"],
                                             "deauthorization_time": "9999-12-31T23:00-05:00"}}),
}


@pytest.mark.parametrize("raw", HOSTILE_EVENTS.values(), ids=HOSTILE_EVENTS.keys())
def test_a_signed_event_of_the_wrong_shape_or_range_is_a_400_and_not_stored(
        app, client, secret, zoom, raw):
    response = _post_webhook(client, raw, signed_headers(secret, raw))
    assert response.status_code == 400, response.data
    assert response.is_json and response.get_json()["error"]
    assert _stored(app) == 0


def test_the_largest_values_zoom_can_send_are_still_applied(app, client, secret, world, zoom):
    """The range checks stop at what the columns hold, not before."""
    with app.app_context():
        store_connection(world.acme.id)
        add_booking(world.acme.id, "edge", zoom_id=INT64_MAX)
    body = meeting_event("meeting.started", meeting_id=INT64_MAX)
    body["event_ts"] = INT64_MAX
    raw = compact(body)
    assert _post_webhook(client, raw, signed_headers(secret, raw)).status_code == 200
    with app.app_context():
        meeting = db.session.scalar(select(Meeting))
        assert (meeting.status, meeting.last_event_ts) == ("started", INT64_MAX)


# --- one event that cannot be applied never holds back the others -----------------------

def _store_rows(app, *bodies: dict) -> list[int]:
    with app.app_context():
        rows = [WebhookEvent(event=body["event"], dedupe_key=f"key-{index}",
                             event_ts=body.get("event_ts"),
                             zoom_account_id=body["payload"].get("account_id"),
                             payload=body["payload"]) for index, body in enumerate(bodies)]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def _failing_at_flush(row, event) -> str:
    # A failure the database itself raises at commit (a NOT NULL column), on every backend:
    # the kind that once left the session broken and the sweep stuck on this event.
    row.event = None
    return "never written"


def test_an_event_that_fails_is_marked_failed_once_and_the_next_ones_are_applied(
        app, world, monkeypatch, caplog):
    from dashboard.zoom.webhooks import Deauthorization

    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=1))
        add_booking(world.acme.id, "started", zoom_id=81047304804)
    broken, ok = _store_rows(app, deauthorized_event(), meeting_event("meeting.started"))
    monkeypatch.setitem(webhook_events.HANDLERS, Deauthorization, _failing_at_flush)

    with app.app_context(), caplog.at_level(logging.WARNING):
        assert webhook_events.apply_pending() == 2
        assert webhook_events.apply_pending() == 0  # never tried again every sweep
        db.session.remove()

    with app.app_context():
        failed, applied = (db.session.get(WebhookEvent, broken),
                           db.session.get(WebhookEvent, ok))
        assert failed.processed_at is not None
        assert failed.outcome.startswith("failed: IntegrityError")
        assert applied.outcome == "meeting started"
        assert db.session.scalar(select(Meeting.status)) == "started"
    warnings = [r for r in caplog.records if "could not be applied" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is None  # one line, no traceback


def test_an_event_that_fails_while_answering_zoom_is_still_answered(
        app, client, secret, world, zoom, monkeypatch):
    from dashboard.zoom.webhooks import Deauthorization

    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=1))
    monkeypatch.setitem(webhook_events.HANDLERS, Deauthorization, _failing_at_flush)
    raw = compact(deauthorized_event())
    assert _post_webhook(client, raw, signed_headers(secret, raw)).status_code == 200
    # The same session serves the next request: nothing of the failure is left in it.
    raw = compact(meeting_event("meeting.ended"))
    assert _post_webhook(client, raw, signed_headers(secret, raw)).status_code == 200
    with app.app_context():
        rows = list(db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
        assert rows[0].processed_at is None  # pending: the sweep applies it, or marks it
        assert rows[1].outcome.startswith("ignored")


# --- the dashboard's date filters ----------------------------------------------------------

@pytest.mark.parametrize("query,shown", [
    ("until=9999-12-31", True), ("since=9999-12-31&until=9999-12-31", False),
    ("since=0001-01-01", True), ("since=0001-01-01&until=0001-01-01", False),
])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "Pacific/Pago_Pago"])
def test_the_bookings_filter_takes_the_first_and_last_dates_there_are(
        app, client, auth, world, query, shown, zone):
    with app.app_context():
        db.session.get(Workspace, world.acme.id).timezone = zone
        db.session.commit()
        add_booking(world.acme.id, "soon", title="Soon with Ana")
    auth.sign_in_as(world.operator)
    response = client.get(f"/bookings?{query}")
    assert response.status_code == 200
    assert ("Soon with Ana" in response.data.decode()) == shown


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=9999-12-31", "since=0001-01-01",
                                   "until=0001-01-01"])
def test_the_audit_filter_takes_the_first_and_last_dates_there_are(
        app, client, auth, world, query):
    with app.app_context():
        record(world.acme.id, Actor.system(), "member.added", ("member", 1, "ana@acme.test"))
        db.session.commit()
    auth.sign_in_as(world.admin)
    response = client.get(f"/audit?{query}")
    assert response.status_code == 200
    assert ("ana@acme.test" in response.data.decode()) == (query in ("until=9999-12-31",
                                                                     "since=0001-01-01"))


@pytest.mark.parametrize("before", [str(INT32_MAX + 1), str(2**64), "9" * 5000, "-1", "x"])
def test_the_audit_page_cursor_beyond_any_id_is_the_first_page(
        app, client, auth, world, before):
    with app.app_context():
        record(world.acme.id, Actor.system(), "member.added", ("member", 1, "ana@acme.test"))
        db.session.commit()
    auth.sign_in_as(world.admin)
    response = client.get(f"/audit?before={before}")
    assert response.status_code == 200
    assert "ana@acme.test" in response.data.decode()


# --- ids in URLs -------------------------------------------------------------------------

def _id_routes(app):
    """(method, path template, name) of every dashboard route with an integer id in it."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("zoom_sandbox."):
            continue  # Zoom's meeting ids are 64-bit; the sandbox has its own tests
        names = [name for name, converter in rule._converters.items()
                 if isinstance(converter, IntegerConverter)]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if names:
                yield method, rule.rule, names


@pytest.mark.parametrize("number", [str(INT32_MAX + 1), str(INT64_MAX), str(2**64), "9" * 5000],
                         ids=["2^31", "2^63-1", "2^64", "5000 digits"])
def test_an_id_beyond_any_row_is_a_404_on_every_route(app, client, auth, world, number):
    routes = list(_id_routes(app))
    assert len(routes) >= 10  # bookings, their actions, API keys, members
    auth.sign_in_as(world.admin)
    for method, template, names in routes:
        path = template
        for name in names:
            path = path.replace(f"<int:{name}>", number)
        response = client.open(path, method=method, headers={
            "HX-Request": "true", "X-CSRFToken": client.csrf_token()})
        assert response.status_code == 404, (method, path[:80], response.status_code)


def test_ids_within_the_range_still_reach_their_rows(app, client, auth, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "visible")
    auth.sign_in_as(world.operator)
    assert client.get(f"/bookings/{booking_id}").status_code == 200
    assert client.get(f"/bookings/{INT32_MAX}").status_code == 404  # the largest id: no row


# --- NUL (and other control characters) in what people type ---------------------------

NUL = "a\x00b"


@pytest.mark.parametrize("query", [
    {"q": NUL}, {"status": NUL}, {"since": "2026-01-01\x00"}, {"cursor": NUL},
    {"q": "\x1b[31mred"},
], ids=["search", "status", "date", "cursor", "escape"])
def test_a_nul_in_the_bookings_filter_is_a_form_error(app, client, auth, world, query):
    auth.sign_in_as(world.operator)
    response = client.get("/bookings", query_string=query)
    assert response.status_code == 422


@pytest.mark.parametrize("query", [{"actor": NUL}, {"action": NUL}, {"before": "1\x00"}],
                         ids=["actor", "action", "before"])
def test_a_nul_in_the_audit_filter_is_a_form_error(app, client, auth, world, query):
    auth.sign_in_as(world.admin)
    response = client.get("/audit", query_string=query)
    assert response.status_code in (200, 422)
    if "before" not in query:
        assert response.status_code == 422
        assert "control characters" in response.data.decode()


def test_a_nul_in_an_api_key_name_is_a_form_error_and_nothing_is_stored(
        app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/api-keys", data={"name": NUL})
    assert response.status_code == 422
    assert "control characters" in response.data.decode()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("query", [{"state": NUL, "code": "c"}, {"state": "s", "code": NUL},
                                   {"state": "s", "error": NUL}])
def test_a_nul_in_the_oauth_callback_is_refused_not_a_crash(client, auth, world, zoom, query):
    auth.sign_in_as(world.admin)
    response = client.get("/settings/integrations/zoom/callback", query_string=query)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        page = client.get(response.headers["Location"]).data.decode()
        assert "no longer valid" in page


# --- what the dashboard's forms take as text (item 9) -------------------------------------

BIDI = "Europe/Lisbon\u202e"


def test_an_api_key_name_with_a_bidi_override_is_a_form_error(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/api-keys", data={"name": "billing \u202egnp.exe"})
    assert response.status_code == 422
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in response.data.decode()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


@pytest.mark.parametrize("zone", [BIDI, "Europe/Lisbon\x00", "Europe/\u200bLisbon"])
def test_a_reschedule_in_a_disguised_time_zone_is_a_form_error(app, client, auth, world, zone):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "moving")
    auth.sign_in_as(world.operator)
    day = (utcnow() + timedelta(days=5)).date().isoformat()
    response = client.post(f"/bookings/{booking_id}/reschedule", data={
        "date": day, "time": "10:00", "duration_minutes": "30", "timezone": zone})
    assert response.status_code == 422
    assert "Must not contain control characters" in response.data.decode()
    with app.app_context():
        assert db.session.get(Booking, booking_id).timezone == "Europe/Lisbon"
        assert db.session.scalar(select(func.count()).select_from(Operation)) == 0


@pytest.mark.parametrize("zone", [BIDI, "Europe/Lisbon\x00"])
def test_meeting_defaults_in_a_disguised_time_zone_are_a_form_error(
        app, client, auth, world, zone):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/integrations/meeting-defaults", data={
        "default_duration_minutes": "30", "timezone": zone})
    assert response.status_code == 422
    assert "Must be a time zone such as Europe/Lisbon" in response.data.decode()
    with app.app_context():
        assert db.session.get(Workspace, world.acme.id).timezone != zone
