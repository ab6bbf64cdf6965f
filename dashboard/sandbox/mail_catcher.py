"""A local mail catcher: an SMTP server (``aiosmtpd``) that keeps what it is sent in the
sandbox's database, for the sandbox's Mail page to show.

``make run`` starts one beside the mounted sandbox on 127.0.0.1 (``ZOOM_SANDBOX_SMTP_PORT``,
where the app's default ``SMTP_URL`` points in sandbox mode), so the customer's invitations
and the admins' alerts can be read in the browser with no mail server set up. Messages are
kept by Message-ID: the same message sent again is one row, its deliveries counted.
"""

from __future__ import annotations

import email
import email.policy
import logging
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Connection, Engine

from .storage import mail

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def header(message: EmailMessage, name: str) -> str:
    # A long header is folded on the wire; Python's parser keeps the fold's leading space.
    return str(message.get(name) or "").strip()


def store(engine: Engine, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> int:
    """Keep one received message; the row's id."""
    message = parse(raw)
    message_id = str(message.get("Message-ID") or "").strip()[:255] or (
        f"<no-message-id-{time.time_ns()}@sandbox>")
    with engine.begin() as conn:
        row = conn.execute(sa.select(mail.c.id).where(mail.c.message_id == message_id)).first()
        if row is not None:
            conn.execute(mail.update().where(mail.c.id == row.id)
                         .values(deliveries=mail.c.deliveries + 1))
            return row.id
        return conn.execute(mail.insert().values(
            message_id=message_id, received_at=time.time(), mail_from=mail_from[:255],
            rcpt_tos=", ".join(rcpt_tos), subject=header(message, "Subject"),
            raw=raw, deliveries=1)).inserted_primary_key[0]


class _Handler:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        try:
            store(self.engine, envelope.original_content or envelope.content,
                  envelope.mail_from or "", list(envelope.rcpt_tos))
        except Exception:
            log.exception("mail catcher: could not keep a message")
            return "451 Could not keep the message, try again later"
        return "250 Message kept"


@dataclass
class MailCatcher:
    controller: Controller

    @property
    def port(self) -> int:
        return self.controller.port

    def stop(self) -> None:
        self.controller.stop()


def start(engine: Engine, port: int, host: str = "127.0.0.1") -> MailCatcher | None:
    """Serve SMTP on ``host:port`` in a thread; None (logged) if the port is taken."""
    # aiosmtpd logs every sender and recipient at INFO: customers' addresses stay out.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(_Handler(engine), hostname=host, port=port,
                            data_size_limit=MAX_MESSAGE_BYTES)
    try:
        controller.start()
    except (OSError, RuntimeError) as error:
        log.warning("mail catcher: could not listen on %s:%s (%s); mail stays queued",
                    host, port, error)
        return None
    log.info("mail catcher listening on %s:%s", host, port)
    return MailCatcher(controller)


def all_messages(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(mail.c.id, mail.c.message_id, mail.c.received_at,
                                  mail.c.rcpt_tos, mail.c.subject, mail.c.deliveries)
                        .order_by(mail.c.id.desc()))
    return [dict(row._mapping) for row in rows]


def one_message(conn: Connection, mail_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(mail).where(mail.c.id == mail_id)).first()
    return dict(row._mapping) if row else None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def attachments_of(message: EmailMessage) -> list[Attachment]:
    found = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True) or b""
        found.append(Attachment(part.get_filename() or "attachment",
                                part.get_content_type(), data))
    return found
