"""Access logs without secrets: the OAuth callback's ``code`` and ``state``, and any
token-like query value, are blanked in the request lines the servers log.

Zoom redirects the browser to ``/settings/integrations/zoom/callback?code=...&state=...``:
with PKCE the code alone cannot be redeemed, but it and the state are one-time credentials
all the same, and log files travel further than the database. The dev server logs through
the ``werkzeug`` logger (``RedactingFilter``, installed by ``create_app``); gunicorn through
its own logger class (``dashboard.gunicorn_access_log``, named in ``gunicorn.conf.py``).
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = ("code", "state", "token", "access_token", "refresh_token", "id_token",
                     "client_secret", "secret", "password", "api_key", "key", "signature")
REDACTED = "[redacted]"
# A parameter named exactly so (after ? or &), its value up to the next separator, the end
# of the request line, or an ANSI colour code the dev server wraps the line in.
_SECRET_VALUE = re.compile(
    r"(?i)([?&](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&\s#\"\x1b]*")


def redact_query(text: str) -> str:
    """``text`` (a request line, URL or query string) with secret query values blanked."""
    if "=" not in text:
        return text
    return _SECRET_VALUE.sub(r"\1" + REDACTED, text)


def redact_query_string(query: str) -> str:
    """A bare query string (no leading ``?``), redacted the same way."""
    return redact_query("?" + query)[1:] if query else query


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secret query values blanked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_query(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install(logger_name: str = "werkzeug") -> None:
    """Put one ``RedactingFilter`` on ``logger_name`` (once, however many apps are made)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
        logger.addFilter(RedactingFilter())
