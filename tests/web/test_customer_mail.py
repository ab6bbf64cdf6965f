"""Email to the customer through a real SMTP server started by the test: the invitation
with its .ics, its update and its cancellation; nothing when the switch is off; an SMTP
outage retried without losing or duplicating mail; a lost answer retried under the same
Message-ID; a worker's lost lease taken over."""

from __future__ import annotations

from datetime import timedelta

import pytest
import vobject
from sqlalchemy import update

from dashboard.extensions import db
from dashboard.models import Booking, MailMessage
from dashboard.orm import utcnow
from dashboard.services import customer_mail, mail_delivery
from tests.booking_builders import booking_of, cancel, drain, new_booking, reschedule
from tests.mail_builders import email_customers, event_of, mail_due, outbox, send_mail
from tests.smtp_server import SmtpServer
from tests.zoom_builders import FakeZoom, endpoints, store_connection


@pytest.fixture
def zoom(zoom, app) -> FakeZoom:
    return FakeZoom(zoom, endpoints(app).api_base_url, endpoints(app).token_url)


@pytest.fixture
def acme(app, world, zoom) -> int:
    with app.app_context():
        store_connection(world.acme.id)
    return world.acme.id


@pytest.fixture
def smtp(app, monkeypatch):
    server = SmtpServer().start()
    monkeypatch.setitem(app.config, "SMTP_URL", server.url)
    yield server
    server.stop()


def _calendar_part(received):
    [attachment] = received.attachments()
    assert attachment.get_content_type() == "text/calendar"
    return attachment


def test_off_by_default_no_customer_mail(app, acme, smtp):
    booking = new_booking(app, acme)
    drain(app)
    reschedule(app, booking, duration_minutes=45)
    drain(app)
    cancel(app, booking)
    drain(app)
    assert outbox(app) == []
    assert send_mail(app) == 0 and smtp.received == []


def test_invitation_update_and_cancellation_reach_the_customer(app, acme, smtp):
    email_customers(app, acme)
    booking = new_booking(app, acme, hours=72)
    assert outbox(app) == []  # no join link yet: nothing to send
    drain(app)
    assert send_mail(app) == 1
    [invite] = smtp.received
    assert invite.rcpt_tos == ["ana@example.test"]
    assert invite.subject.startswith("Invitation: Consultation with Ana")
    assert "Acme Clinic has booked this meeting with you" in invite.message.get_body(
        ("plain",)).get_content()
    part = _calendar_part(invite)
    assert part.get_filename() == "invitation.ics"
    assert part.get_param("method") == "REQUEST"
    method, first = event_of(part.get_content())
    assert method == "REQUEST" and int(first["SEQUENCE"]) == 0
    assert vobject.readOne(part.get_content()).vevent.uid.value == str(first["UID"])
    [row] = outbox(app)
    assert row.state == "sent" and invite.message_id == row.message_id

    reschedule(app, booking, start_at=booking_of(app, booking).start_at + timedelta(days=1))
    drain(app)
    cancel(app, booking)
    drain(app)
    assert send_mail(app) == 2
    _, update_mail, cancel_mail = smtp.received
    assert update_mail.subject.startswith("Updated invitation:")
    method, updated = event_of(_calendar_part(update_mail).get_content())
    assert method == "REQUEST" and int(updated["SEQUENCE"]) == 1
    assert str(updated["UID"]) == str(first["UID"])
    assert cancel_mail.subject.startswith("Cancelled:")
    part = _calendar_part(cancel_mail)
    assert part.get_filename() == "cancellation.ics" and part.get_param("method") == "CANCEL"
    method, cancelled = event_of(part.get_content())
    assert method == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 2 and str(cancelled["UID"]) == str(first["UID"])
    assert len({mail.message_id for mail in smtp.received}) == 3


