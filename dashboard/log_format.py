"""Logs as one JSON object a line, each naming the request (or the worker's operation) it
belongs to, so that one booking's story can be followed across web and worker processes.

``LOG_FORMAT=json`` (the default) puts one handler on the root logger: the app's, the dev
server's access log, Alembic's and the libraries' records all come out alike. ``text``
keeps the plain lines of Python's logging, for reading in a terminal. Either way the
request id is taken from a well-formed ``X-Request-ID`` (a proxy's) or made up, and sent
back in the answer's ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, g, has_app_context, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter
from werkzeug.wrappers import Response

_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Terminal colour codes (the dev server colours its access lines): noise in a JSON line.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_operation_id: ContextVar[int | None] = ContextVar("operation_id", default=None)


@contextmanager
def operation(operation_id: int) -> Iterator[None]:
    """Records logged inside carry ``operation_id`` (the worker running one operation)."""
    token = _operation_id.set(operation_id)
    try:
        yield
    finally:
        _operation_id.reset(token)


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``operation_id`` (None outside a request or an operation)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The app context's, not the request's: Zoom's webhooks are answered in one alone.
        record.request_id = g.get("request_id") if has_app_context() else None
        record.operation_id = _operation_id.get()
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (a test's capture, a reopened stream)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class _PlainJsonFormatter(JsonFormatter):
    def process_log_record(self, log_data: dict) -> dict:
        message = log_data.get("message")
        if isinstance(message, str) and "\x1b" in message:
            log_data["message"] = _ANSI.sub("", message)
        return log_data


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "text":
        return logging.Formatter("%(asctime)s %(levelname)s %(name)s "
                                 "[%(request_id)s %(operation_id)s] %(message)s")
    return _PlainJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s "
                         "%(request_id)s %(operation_id)s",
                         rename_fields={"asctime": "time", "levelname": "level",
                                        "name": "logger"},
                         json_ensure_ascii=False)


def install_handler(log_format: str) -> None:
    """One handler on the root logger, in ``log_format`` (added again if something, such as
    Alembic's ``fileConfig``, replaced the root's handlers)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    handler.setFormatter(_formatter(log_format))


def request_id(sent: str) -> str:
    """The id a request is logged under: a proxy's well-formed ``X-Request-ID``, or a new one."""
    return sent if _WELL_FORMED_ID.fullmatch(sent) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    install_handler(app.config["LOG_FORMAT"])
    # The root handler speaks for the app's logger too: Flask's own would say it twice.
    app.logger.removeHandler(default_handler)

    @app.before_request
    def name_the_request() -> None:
        g.request_id = request_id(request.headers.get("X-Request-ID", ""))

    @app.after_request
    def tell_the_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response
