"""make run's mail, with no setup: the sandbox's mail catcher takes what the worker sends,
and its Mail page shows each message with the invitation downloadable."""

from __future__ import annotations

import re

import pytest

from dashboard.sandbox import mail_catcher
from dashboard.sandbox.storage import mail
from tests.booking_builders import drain, new_booking
from tests.live_server import free_port
from tests.mail_builders import email_customers, event_of, send_mail
from tests.zoom_builders import FakeZoom, endpoints, store_connection


@pytest.fixture
def zoom(zoom, app) -> FakeZoom:
    return FakeZoom(zoom, endpoints(app).api_base_url, endpoints(app).token_url)


@pytest.fixture
def catcher(app, monkeypatch):
    engine = app.extensions["zoom_sandbox"].engine
    with engine.begin() as conn:
        conn.execute(mail.delete())
    port = free_port()
    started = mail_catcher.start(engine, port)
    assert started is not None
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
    yield started
    started.stop()
    with engine.begin() as conn:
        conn.execute(mail.delete())


def test_the_customers_invitation_shows_in_the_sandbox_mailbox(app, client, world, zoom,
                                                               catcher):
    with app.app_context():
        store_connection(world.acme.id)
    email_customers(app, world.acme.id)
    new_booking(app, world.acme.id)
    drain(app)
    assert send_mail(app) == 1

    page = client.get("/zoom-sandbox/mail").get_data(as_text=True)
    assert "ana@example.test" in page and "Invitation: Consultation with Ana" in page
    [link] = re.findall(r'href="(/zoom-sandbox/mail/\d+)"', page)
    detail = client.get(link).get_data(as_text=True)
    assert "Join on Zoom: https://" in detail and "invitation.ics" in detail
    [download] = re.findall(r'href="(/zoom-sandbox/mail/\d+/attachments/0)"', detail)
    response = client.get(download)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="invitation.ics"'
    assert event_of(response.get_data())[0] == "REQUEST"
    assert client.get(link + "/attachments/5").status_code == 404
    assert client.get("/zoom-sandbox/mail/999999").status_code == 404


def test_the_same_message_sent_again_is_one_message_delivered_twice(app, catcher):
    engine = app.extensions["zoom_sandbox"].engine
    raw = (b"Message-ID: <same@lakesis>\r\nSubject: Hello\r\nFrom: a@b.test\r\n"
           b"To: c@d.test\r\n\r\nHi\r\n")
    first = mail_catcher.store(engine, raw, "a@b.test", ["c@d.test"])
    assert mail_catcher.store(engine, raw, "a@b.test", ["c@d.test"]) == first
    with engine.begin() as conn:
        [row] = mail_catcher.all_messages(conn)
    assert row["deliveries"] == 2 and row["subject"] == "Hello"


def test_an_empty_mailbox_says_how_to_fill_it(client, catcher):
    page = client.get("/zoom-sandbox/mail").get_data(as_text=True)
    assert "No mail yet" in page and "Settings &gt; Integrations" in page
