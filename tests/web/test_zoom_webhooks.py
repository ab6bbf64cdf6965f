"""POST /webhooks/zoom: signed by Zoom, stored once, answered at once, applied after the
answer; ``app_deauthorized`` ends the connection and forgets the Zoom user's data."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import AuditEvent, Booking, ConnectionStatus, WebhookEvent
from dashboard.orm import utcnow
from tests.booking_builders import add_booking, apply_webhooks
from tests.zoom_builders import (
    ZOOM_ACCOUNT_ID,
    ZOOM_EMAIL,
    ZOOM_USER_ID,
    audit_event,
    compact,
    connection_of,
    deauthorized_event,
    endpoints,
    meeting_event,
    signed_headers,
    store_connection,
)

URL = "/webhooks/zoom"
MARKETPLACE_REASON = "Removed in the Zoom App Marketplace"


@pytest.fixture
def secret(app) -> str:
    return app.config["ZOOM_WEBHOOK_SECRET_TOKEN"]


def _post(client, raw: bytes, headers: dict[str, str], **kwargs):
    return client.post(URL, data=raw, headers=headers, content_type="application/json",
                       csrf=False, **kwargs)


def _deliver(client, secret: str, body: dict, **kwargs):
    """Send ``body`` the way Zoom does, then apply what was stored, as the worker's next
    loop does."""
    raw = compact(body)
    response = _post(client, raw, signed_headers(secret, raw), **kwargs)
    response.close()
    apply_webhooks(client.application)
    return response


def _events(app) -> list[WebhookEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
        db.session.expunge_all()
        return rows


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(WebhookEvent))


def test_a_valid_event_is_answered_and_stored_once(app, client, secret, zoom):
    raw = compact(meeting_event("meeting.started"))
    response = _post(client, raw, signed_headers(secret, raw))
    assert response.status_code == 200
    assert response.get_json() == {"status": "received"}
    response.close()
    [event] = _events(app)
    assert event.event == "meeting.started"
    assert event.dedupe_key == hashlib.sha256(raw).hexdigest()
    assert event.zoom_account_id == ZOOM_ACCOUNT_ID
    assert event.payload["object"]["id"] == "81047304804"
    assert event.processed_at is None  # applied by the worker, not while Zoom waits
    assert apply_webhooks(app) == 1
    [event] = _events(app)
    assert event.processed_at is not None and event.outcome.startswith("ignored: no booking")


def test_a_marketplace_removal_is_applied_before_the_answer(app, client, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=1))
    raw = compact(deauthorized_event())
    response = _post(client, raw, signed_headers(secret, raw))
    assert response.status_code == 200
    [event] = _events(app)
    assert event.processed_at is not None
    with app.app_context():
        assert connection_of(world.acme.id).status == ConnectionStatus.DISCONNECTED


def test_an_event_that_fails_to_apply_is_kept_and_applied_later(
        app, client, secret, world, zoom, monkeypatch):
    from dashboard.services import webhook_events
    from dashboard.zoom.webhooks import Deauthorization

    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=1))
    broken = dict(webhook_events.HANDLERS)
    broken[Deauthorization] = lambda row, event: 1 / 0
    monkeypatch.setattr(webhook_events, "HANDLERS", broken)
    raw = compact(deauthorized_event())
    response = _post(client, raw, signed_headers(secret, raw))
    assert response.status_code == 200  # Zoom is answered all the same: the event is stored
    [event] = _events(app)
    assert event.processed_at is None
    with app.app_context():
        assert connection_of(world.acme.id).status == ConnectionStatus.CONNECTED
    monkeypatch.undo()
    with app.app_context():
        assert webhook_events.apply_pending() == 1  # what `flask zoom worker` sweeps up
    [event] = _events(app)
    assert event.processed_at is not None
    with app.app_context():
        assert connection_of(world.acme.id).status == ConnectionStatus.DISCONNECTED


def test_a_replayed_body_is_a_duplicate_and_stored_once(app, client, secret, zoom):
    raw = compact(meeting_event("meeting.ended", end_time="2026-12-01T10:30:00Z"))
    first = _post(client, raw, signed_headers(secret, raw))
    first.close()
    # Zoom's retry: the same bytes, signed again a minute later.
    again = _post(client, raw, signed_headers(secret, raw, timestamp=int(time.time()) + 60))
    again.close()
    assert again.status_code == 200
    assert again.get_json() == {"status": "duplicate"}
    assert _count(app) == 1


@pytest.mark.parametrize("headers", [
    {"x-zm-signature": "v0=" + "0" * 64},
    {"x-zm-signature": "v0=deadbeef"},
    {"x-zm-signature": ""},
], ids=["wrong-digest", "short", "empty"])
def test_a_bad_signature_is_refused_and_nothing_stored(app, client, secret, zoom, headers):
    raw = compact(meeting_event())
    response = _post(client, raw, {**signed_headers(secret, raw), **headers})
    assert response.status_code == 401
    assert response.get_json() == {"error": "invalid signature or stale timestamp"}
    assert _count(app) == 0


def test_a_body_signed_with_another_secret_or_changed_after_signing_is_refused(
        app, client, secret, zoom):
    raw = compact(meeting_event())
    assert _post(client, raw, signed_headers("not-our-secret", raw)).status_code == 401
    tampered = raw.replace(b"Consultation", b"Consultatiom")
    assert _post(client, tampered, signed_headers(secret, raw)).status_code == 401
    # Re-serialized JSON is not the body Zoom signed.
    spaced = json.dumps(json.loads(raw)).encode()
    assert _post(client, spaced, signed_headers(secret, raw)).status_code == 401
    assert _count(app) == 0


@pytest.mark.parametrize("offset", [-360, 360], ids=["six-minutes-old", "six-minutes-ahead"])
def test_a_stale_or_future_timestamp_is_refused(app, client, secret, zoom, offset):
    raw = compact(meeting_event())
    headers = signed_headers(secret, raw, timestamp=int(time.time()) + offset)
    assert _post(client, raw, headers).status_code == 401
    assert _count(app) == 0


def test_a_timestamp_within_the_window_is_accepted(app, client, secret, zoom):
    raw = compact(meeting_event())
    headers = signed_headers(secret, raw, timestamp=int(time.time()) - 240)
    assert _post(client, raw, headers).status_code == 200


@pytest.mark.parametrize("missing", [
    ["x-zm-signature"], ["x-zm-request-timestamp"],
    ["x-zm-signature", "x-zm-request-timestamp"],
], ids=["no-signature", "no-timestamp", "neither"])
def test_missing_signature_headers_are_refused(app, client, secret, zoom, missing):
    raw = compact(meeting_event())
    headers = {k: v for k, v in signed_headers(secret, raw).items() if k not in missing}
    assert _post(client, raw, headers).status_code == 401
    assert _count(app) == 0


def test_signed_malformed_json_is_a_bad_request(app, client, secret, zoom):
    for raw in (b'{"event": "meeting.started", ', b"[1, 2]", b'{"payload": {}}'):
        response = _post(client, raw, signed_headers(secret, raw))
        assert response.status_code == 400, raw
    assert _count(app) == 0


def test_a_body_over_64_kib_is_refused(app, client, secret, zoom):
    body = meeting_event(agenda="x" * (64 * 1024))
    raw = compact(body)
    response = _post(client, raw, signed_headers(secret, raw))
    assert response.status_code == 413
    assert _count(app) == 0


def test_url_validation_is_answered_with_the_hmac_of_the_plain_token(app, client, secret, zoom):
    plain = "qgg8vlvZRS6UYooatFL8Aw"
    body = {"event": "endpoint.url_validation", "event_ts": 1654503849680,
            "payload": {"plainToken": plain}}
    response = _deliver(client, secret, body)
    assert response.status_code == 200
    expected = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
    assert response.get_json() == {"plainToken": plain, "encryptedToken": expected}
    assert _count(app) == 0


def test_url_validation_must_be_signed_too(app, client, secret, zoom):
    raw = compact({"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}})
    assert _post(client, raw, {}).status_code == 401


def test_app_deauthorized_disconnects_and_forgets_the_zoom_user(
        app, client, auth, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=3),
                         connected_by_id=world.admin.id)

    response = _deliver(client, secret, deauthorized_event())

    assert response.status_code == 200
    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.status_reason == MARKETPLACE_REASON
        assert connection.access_token_enc is None and connection.refresh_token_enc is None
        assert connection.zoom_email is None and connection.zoom_name is None
        assert connection.zoom_user_id is None and connection.zoom_account_id is None
        event = audit_event(world.acme.id, "zoom.deauthorized")
        assert event.actor_type == "zoom" and event.details == {"user_data_retained": False}
        assert ZOOM_EMAIL not in json.dumps([event.target_label, event.details])
    [stored] = _events(app)
    assert stored.outcome == "disconnected 1 workspace(s)"
    assert stored.workspace_id == world.acme.id
    assert ZOOM_USER_ID not in json.dumps(stored.payload)
    assert stored.zoom_account_id is None
    assert len(zoom.calls) == 0  # the grant is gone already: nothing to revoke
    auth.sign_in_as(world.admin)
    page = client.get("/settings/integrations").data.decode()
    assert 'id="zoom-status">Not connected<' in page
    assert MARKETPLACE_REASON in page
    assert ZOOM_EMAIL not in page
    assert 'id="zoom-connect"' in page
    # A removal is red on Integrations, and says so on every page until someone reconnects.
    assert 'id="zoom-removed"' in page and 'class="banner banner-bad"' in page
    assert "Zoom was removed in the Marketplace" in client.get("/").data.decode()


def test_app_deauthorized_with_data_retention_keeps_the_zoom_ids(
        app, client, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=3))

    _deliver(client, secret, deauthorized_event(retention="true"))

    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.status_reason == MARKETPLACE_REASON
        assert connection.access_token_enc is None and connection.refresh_token_enc is None
        assert connection.zoom_email == ZOOM_EMAIL
        assert connection.zoom_user_id == ZOOM_USER_ID
        assert connection.zoom_account_id == ZOOM_ACCOUNT_ID
        assert audit_event(world.acme.id, "zoom.deauthorized").details == \
            {"user_data_retained": True}


def test_a_late_app_deauthorized_from_before_a_reconnect_is_ignored(
        app, client, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, access_token="access-after-reconnect",
                         connected_at=utcnow() - timedelta(minutes=5))

    _deliver(client, secret, deauthorized_event(when=utcnow() - timedelta(hours=2)))

    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status == ConnectionStatus.CONNECTED
        assert connection.access_token_enc is not None
        assert connection.zoom_email == ZOOM_EMAIL
    [stored] = _events(app)
    assert stored.outcome.startswith("ignored")


def test_app_deauthorized_for_another_zoom_user_leaves_the_connection_alone(
        app, client, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=1))
    _deliver(client, secret, deauthorized_event(user_id="zu_SomeoneElse"))
    with app.app_context():
        assert connection_of(world.acme.id).status == ConnectionStatus.CONNECTED
    [stored] = _events(app)
    assert stored.outcome.startswith("ignored")


def test_an_unknown_event_is_stored_and_ignored(app, client, secret, zoom):
    response = _deliver(client, secret, {"event": "recording.completed", "event_ts": 1,
                                         "payload": {"account_id": ZOOM_ACCOUNT_ID}})
    assert response.status_code == 200
    [stored] = _events(app)
    assert stored.event == "recording.completed"
    assert stored.outcome.startswith("ignored")
    assert stored.processed_at is not None


@pytest.mark.parametrize("event", ["meeting.created", "meeting.updated", "meeting.started"])
def test_a_meeting_event_is_stored_without_host_keys_emails_or_passwords(
        app, client, secret, zoom, event):
    body = meeting_event(event, start_url="https://zoom.us/s/81047304804?zak=HOST-KEY",
                         host_email="host@lake-clinic.test", password="pa55word",
                         join_url="https://zoom.us/j/81047304804?pwd=JOIN-PWD")
    body["payload"]["operator"] = "host@lake-clinic.test"
    body["payload"]["operator_id"] = ZOOM_USER_ID
    if event == "meeting.updated":
        body["payload"]["old_object"] = {"id": "81047304804", "password": "old-pa55word",
                                         "start_url": "https://zoom.us/s/1?zak=OLD-KEY"}
    _deliver(client, secret, body)
    [stored] = _events(app)
    text = json.dumps(stored.payload)
    for secret_part in ("start_url", "host_email", "password", "HOST-KEY", "OLD-KEY",
                        "pa55word", "JOIN-PWD", "host@lake-clinic.test"):
        assert secret_part not in text, secret_part
    assert stored.payload["object"]["id"] == "81047304804"


def test_the_endpoint_needs_no_csrf_token_and_never_uses_a_session(
        app, client, auth, secret, world, zoom, monkeypatch):
    loaded = []
    load_user = app.login_manager._user_callback
    monkeypatch.setattr(app.login_manager, "_user_callback",
                        lambda user_id: loaded.append(user_id) or load_user(user_id))
    auth.sign_in_as(world.admin)  # even with a signed-in browser's cookie present
    raw = compact(meeting_event())

    response = _post(client, raw, signed_headers(secret, raw))  # no X-CSRFToken header
    response.close()

    assert response.status_code == 200
    assert loaded == []  # nobody was signed in from the cookie
    assert "Set-Cookie" not in response.headers
    # A signed-in session does not stand in for Zoom's signature.
    assert _post(client, compact(meeting_event("meeting.ended")), {}).status_code == 401
    assert loaded == []
    client.get("/")  # while a page does read the session (the probe works)
    assert len(loaded) == 1  # the cookie names a server-side session, not the user id


def test_a_deauthorization_time_without_an_offset_is_read_as_utc(
        app, client, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=1))
    body = deauthorized_event()
    body["payload"]["deauthorization_time"] = utcnow().strftime("%Y-%m-%dT%H:%M:%S")

    _deliver(client, secret, body)

    with app.app_context():
        assert connection_of(world.acme.id).status == ConnectionStatus.DISCONNECTED
    [stored] = _events(app)
    assert stored.processed_at is not None


def test_the_deauthorization_after_our_own_disconnect_is_quiet(
        app, client, auth, secret, world, zoom):
    """Revoking uninstalls the app, and Zoom then sends ``app_deauthorized``: a workspace
    already disconnected keeps its story (who disconnected it) and gets no second entry."""
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=3))
    zoom.post(endpoints(app).revoke_url, json={"status": "success"})
    auth.sign_in_as(world.admin)
    client.post("/settings/integrations/zoom/disconnect")

    _deliver(client, secret, deauthorized_event())

    with app.app_context():
        connection = connection_of(world.acme.id)
        assert connection.status_reason == f"Disconnected by {world.admin.email}"
        assert connection.zoom_user_id is None  # the data Zoom asked to delete is gone
        assert "zoom.deauthorized" not in [e.action for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.workspace_id == world.acme.id))]
    [stored] = _events(app)
    assert stored.outcome.startswith("ignored: no connection")


def test_the_deauthorization_deletes_the_hosts_meeting_links_but_keeps_the_bookings(
        app, client, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=3))
        booking_id = add_booking(world.acme.id, "linked", zoom_id=81047304804)

    _deliver(client, secret, deauthorized_event())

    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        meeting = booking.meeting
        assert (meeting.zoom_meeting_id, meeting.join_url, meeting.start_url_enc) == (
            None, None, None)
        assert meeting.status == "failed" and "Zoom link was deleted" in meeting.note
        assert meeting.zoom_uuid is None
        assert booking.title == "Consultation with Ana"  # the booking's own history stays


def _meeting_events_of_the_host(client, secret) -> None:
    """What Zoom sent while connected: a change the host made, and the meeting starting."""
    changed = meeting_event("meeting.updated", duration=45)
    changed["payload"]["operator_id"] = ZOOM_USER_ID
    changed["payload"]["old_object"] = {"id": "81047304804", "duration": 30}
    _deliver(client, secret, changed)
    _deliver(client, secret, meeting_event("meeting.started"))


def test_app_deauthorized_without_retention_forgets_the_zoom_user_in_stored_events(
        app, client, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=3))
        add_booking(world.acme.id, "linked", zoom_id=81047304804)
    _meeting_events_of_the_host(client, secret)
    # Another host of the same Zoom account, whose events are theirs to keep.
    other = meeting_event("meeting.ended", meeting_id=81099999999)
    other["payload"]["operator_id"] = "zu_OtherHost"
    _deliver(client, secret, other)

    _deliver(client, secret, deauthorized_event())

    events = {event.event: event for event in _events(app)}
    assert len(events) == 4
    for name in ("meeting.updated", "meeting.started", "app_deauthorized"):
        stored = json.dumps(events[name].payload)
        assert ZOOM_USER_ID not in stored and "81047304804" not in stored, name
        assert ZOOM_ACCOUNT_ID not in stored and events[name].zoom_account_id is None, name
    assert events["meeting.updated"].payload["object"]["duration"] == 45  # what happened stays
    assert events["meeting.ended"].payload["operator_id"] == "zu_OtherHost"
    assert events["meeting.ended"].zoom_account_id == ZOOM_ACCOUNT_ID


def test_app_deauthorized_with_retention_keeps_the_stored_events_as_they_were(
        app, client, secret, world, zoom):
    with app.app_context():
        store_connection(world.acme.id, connected_at=utcnow() - timedelta(days=3))
        add_booking(world.acme.id, "linked", zoom_id=81047304804)
    _meeting_events_of_the_host(client, secret)

    _deliver(client, secret, deauthorized_event(retention="true"))

    events = {event.event: event for event in _events(app)}
    assert events["meeting.updated"].payload["operator_id"] == ZOOM_USER_ID
    assert events["meeting.started"].payload["object"]["id"] == "81047304804"
    assert events["app_deauthorized"].payload["user_id"] == ZOOM_USER_ID


# --- the receiver in front of the app (dashboard/webhooks/receiver.py) ------------------


def test_the_answer_carries_the_security_headers_and_the_request_id(app, client, secret, zoom):
    raw = compact(meeting_event())
    sent = _post(client, raw, signed_headers(secret, raw) | {"X-Request-ID": "proxy-id.1"})
    made = _post(client, compact(meeting_event("meeting.ended")), {})
    for response in (sent, made):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert sent.headers["X-Request-ID"] == "proxy-id.1"
    assert len(made.headers["X-Request-ID"]) == 32  # made up: the 401 had none sent
    assert made.status_code == 401 and made.get_json() == {
        "error": "invalid signature or stale timestamp"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_another_method_is_a_json_405_naming_post(client, method):
    response = client.open(URL, method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.get_json() == {"error": "This address does not accept that method."}


def test_another_address_under_webhooks_is_still_the_apps_json_404(client):
    response = client.post("/webhooks/zoom/extra", data=b"{}", csrf=False)
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_a_failure_while_storing_is_a_json_500_logged_with_the_request_id(
        app, client, secret, zoom, monkeypatch, capsys):
    from dashboard import log_format
    from dashboard.services import webhook_events

    def broken(*_args):
        raise RuntimeError("database went away")

    log_format.install_handler("json")  # Alembic's fileConfig may have replaced it
    monkeypatch.setattr(webhook_events, "store", broken)
    raw = compact(meeting_event())
    capsys.readouterr()
    response = _post(client, raw, signed_headers(secret, raw) | {"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.get_json() == {"error": "Something went wrong on our side. It has been logged."}
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    [logged] = [line for line in lines if line["logger"] == "dashboard.webhooks.receiver"]
    assert logged["request_id"] == "req-500" and "database went away" in logged["exc_info"]
    assert _count(app) == 0


def test_the_receiver_sits_inside_proxy_fix(tmp_path):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from dashboard import create_app

    app = create_app({"LAKESIS_ENV": "testing", "TRUSTED_PROXY_HOPS": 1,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert isinstance(app.wsgi_app, ProxyFix)
    assert type(app.wsgi_app.app).__name__ == "_Receiver"