def test_the_same_event_told_twice_mails_once(app, acme, smtp):
    email_customers(app, acme)
    booking = new_booking(app, acme)
    drain(app)
    with app.app_context():
        row = db.session.get(Booking, booking)
        # Told again (a replayed event, say): nothing more is written.
        customer_mail.on_booking_event(row.workspace_id, row, "meeting.ready")
        customer_mail.on_booking_event(row.workspace_id, row, "meeting.changed")
        db.session.commit()
    assert len(outbox(app)) == 1
    send_mail(app)
    assert len(smtp.received) == 1


def test_a_cancel_without_an_earlier_invitation_mails_nothing(app, acme, smtp):
    booking = new_booking(app, acme)
    drain(app)  # ready while customer email was off
    email_customers(app, acme)
    cancel(app, booking)
    drain(app)
    assert outbox(app) == []


def test_an_smtp_outage_retries_without_losing_or_duplicating(app, acme, smtp):
    email_customers(app, acme)
    first, second = new_booking(app, acme, ref="a"), new_booking(app, acme, ref="b")
    drain(app)
    smtp.stop()  # the mail server is down
    before = utcnow()
    assert send_mail(app) == 2  # each tried once, then waits its backoff
    assert send_mail(app) == 0
    rows = outbox(app)
    assert [row.state for row in rows] == ["queued", "queued"]
    assert all(row.attempts == 1 and "could not reach the mail server" in row.last_error
               for row in rows)
    assert all(row.next_attempt_at >= before + timedelta(seconds=mail_delivery.BASE_DELAY / 2)
               for row in rows)

    smtp.start()  # back, on the same port
    mail_due(app)
    assert send_mail(app) == 2
    assert sorted(mail.rcpt_tos[0] for mail in smtp.received) == ["ana@example.test"] * 2
    assert len({mail.message_id for mail in smtp.received}) == 2
    assert [row.state for row in outbox(app)] == ["sent", "sent"]
    assert {row.booking_id for row in outbox(app)} == {first, second}
    mail_due(app)
    assert send_mail(app) == 0 and len(smtp.received) == 2


def test_a_lost_answer_is_retried_under_the_same_message_id(app, acme, smtp):
    email_customers(app, acme)
    new_booking(app, acme)
    drain(app)
    smtp.swallow_answers = 1  # takes the message, answers 451
    send_mail(app)
    [row] = outbox(app)
    assert row.state == "queued" and row.attempts == 1
    mail_due(app)
    send_mail(app)
    assert [mail.message_id for mail in smtp.received] == [row.message_id] * 2
    assert outbox(app)[0].state == "sent"


def test_a_permanent_refusal_fails_without_retrying(app, acme, smtp, monkeypatch):
    email_customers(app, acme)
    new_booking(app, acme, customer={"name": "Ana", "email": "ana@example.test"})
    drain(app)

    async def refuse(server, session, envelope, address, options):
        return "550 No such user"

    monkeypatch.setattr(smtp, "handle_RCPT", refuse, raising=False)
    smtp.stop()
    smtp.start()
    send_mail(app)
    [row] = outbox(app)
    assert row.state == "failed" and "refused the recipient (550)" in row.last_error
    mail_due(app)
    assert send_mail(app) == 0


def test_a_worker_whose_lease_ran_out_is_taken_over_once(app, acme, smtp):
    email_customers(app, acme)
    new_booking(app, acme)
    drain(app)
    with app.app_context():
        message_id = mail_delivery.claim("worker-killed")
        assert message_id is not None
        assert mail_delivery.claim("worker-2") is None  # leased
        db.session.execute(update(MailMessage).values(lease_until=utcnow() - timedelta(1)))
        db.session.commit()
        assert mail_delivery.claim("worker-2") == message_id
        target = mail_delivery.target()
        mail_delivery.send_claimed(message_id, "worker-2", target)
        # The first worker coming back late saves nothing and sends under the same id.
        mail_delivery.send_claimed(message_id, "worker-killed", target)
        row = db.session.get(MailMessage, message_id, populate_existing=True)
        assert row.state == "sent" and row.attempts == 2
    assert {mail.message_id for mail in smtp.received} == {row.message_id}
