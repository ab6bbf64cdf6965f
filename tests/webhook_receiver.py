"""A booking workflow's webhook receiver for the tests: a real HTTP/1.1 server in a thread
that keeps connections open as receivers do, verifies every delivery with the
``standardwebhooks`` library, dedupes on ``webhook-id`` as a receiver should, and
misbehaves on demand (fails, hangs, answers slowly, 410s). Every answer tries to set a
cookie, which a sender must never send back."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    webhook_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    #: the sender's side of the connection it came on (host, port)
    peer: tuple[str, int] = ("", 0)

    @property
    def type(self) -> str:
        return self.body["type"]

    @property
    def booking(self) -> str | None:
        return self.body["data"].get("booking_id")


@dataclass
class Receiver:
    """``answers``: what the next requests get, in turn (then 200): an int status, or
    ``("sleep", seconds)`` then 200 (a timeout when longer than the sender waits)."""

    secrets: list[str] = field(default_factory=list)
    answers: deque = field(default_factory=deque)
    #: every request that verified, in arrival order (retries and replays included)
    requests: list[Received] = field(default_factory=list)
    #: what a deduping receiver keeps: the first of each webhook-id, in order
    accepted: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as receivers serve
            # Headers and body go out in two writes: with Nagle's algorithm the body waits
            # for the sender's delayed ACK, 40 ms an answer (real servers turn it off too).
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver._handle(raw, dict(self.headers.items()),
                                          self.client_address)
                try:
                    self.send_response(status)
                    self.send_header("Set-Cookie", "receiver-session=1; Path=/")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok" if status < 300 else b"no")
                except OSError:
                    pass  # the sender gave up waiting

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _verify(self, raw: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        for secret in self.secrets:
            try:
                return Webhook(secret).verify(raw, headers)
            except WebhookVerificationError:
                continue
        return None

    def _handle(self, raw: bytes, headers: dict[str, str], peer: tuple[str, int]) -> int:
        body = self._verify(raw, headers)
        with self.lock:
            if body is None:
                self.refused.append(raw.decode(errors="replace"))
                return 401
            answer = self.answers.popleft() if self.answers else 200
        if isinstance(answer, tuple):
            time.sleep(answer[1])
            answer = 200
        if answer >= 300:
            return answer
        lowered = {k.lower(): v for k, v in headers.items()}
        received = Received(lowered["webhook-id"], body, lowered, peer)
        with self.lock:
            self.requests.append(received)
            if all(r.webhook_id != received.webhook_id for r in self.accepted):
                self.accepted.append(received)
        return answer

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.accepted]
