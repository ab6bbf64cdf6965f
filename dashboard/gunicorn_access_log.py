"""gunicorn's access log with secret query values blanked (see ``log_redaction``).

Named by ``gunicorn.conf.py`` as ``logger_class``; imported only by gunicorn.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from dashboard.log_redaction import redact_query, redact_query_string

# Atoms that carry a URL or query: the request line, the query string, the referer (a page
# the browser left may be the callback itself), and the same read from environ or headers.
_URL_ATOMS = ("r", "f", "{raw_uri}e", "{http_referer}e", "{referer}i")
_QUERY_ATOMS = ("q", "{query_string}e")


class RedactingLogger(Logger):
    """gunicorn's ``Logger`` whose access-log atoms hold no OAuth code, state or token."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _URL_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_query(atoms[name])
        for name in _QUERY_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_query_string(atoms[name])
        return atoms
