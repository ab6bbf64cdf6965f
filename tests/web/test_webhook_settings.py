"""Settings > Webhooks: admins add, change, rotate, pause and delete endpoints (audited);
the secret is shown once; bad URLs are refused with a message naming the field."""

from __future__ import annotations

import re
import socket

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from dashboard.services import booking_events, endpoint_urls
from dashboard.services.webhook_endpoints import EVENT_TYPES

URL = "https://workflow.example.test/hooks"


def _add(client, url: str = URL, types=("meeting.ready", "meeting.changed"), **kwargs):
    return client.post("/settings/webhooks", data={"url": url, "event_types": list(types)},
                       **kwargs)


def _endpoint(app) -> WebhookEndpoint:
    with app.app_context():
        endpoint = db.session.scalars(select(WebhookEndpoint)).one()
        db.session.expunge(endpoint)
        return endpoint


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("webhook_endpoint.%")).order_by(AuditEvent.id)))


def _secret(page: bytes) -> str | None:
    found = re.search(rb'id="webhook-secret">([^<]+)<', page)
    return found.group(1).decode() if found else None


def test_an_added_endpoint_shows_its_secret_once_after_the_redirect(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = _add(client)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    secret = _secret(page.data)
    assert secret and secret.startswith("whsec_")
    again = client.get(response.headers["Location"])
    assert _secret(again.data) is None and secret.encode() not in again.data
    assert secret.encode() not in client.get("/settings/webhooks").data
    endpoint = _endpoint(app)
    assert endpoint.types == ["meeting.ready", "meeting.changed"] and endpoint.url == URL
    assert secret not in endpoint.secret_enc
    assert _actions(app) == ["webhook_endpoint.created"]


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://workflow.example.test/hooks", "must start with https://"),
    ("javascript:alert(1)", "must start with https://"),
    ("workflow.example.test/hooks", "must start with https://"),
    ("https://", "must name a host"),
    ("https://user:pw@workflow.example.test/hooks", "user name or password"),
    ("http://localhost/hooks", "this Lakesis dashboard itself"),
    ("http://127.0.0.1:80/api/v1/bookings", "this Lakesis dashboard itself"),
    ("", "Enter the URL"),
])
def test_bad_urls_are_refused_naming_the_field(app, client, auth, world, url, message):
    auth.sign_in_as(world.admin)
    response = _add(client, url)
    assert response.status_code == 422
    page = response.data.decode()
    assert message in page and 'id="url-error"' in page
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint)) is None


def test_the_apps_own_base_url_is_refused(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = _add(client, app.config["APP_BASE_URL"] + "/api/v1/bookings")
    assert response.status_code == 422 and b"this Lakesis dashboard itself" in response.data


def test_no_event_type_is_refused(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = _add(client, types=())
    assert response.status_code == 422 and b"Choose at least one event type" in response.data
    response = _add(client, types=("meeting.exploded",))
    assert response.status_code == 422


def _production(app, monkeypatch, addresses: list[str]) -> None:
    monkeypatch.setitem(app.config, "LAKESIS_ENV", "production")
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kw: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses])


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.7", "127.0.0.1", "::1",
                                     "fd00:ec2::254", "192.168.1.20", "0.0.0.0"])  # noqa: S104
def test_production_refuses_hosts_that_resolve_inside_the_network(app, monkeypatch, address):
    _production(app, monkeypatch, ["93.184.215.14", address])
    with pytest.raises(endpoint_urls.BadUrl, match="internal address"):
        endpoint_urls.check(URL, production=True, own_urls=())


def test_production_wants_https_and_a_public_host(app, client, auth, world, monkeypatch):
    auth.sign_in_as(world.admin)
    _production(app, monkeypatch, ["169.254.169.254"])
    response = _add(client, "http://workflow.example.test/hooks")
    assert response.status_code == 422 and b"https:// in production" in response.data
    response = _add(client)
    assert response.status_code == 422 and b"internal address" in response.data
    _production(app, monkeypatch, ["93.184.215.14"])
    assert _add(client).status_code == 303


def test_production_refuses_a_host_that_later_resolves_inside(app, monkeypatch):
    from dashboard.services import webhook_delivery

    _production(app, monkeypatch, ["10.1.2.3"])
    with app.app_context():
        sent = webhook_delivery._post(URL, "{}", {})
    assert not sent.delivered and "internal address" in sent.error


