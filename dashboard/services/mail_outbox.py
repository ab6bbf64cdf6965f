"""Writing mail to the outbox (``mail_messages``) in the caller's transaction.

The worker sends it later (``mail_delivery``). A mail with a ``dedupe_key`` is written once:
the callers hold the lock of what the mail is about (the booking's, the workspace's), so
the check and the insert cannot interleave with another copy's.
"""

from __future__ import annotations

from email.utils import make_msgid, parseaddr

from flask import current_app
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Booking, MailKind, MailMessage
from dashboard.services.invitation import Invitation


def _domain() -> str:
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or "localhost"


def already(dedupe_key: str) -> bool:
    return db.session.scalar(select(MailMessage.id).where(
        MailMessage.dedupe_key == dedupe_key)) is not None


def enqueue(workspace_id: int, kind: MailKind, recipient: str, subject: str, body: str, *,
            booking: Booking | None = None, invitation: Invitation | None = None,
            dedupe_key: str | None = None) -> MailMessage | None:
    """Add one email to the caller's transaction (None: that mail was written already)."""
    if dedupe_key and already(dedupe_key):
        return None
    message = MailMessage(
        workspace_id=workspace_id, booking_id=booking.id if booking else None, kind=kind.value,
        dedupe_key=dedupe_key, message_id=make_msgid("lakesis", domain=_domain()),
        recipient=recipient, subject=" ".join(subject.split())[:300], body=body,
        calendar=invitation.text if invitation else None,
        calendar_method=invitation.method if invitation else None)
    db.session.add(message)
    return message
