"""Admins are told when Zoom stops working (at most one mail a day per workspace while it
lasts), and when a webhook receiver is paused; through a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from dashboard.extensions import db
from dashboard.models import Membership, Role, WorkspaceMailSettings, ZoomConnection
from dashboard.services import admin_alerts, connections, customer_mail
from dashboard.services.zoom_tokens import mark_needs_reauth
from tests.conftest import make_user
from tests.mail_builders import outbox, send_mail
from tests.smtp_server import SmtpServer
from tests.zoom_builders import ZOOM_ACCOUNT_ID, ZOOM_USER_ID, store_connection


@pytest.fixture
def smtp(app, monkeypatch):
    server = SmtpServer().start()
    monkeypatch.setitem(app.config, "SMTP_URL", server.url)
    yield server
    server.stop()


@pytest.fixture
def acme(app, world) -> int:
    with app.app_context():
        store_connection(world.acme.id)
    return world.acme.id


def _lose_grant(app, workspace_id: int) -> None:
    with app.app_context():
        connection = db.session.scalar(db.select(ZoomConnection).filter_by(
            workspace_id=workspace_id))
        mark_needs_reauth(connection, "Zoom refused the refresh token (invalid_grant)")
        db.session.commit()


def _reconnect(app, workspace_id: int) -> None:
    with app.app_context():
        db.session.execute(update(ZoomConnection).where(
            ZoomConnection.workspace_id == workspace_id).values(status="connected"))
        db.session.commit()


def _alert_sent_days_ago(app, workspace_id: int, days: float) -> None:
    with app.app_context():
        settings = db.session.get(WorkspaceMailSettings, workspace_id)
        settings.connection_alert_sent_at -= timedelta(days=days)
        db.session.commit()


def test_admins_get_a_reconnect_link_when_zoom_needs_reauthorization(app, world, acme, smtp):
    with app.app_context():  # a second admin; operators and support are not mailed
        db.session.add(Membership(user=make_user("second.admin@acme.test"),
                                  workspace_id=acme, role=Role.ADMIN.value))
        db.session.commit()
    _lose_grant(app, acme)
    assert send_mail(app) == 2
    assert sorted(mail.rcpt_tos[0] for mail in smtp.received) == [
        "admin@acme.test", "second.admin@acme.test"]
    mail = smtp.received[0]
    assert mail.subject == "Action needed: Zoom stopped working for Acme Clinic"
    text = mail.message.get_body(("plain",)).get_content()
    assert f"Reconnect Zoom: {app.config['APP_BASE_URL']}/settings/integrations" in text
    assert "invalid_grant" in text
    assert mail.attachments() == []


def test_at_most_one_alert_a_day_while_it_lasts(app, world, acme, smtp):
    _lose_grant(app, acme)
    with app.app_context():
        customer_mail.on_connection_event(acme, "connection.needs_reauthorization")
        db.session.commit()
    _reconnect(app, acme)
    _lose_grant(app, acme)  # flaps within the day: no second mail
    assert len(outbox(app)) == 1
    _alert_sent_days_ago(app, acme, 0.9)
    _reconnect(app, acme)
    _lose_grant(app, acme)
    assert len(outbox(app)) == 1
    _alert_sent_days_ago(app, acme, 0.2)  # now more than a day ago
    _reconnect(app, acme)
    _lose_grant(app, acme)
    assert len(outbox(app)) == 2
    send_mail(app)
    assert len(smtp.received) == 2


def test_removal_in_the_marketplace_alerts_but_an_admins_disconnect_does_not(
        app, world, acme, smtp):
    with app.app_context():
        assert connections.deauthorize(ZOOM_USER_ID, ZOOM_ACCOUNT_ID, keep_user_data=True) == [
            acme]
        db.session.commit()
    [mail] = outbox(app)
    assert mail.kind == "connection_alert" and mail.recipient == "admin@acme.test"
    assert "removed from your Zoom account in the Zoom App Marketplace" in mail.body
    with app.app_context():  # an admin's own Disconnect, then the event: nothing more
        store_connection(world.globex.id, zoom_user_id="other-user")
        row = db.session.scalar(db.select(ZoomConnection).filter_by(workspace_id=world.globex.id))
        row.status, row.status_reason = "disconnected", "Disconnected by admin@globex.test"
        db.session.commit()
        customer_mail.on_connection_event(world.globex.id, "connection.disconnected")
        db.session.commit()
    assert len(outbox(app)) == 1


def test_a_paused_webhook_receiver_is_told_to_the_admins(app, world, smtp):
    with app.app_context():
        assert admin_alerts.endpoint_paused(world.acme.id, "https://crm.example.test/hooks",
                                            "it answered 410 Gone") == 1
        db.session.commit()
    send_mail(app)
    [mail] = smtp.received
    assert mail.rcpt_tos == ["admin@acme.test"]
    text = mail.message.get_body(("plain",)).get_content()
    assert "https://crm.example.test/hooks" in text and "410 Gone" in text


def test_the_worker_reminds_once_a_day_while_it_lasts(app, world, acme, smtp):
    with app.app_context():  # lost without the event reaching the alerts (a missed hook)
        db.session.execute(update(ZoomConnection).values(status="needs_reauth",
                                                         status_reason="invalid_grant"))
        db.session.commit()
        assert admin_alerts.remind_all() == 1
        assert admin_alerts.remind_all() == 0  # told less than a day ago
    _alert_sent_days_ago(app, acme, 1.1)
    with app.app_context():
        assert admin_alerts.remind_all() == 1
    _reconnect(app, acme)
    _alert_sent_days_ago(app, acme, 2)
    with app.app_context():
        assert admin_alerts.remind_all() == 0  # connected again: no more reminders
    assert [mail.kind for mail in outbox(app)] == ["connection_alert"] * 2
