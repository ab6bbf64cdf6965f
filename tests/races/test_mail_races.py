"""Mail under races, on SQLite and PostgreSQL: workers sending the outbox at once send each
message exactly once; Zoom failing in many requests at once alerts the admins once; admins
switching customer email at once make one change."""

from __future__ import annotations

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import AuditEvent, MailKind, MailMessage, Workspace, ZoomConnection
from dashboard.orm import utcnow
from dashboard.services import customer_mail, mail_delivery, mail_outbox, mail_settings
from dashboard.services.audit import Actor
from tests.races.conftest import RACERS, ROUNDS, at_once, make_clinic
from tests.smtp_server import SmtpServer

MESSAGES = 24


def test_workers_at_once_send_each_message_exactly_once(race_app):
    clinic = make_clinic(race_app)
    server = SmtpServer().start()
    race_app.config["SMTP_URL"] = server.url
    try:
        for round_ in range(ROUNDS):
            with race_app.app_context():
                for n in range(MESSAGES):
                    mail_outbox.enqueue(clinic.workspace_id, MailKind.CONNECTION_ALERT,
                                        f"admin{n}@clinic.test", f"Round {round_} #{n}", "Hi")
                db.session.commit()

            def sender(index: int):
                def send() -> int:
                    with race_app.app_context():
                        try:
                            return mail_delivery.drain(worker=f"worker-{index}")
                        finally:
                            db.session.remove()
                return send

            sent = at_once([sender(i) for i in range(RACERS)])
            assert sum(sent) == MESSAGES
            ids = [mail.message_id for mail in server.received]
            assert len(ids) == MESSAGES * (round_ + 1) == len(set(ids))
            with race_app.app_context():
                states = db.session.execute(select(MailMessage.state, func.count())
                                            .group_by(MailMessage.state)).all()
            assert dict(states) == {"sent": MESSAGES * (round_ + 1)}
    finally:
        server.stop()


def test_zoom_failing_everywhere_at_once_alerts_each_admin_once(race_app):
    clinic = make_clinic(race_app)
    with race_app.app_context():
        db.session.add(ZoomConnection(workspace_id=clinic.workspace_id, status="needs_reauth",
                                      status_reason="invalid_grant", connected_at=utcnow()))
        db.session.commit()

    def lose() -> None:
        with race_app.app_context():
            try:
                customer_mail.on_connection_event(clinic.workspace_id,
                                                  "connection.needs_reauthorization")
                db.session.commit()
            finally:
                db.session.remove()

    for _ in range(ROUNDS):
        at_once([lose] * RACERS)
    with race_app.app_context():
        recipients = sorted(db.session.scalars(select(MailMessage.recipient)))
    assert recipients == ["ann@clinic.test", "bob@clinic.test"]


def test_admins_switching_customer_email_at_once_make_one_change(race_app):
    clinic = make_clinic(race_app)

    def switch_on() -> bool:
        with race_app.app_context():
            try:
                workspace = db.session.get(Workspace, clinic.workspace_id)
                return mail_settings.set_email_customers(workspace, Actor.system(), True)
            finally:
                db.session.remove()

    assert sum(at_once([switch_on] * RACERS)) == 1
    with race_app.app_context():
        assert mail_settings.emails_customers(clinic.workspace_id)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "workspace.customer_email_on")) == 1
