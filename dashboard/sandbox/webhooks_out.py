"""Outgoing webhooks, signed as Zoom signs them, delivered inline or on a thread.

Signature: ``v0=`` + hex HMAC-SHA256(secret token, ``"v0:{timestamp}:{raw body}"``), over
compact JSON in raw UTF-8 (``ensure_ascii=False``: "João" as UTF-8 bytes, not an escape),
which is what Zoom sends and what its own sample receiver re-serializes to. Each delivery
carries an ``x-zm-trackingid``. While the endpoint's latest URL validation failed, events
are not delivered (Zoom stops sending to such an endpoint). The timestamp header is real
time (the receiver checks it against its own clock); ``event_ts`` in the body follows the
sandbox clock like everything else. Delivery failures are logged and counted, never
raised into the API request.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import Engine

from . import clock
from .settings import setting
from .storage import bump, get_state, transaction, url_validations
from .tracking import HEADER as TRACKING_HEADER
from .tracking import tracking_id

log = logging.getLogger(__name__)

# Zoom retries after 5, 20 and 60 minutes; the sandbox keeps the idea at demo speed.
RETRY_DELAYS = (2.0, 10.0)
TIMEOUT_SECONDS = 3.0  # Zoom's own limit for an answer


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``x-zm-signature`` value for a raw body sent at ``timestamp``."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    """One event on its way to the webhook URL."""

    url: str
    secret: str
    event: str
    body: bytes
    attempt: int = 0
    tracking: str = ""

    def __post_init__(self) -> None:
        if not self.tracking:
            self.tracking = tracking_id()


def post_signed(delivery: Delivery) -> requests.Response:
    """POST a delivery with Zoom's headers; raises ``requests.RequestException``."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": sign(delivery.secret, timestamp, delivery.body),
        TRACKING_HEADER: delivery.tracking,
        "User-Agent": "Zoom Marketplace/1.0a (Lakesis sandbox)",
    }
    return requests.post(delivery.url, data=delivery.body, headers=headers, timeout=TIMEOUT_SECONDS)


class WebhookSender:
    """Posts events; in background mode a single daemon thread delivers and retries."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._seq = itertools.count()

    def deliver_now(self, delivery: Delivery) -> bool:
        """One attempt; True on a 2xx answer. Logs and counts, never raises."""
        try:
            answer = post_signed(delivery)
            ok = 200 <= answer.status_code < 300
            outcome = f"HTTP {answer.status_code}"
        except requests.RequestException as exc:
            ok, outcome = False, type(exc).__name__
        if not ok:
            log.warning(
                "zoom sandbox: webhook %s to %s failed (%s), attempt %d",
                delivery.event,
                delivery.url,
                outcome,
                delivery.attempt + 1,
            )
        try:
            with self._engine.begin() as conn:
                bump(conn, "webhooks_delivered" if ok else "webhook_failures")
        except Exception:  # noqa: BLE001 - bookkeeping must never break delivery
            log.exception("zoom sandbox: could not count a webhook delivery")
        return ok

    def enqueue(self, delivery: Delivery) -> None:
        """Hand a delivery to the background thread (started on first use)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="zoom-sandbox-webhooks", daemon=True
                )
                self._thread.start()
        self._queue.put(delivery)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the background thread (pending retries are dropped)."""
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        due: list[tuple[float, int, Delivery]] = []
        while True:
            wait = max(0.0, due[0][0] - time.monotonic()) if due else None
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = ...  # a retry fell due
            if item is None:
                return
            if isinstance(item, Delivery):
                heapq.heappush(due, (time.monotonic(), next(self._seq), item))
            while due and due[0][0] <= time.monotonic():
                _, _, delivery = heapq.heappop(due)
                if self.deliver_now(delivery) or delivery.attempt >= len(RETRY_DELAYS):
                    continue
                delay = RETRY_DELAYS[delivery.attempt]
                delivery.attempt += 1
                heapq.heappush(due, (time.monotonic() + delay, next(self._seq), delivery))


def envelope(event: str, payload: dict[str, Any], event_ts_ms: int) -> bytes:
    """Zoom's event envelope as compact JSON in raw UTF-8 bytes (no unicode escapes)."""
    body = {"event": event, "event_ts": event_ts_ms, "payload": payload}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def endpoint_failed_validation(conn: Any) -> bool:
    """Whether the latest URL validation of the endpoint failed (then Zoom stops sending)."""
    url = setting("ZOOM_SANDBOX_WEBHOOK_URL")
    latest = conn.execute(
        sa.select(url_validations.c.ok)
        .where(url_validations.c.url == url)
        .order_by(url_validations.c.id.desc())
        .limit(1)
    ).first()
    return latest is not None and not latest.ok


#: sbx_state key: "1" while the console's "webhooks off" switch is on
WEBHOOKS_OFF = "webhooks_off"


def webhooks_enabled(conn: Any) -> bool:
    return get_state(conn, WEBHOOKS_OFF) != "1"


def send_event(event: str, payload: dict[str, Any]) -> None:
    """Send an event to the configured webhook URL, inline or in the background.

    Call after the change is committed. Never raises.
    """
    try:
        with transaction() as conn:
            event_ts = int(clock.now_ts(conn) * 1000)
            if endpoint_failed_validation(conn):
                bump(conn, "webhooks_suppressed")
                log.warning("zoom sandbox: %s not sent: endpoint failed URL validation", event)
                return
            if not webhooks_enabled(conn):
                bump(conn, "webhooks_suppressed")
                log.info("zoom sandbox: %s not sent: webhooks are switched off", event)
                return
        delivery = Delivery(
            url=setting("ZOOM_SANDBOX_WEBHOOK_URL"),
            secret=setting("ZOOM_WEBHOOK_SECRET_TOKEN"),
            event=event,
            body=envelope(event, payload, event_ts),
        )
        sender = current_app.extensions["zoom_sandbox"].sender
        if setting("ZOOM_SANDBOX_WEBHOOKS_SYNC"):
            sender.deliver_now(delivery)
        else:
            sender.enqueue(delivery)
    except Exception:  # noqa: BLE001 - a webhook problem must not fail the API call
        log.exception("zoom sandbox: could not send webhook %s", event)