def test_types_rotate_pause_resume_and_delete_are_audited(app, client, auth, world):
    auth.sign_in_as(world.admin)
    _add(client)
    endpoint = _endpoint(app)
    base = f"/settings/webhooks/{endpoint.id}"
    client.get(base)  # the first view shows (and spends) the secret
    assert client.post(f"{base}/types", data={"event_types": ["meeting.failed"]}
                       ).status_code == 303
    assert _endpoint(app).types == ["meeting.failed"]
    response = client.post(f"{base}/rotate")
    assert response.status_code == 303
    page = client.get(base)
    new = _secret(page.data)
    assert new and b"previous secret also signs until" in page.data
    assert _secret(client.get(base).data) is None
    assert _endpoint(app).previous_secret_enc == endpoint.secret_enc
    client.post(f"{base}/pause")
    assert _endpoint(app).state == "paused"
    with app.app_context():
        booking_events.record(world.acme.id, "meeting.failed", {"cause": "x"})
        db.session.commit()
        assert db.session.scalar(select(WebhookDelivery)) is None  # paused: none queued
    client.post(f"{base}/resume")
    assert _endpoint(app).state == "active"
    assert client.post(f"{base}/delete").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint)) is None
    assert _actions(app) == ["webhook_endpoint.created", "webhook_endpoint.types_changed",
                             "webhook_endpoint.secret_rotated", "webhook_endpoint.paused",
                             "webhook_endpoint.resumed", "webhook_endpoint.deleted"]


def test_replay_needs_an_event_id_or_a_whole_range(app, client, auth, world):
    auth.sign_in_as(world.admin)
    _add(client, types=EVENT_TYPES)
    endpoint = _endpoint(app)
    base = f"/settings/webhooks/{endpoint.id}/replay"
    response = client.post(base, data={"since": "2026-12-01T10:00"})
    assert response.status_code == 422 and b"both ends of a time range" in response.data
    response = client.post(base, data={"event_id": "evt_nope"})
    assert response.status_code == 422 and b"No event with this id" in response.data
    response = client.post(base, data={"since": "2026-12-01T10:00", "until": "2026-12-01T09:00"})
    assert response.status_code == 422 and b"must come after its start" in response.data
    with app.app_context():
        event = booking_events.record(world.acme.id, "meeting.failed", {"cause": "x"})
        db.session.commit()
        key = event.key
    assert client.post(base, data={"event_id": key}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(WebhookDelivery)) == 2
    assert "webhook_endpoint.replayed" in _actions(app)


def test_the_delivery_log_pages(app, client, auth, world):
    from dashboard.models import DeliveryAttempt
    from dashboard.services import webhook_endpoints

    auth.sign_in_as(world.admin)
    _add(client, types=EVENT_TYPES)
    endpoint = _endpoint(app)
    with app.app_context():
        booking_events.record(world.acme.id, "meeting.failed", {"cause": "x"})
        db.session.commit()
        delivery = db.session.scalar(select(WebhookDelivery))
        for n in range(webhook_endpoints.LOG_PAGE + 3):
            db.session.add(DeliveryAttempt(endpoint_id=endpoint.id, delivery_id=delivery.id,
                                           attempt=n + 1, delivered=False, status_code=500,
                                           latency_ms=n, error=f"attempt-{n + 1}-failed"))
        db.session.commit()
    first = client.get(f"/settings/webhooks/{endpoint.id}").data.decode()
    assert "attempt-28-failed" in first and "attempt-3-failed" not in first
    older = re.search(r'href="([^"]+before=\d+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).data.decode()
    assert "attempt-3-failed" in second and "attempt-4-failed" not in second


@pytest.mark.parametrize("role", ["operator", "support"])
def test_only_admins_reach_webhooks(app, client, auth, world, role):
    auth.sign_in_as(getattr(world, role))
    assert client.get("/settings/webhooks").status_code == 403
    assert _add(client).status_code == 403
    assert b"Webhooks" not in client.get("/").data


def test_changes_need_the_csrf_token(app, client, auth, world):
    auth.sign_in_as(world.admin)
    assert _add(client, csrf=False).status_code == 400
    _add(client)
    endpoint = _endpoint(app)
    for action in ("rotate", "pause", "delete", "types", "replay"):
        assert client.post(f"/settings/webhooks/{endpoint.id}/{action}",
                           csrf=False).status_code == 400
    assert _endpoint(app).state == "active"
