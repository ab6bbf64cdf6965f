"""As a new user would see it under make run: Zoom connected through the sandbox, customer
email on, a booking made and rescheduled through the API; the worker thread makes the
meeting and mails the invitation and its update to the sandbox's mail catcher."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from dashboard.orm import utcnow
from dashboard.sandbox import mail_catcher
from dashboard.sandbox.storage import mail
from dashboard.services import worker
from tests.api.api_client import ApiClient
from tests.live_server import free_port
from tests.mail_builders import api_key, email_customers, event_of

pytestmark = pytest.mark.usefixtures("sandbox")


@pytest.fixture
def catcher(app, monkeypatch):
    engine = app.extensions["zoom_sandbox"].engine
    port = free_port()
    started = mail_catcher.start(engine, port)
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
    yield engine
    started.stop()
    with engine.begin() as conn:
        conn.execute(mail.delete())


def _mailbox(engine, count: int, timeout: float = 20.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        with engine.begin() as conn:
            messages = mail_catcher.all_messages(conn)
        if len(messages) >= count or time.monotonic() > deadline:
            return list(reversed(messages))
        time.sleep(0.1)


def _sequence(engine, mail_id: int) -> int:
    with engine.begin() as conn:
        raw = mail_catcher.one_message(conn, mail_id)["raw"]
    [ics] = mail_catcher.attachments_of(mail_catcher.parse(raw))
    return int(event_of(ics.data)[1]["SEQUENCE"])


def test_the_worker_mails_the_invitation_and_its_update(app, connected, catcher):
    email_customers(app, connected.acme.id)
    api = ApiClient(app, api_key(app, connected.acme.id))
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    created = api.post("bookings", json={
        "external_ref": "crm-1", "title": "Consultation", "start_time": start.isoformat(),
        "duration_minutes": 30, "timezone": "Europe/Lisbon",
        "customer": {"name": "Ana Silva", "email": "ana@example.test"}}).get_json()
    stop = worker.start_thread(app, poll_seconds=0.05)
    try:
        [invite] = _mailbox(catcher, 1)
        assert invite["rcpt_tos"] == "ana@example.test"
        assert invite["subject"].startswith("Invitation: Consultation")
        assert _sequence(catcher, invite["id"]) == 0
        later = (start + timedelta(hours=1)).isoformat()
        assert api.patch(f"bookings/{created['id']}", json={"start_time": later}
                         ).status_code == 200
        first, update = _mailbox(catcher, 2)
        assert update["subject"].startswith("Updated invitation: Consultation")
        assert _sequence(catcher, update["id"]) == 1
        assert [m["deliveries"] for m in (first, update)] == [1, 1]
    finally:
        stop.set()
