"""Sending the mail outbox: the worker claims a due message with a lease, sends it over
SMTP, and records how it went.

Nothing is lost: a message stays until the server took it (``sent``), refused it for good
(``failed``) or the last attempt failed (``dead``). Nothing is sent twice on purpose: a
claim is a compare-and-set, so one worker holds a message at a time, and a send whose
outcome was lost (a timeout after DATA, a killed worker whose lease ran out) goes again
under the same Message-ID, which receiving servers and mail clients dedupe on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select, update

from dashboard.extensions import db
from dashboard.mail_transport import SmtpRefused, SmtpTarget, SmtpUnavailable, send
from dashboard.models import MailMessage, MailState
from dashboard.orm import utcnow
from dashboard.services import outbox, retry_policy

log = logging.getLogger(__name__)
#: about a day of retries: 30 s, 1 min, 2 min ... capped at 2 h
MAX_ATTEMPTS = 16
BASE_DELAY, MAX_DELAY = 30.0, 7200.0


def backoff(attempts: int) -> float:
    return retry_policy.backoff(attempts, base=BASE_DELAY, most=MAX_DELAY)


def target() -> SmtpTarget | None:
    url = current_app.config.get("SMTP_URL")
    return SmtpTarget.from_url(url) if url else None


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(and_(MailMessage.state == MailState.QUEUED, MailMessage.next_attempt_at <= now),
               and_(MailMessage.state == MailState.SENDING, MailMessage.lease_until < now))


def claim(worker: str, now: datetime | None = None) -> int | None:
    """Take the next due message for this worker, or None. Commits."""
    now = now or utcnow()
    candidates = db.session.scalars(select(MailMessage.id).where(_due(now))
                                    .order_by(MailMessage.next_attempt_at, MailMessage.id)
                                    .limit(10)).all()
    for message_id in candidates:
        taken = db.session.execute(
            update(MailMessage).where(MailMessage.id == message_id, _due(now)).values(
                state=MailState.SENDING.value, locked_by=worker,
                lease_until=now + outbox.lease(), attempts=MailMessage.attempts + 1))
        if taken.rowcount == 1:
            db.session.commit()
            return message_id
    db.session.commit()
    return None


def email_of(message: MailMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = message.created_at
    email["Auto-Submitted"] = "auto-generated"  # no vacation replies to Lakesis
    email.set_content(message.body)
    if message.calendar:
        method = message.calendar_method or "REQUEST"
        filename = "cancellation.ics" if method == "CANCEL" else "invitation.ics"
        email.add_attachment(message.calendar.encode(), maintype="text", subtype="calendar",
                             filename=filename, params={"method": method, "charset": "utf-8"})
    return email


def send_claimed(message_id: int, worker: str, smtp: SmtpTarget) -> None:
    """Send a claimed message and record the outcome, if this worker still holds it."""
    message = db.session.get(MailMessage, message_id)
    email = email_of(message)
    db.session.commit()  # no transaction held while the server is talked to
    error: Exception | None = None
    try:
        send(smtp, email, float(current_app.config["SMTP_TIMEOUT_SECONDS"]))
    except (SmtpRefused, SmtpUnavailable) as failure:
        error = failure
    except Exception as failure:  # a bug must not leave the message leased forever
        log.exception("mail %s: sending failed unexpectedly", message_id)
        error = SmtpUnavailable(f"unexpected {failure.__class__.__name__}")
    message = db.session.get(MailMessage, message_id, populate_existing=True,
                             with_for_update=True)
    if message is None or message.state != MailState.SENDING or message.locked_by != worker:
        log.warning("mail %s: lease lost before the outcome was saved", message_id)
        db.session.rollback()
        return
    message.locked_by = message.lease_until = None
    if error is None:
        message.state, message.sent_at, message.last_error = MailState.SENT.value, utcnow(), None
    elif isinstance(error, SmtpRefused) or message.attempts >= MAX_ATTEMPTS:
        message.state = (MailState.FAILED if isinstance(error, SmtpRefused)
                         else MailState.DEAD).value
        message.last_error = str(error)[:500]
    else:
        message.state = MailState.QUEUED.value
        message.last_error = str(error)[:500]
        message.next_attempt_at = utcnow() + timedelta(seconds=backoff(message.attempts))
    said = (message.kind, message.state, message.attempts, message.last_error)
    db.session.commit()
    # Never the recipient or the body: a customer's address stays out of the logs.
    log.info("mail %s (%s) %s after %s attempt(s)%s", message_id, *said[:3],
             f": {said[3]}" if said[3] else "")


def run_once(worker: str | None = None) -> bool:
    """Send one due message; False when there was none (or no mail server is set)."""
    smtp = target()
    if smtp is None:
        return False
    worker = worker or outbox.worker_id()
    message_id = claim(worker)
    if message_id is None:
        return False
    send_claimed(message_id, worker, smtp)
    return True


def drain(limit: int = 1000, worker: str | None = None) -> int:
    done = 0
    while done < limit and run_once(worker):
        done += 1
    return done
