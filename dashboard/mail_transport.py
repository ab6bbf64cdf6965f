"""Sending one email over SMTP, with the standard library's ``smtplib`` and ``email``.

``SMTP_URL`` names the server: ``smtp://user:pass@host:port`` (``?starttls=1`` upgrades the
connection with STARTTLS before signing in) or ``smtps://...`` (TLS from the first byte).
Messages are built as ``email.message.EmailMessage`` by the caller; this module only knows
how to hand one to the server and how to tell a refusal from an outage.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

SCHEMES = {"smtp": 25, "smtps": 465}
_TRUE = {"1", "true", "yes", "on"}
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class SmtpRefused(Exception):
    """The server refused the message for good (a 5xx): sending again would not help."""


class SmtpUnavailable(Exception):
    """The server could not be reached or answered 4xx: try again later. The message may
    or may not have been taken (an answer lost after DATA), so a retry reuses its
    Message-ID."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        """Parse ``SMTP_URL``; ValueError names what is wrong (never the password)."""
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ValueError("must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("has no host")
        try:
            port = parts.port or SCHEMES[parts.scheme]
        except ValueError as error:
            raise ValueError("has a port that is not a number from 1 to 65535") from error
        query = parse_qs(parts.query)
        unknown = set(query) - {"starttls"}
        if unknown:
            raise ValueError("knows only the option starttls, not " + ", ".join(sorted(unknown)))
        starttls = query.get("starttls", ["0"])[-1].lower() in _TRUE
        if starttls and parts.scheme == "smtps":
            raise ValueError("uses TLS already (smtps://): leave starttls out")
        return cls(host=parts.hostname, port=port, implicit_tls=parts.scheme == "smtps",
                   starttls=starttls,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)

    @property
    def encrypted(self) -> bool:
        return self.implicit_tls or self.starttls

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK

    def __repr__(self) -> str:  # the password stays out of reprs and logs
        return f"<SmtpTarget {self.host}:{self.port} tls={self.encrypted}>"


def send(target: SmtpTarget, message: EmailMessage, timeout: float) -> None:
    """Hand ``message`` to the server, or raise SmtpRefused / SmtpUnavailable."""
    context = ssl.create_default_context()
    try:
        if target.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=timeout)
        with client:
            if target.starttls:
                client.starttls(context=context)
            if target.username:
                client.login(target.username, target.password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if all(code >= 500 for code in codes):
            raise SmtpRefused(f"the server refused the recipient ({codes[0]})") from error
        raise SmtpUnavailable(f"the server deferred the recipient ({codes[0]})") from error
    except smtplib.SMTPResponseException as error:
        text = f"the server answered {error.smtp_code}"
        if error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPAuthenticationError):
            raise SmtpRefused(text) from error
        raise SmtpUnavailable(text) from error
    except (OSError, smtplib.SMTPException) as error:
        # Connection refused or reset, a timeout, TLS failing: the server may come back.
        raise SmtpUnavailable(f"could not reach the mail server: {error.__class__.__name__}"
                              ) from error
