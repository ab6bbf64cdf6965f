"""The worker's side of outbound webhooks: claim a delivery, sign it, POST it, log it.

Claims work like the outbox's: only the first open delivery of each endpoint and booking
is a candidate, so each receiver gets a booking's events in order, one at a time; it is
taken with a compare-and-set, under a lease a killed worker's claim runs out of. No
transaction is held during the POST. Every attempt carries the event's own key as
``webhook-id``: a retry, a take-over after a crash or a replay is the same message, and
receivers dedupe on it.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookiejar import DefaultCookiePolicy

import requests
from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update
from standardwebhooks.webhooks import Webhook

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.models import (
    DeliveryAttempt,
    DeliveryState,
    EndpointState,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
)
from dashboard.orm import utcnow
from dashboard.services import booking_events, endpoint_urls, outbox, retry_policy
from dashboard.services.audit import Actor, record

log = logging.getLogger(__name__)
#: 15 s doubling to 4 h (jittered): 16 attempts span about a day.
MAX_ATTEMPTS = 16
BASE_DELAY, MAX_DELAY = 15.0, 4 * 3600.0
EXCERPT = 300
USER_AGENT = "Lakesis-Webhooks/1"
#: Called with an endpoint just paused by the worker (410, or failing for days), in the
#: pausing transaction (``customer_mail`` tells the workspace's admins).
PAUSE_SUBSCRIBERS: list[Callable[[WebhookEndpoint, str], None]] = []


def backoff(attempts: int, jitter: Callable[[float, float], float] = random.uniform) -> float:
    return retry_policy.backoff(attempts, jitter, base=BASE_DELAY, most=MAX_DELAY, least=0.8)


def body_of(event: Event) -> str:
    """The JSON sent: the same bytes on every attempt and replay of the event."""
    return json.dumps(booking_events.envelope(event), separators=(",", ":"), sort_keys=True)


def secrets_of(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets a delivery is signed with: the current one, and the previous one while
    its grace period after a rotation lasts (receivers may still hold it)."""
    found = [token_cipher.decrypt(endpoint.secret_enc)]
    if (endpoint.previous_secret_enc and endpoint.previous_secret_until
            and endpoint.previous_secret_until > now):
        found.append(token_cipher.decrypt(endpoint.previous_secret_enc))
    return found


def signed_headers(key: str, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    signatures = " ".join(Webhook(secret).sign(key, at, body) for secret in secrets)
    return {"webhook-id": key, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signatures, "content-type": "application/json",
            "user-agent": USER_AGENT}


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])


def _due(deliveries, now: datetime):
    return or_(and_(deliveries.state == DeliveryState.QUEUED,
                    deliveries.next_attempt_at <= now),
               and_(deliveries.state == DeliveryState.RUNNING, deliveries.lease_until < now))


def claim(worker: str, now: datetime | None = None) -> int | None:
    """Take the next due delivery for this worker, or None. Commits."""
    now = now or utcnow()
    # Only the first open delivery of each endpoint and booking may go. Said, as the
    # outbox says it, with row_number() over the open deliveries: one scan whatever the
    # statistics. "id IN (the first of each)" was planned, from the statistics of a table
    # still empty when a burst arrived, as a nested loop reading the open deliveries once
    # per candidate (22 ms a claim at 300 queued; deliveries ran at 0.15x the outbox).
    ranked = select(
        WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.state,
        WebhookDelivery.next_attempt_at, WebhookDelivery.lease_until,
        func.row_number().over(
            partition_by=(WebhookDelivery.endpoint_id, WebhookDelivery.booking_id),
            order_by=WebhookDelivery.id).label("place"),
    ).where(WebhookDelivery.state.in_(DeliveryState.OPEN)).subquery()
    active = select(WebhookEndpoint.id).where(WebhookEndpoint.state == EndpointState.ACTIVE)
    candidates = db.session.scalars(
        select(ranked.c.id).where(ranked.c.place == 1, _due(ranked.c, now),
                                  ranked.c.endpoint_id.in_(active))
        .order_by(ranked.c.next_attempt_at, ranked.c.id).limit(10)).all()
    # Two workers may pick the same head: the compare-and-set lets one take it, and nothing
    # behind it becomes a head until it is settled.
    for delivery_id in candidates:
        taken = db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, _due(WebhookDelivery, now))
            .values(state=DeliveryState.RUNNING.value, locked_by=worker,
                    lease_until=now + _lease(), attempts=WebhookDelivery.attempts + 1))
        if taken.rowcount == 1:
            db.session.commit()
            return delivery_id
    db.session.commit()
    return None


@dataclass(frozen=True)
class Sent:
    delivered: bool
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None


def _session() -> requests.Session:
    """The process's sender: it keeps connections to receivers open, so a busy endpoint
    pays TCP and TLS setup once, not per delivery; and it keeps no cookies, or one set by a
    receiver would follow later deliveries, other workspaces' included."""
    session = current_app.extensions.get("webhook_session")
    if session is None:
        session = requests.Session()
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        current_app.extensions["webhook_session"] = session
    return session


def _post(url: str, body: str, headers: dict[str, str]) -> Sent:
    config = current_app.config
    started = time.monotonic()
    try:
        if current_app.config["LAKESIS_ENV"] == "production":
            endpoint_urls.refuse_private_addresses(url)  # DNS may have changed since
        response = _session().post(url, data=body.encode(), headers=headers, stream=True,
                                   allow_redirects=False, timeout=(
                                       config["WEBHOOK_CONNECT_TIMEOUT"],
                                       config["WEBHOOK_READ_TIMEOUT"]))
        with response:
            raw = response.raw.read(EXCERPT * 4, decode_content=True) or b""
        excerpt = raw.decode("utf-8", "replace")[:EXCERPT] or None
        latency = int((time.monotonic() - started) * 1000)
        ok = 200 <= response.status_code < 300
        return Sent(ok, response.status_code, latency, excerpt,
                    None if ok else f"the receiver answered HTTP {response.status_code}")
    except requests.Timeout:
        error = "timed out waiting for the receiver"
    except requests.ConnectionError:
        error = "could not connect to the receiver"
    except endpoint_urls.BadUrl as refused:
        error = str(refused)
    except requests.RequestException as failed:
        error = f"the request failed: {type(failed).__name__}"
    return Sent(False, None, int((time.monotonic() - started) * 1000), None, error)


def deliver(delivery_id: int, worker: str) -> None:
    """Send one claimed delivery and record the attempt."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # its endpoint was deleted since the claim
        db.session.commit()
        return
    endpoint, event = delivery.endpoint, delivery.event
    now = utcnow()
    url, body = endpoint.url, body_of(event)
    headers = signed_headers(event.key, body, secrets_of(endpoint, now), now)
    db.session.commit()
    sent = _post(url, body, headers)
    _save(delivery_id, worker, sent)


def _save(delivery_id: int, worker: str, sent: Sent) -> None:
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.state != DeliveryState.RUNNING or (
            delivery.locked_by != worker):
        log.warning("webhook delivery %s: lease lost before the result was saved", delivery_id)
        db.session.rollback()
        return
    endpoint = delivery.endpoint
    now = utcnow()
    db.session.add(DeliveryAttempt(
        endpoint_id=endpoint.id, delivery_id=delivery.id, attempt=delivery.attempts,
        delivered=sent.delivered, status_code=sent.status_code, latency_ms=sent.latency_ms,
        response_excerpt=sent.excerpt, error=sent.error))
    delivery.locked_by = delivery.lease_until = None
    if sent.delivered:
        delivery.state, delivery.finished_at, delivery.last_error = (
            DeliveryState.DELIVERED.value, now, None)
        endpoint.failing_since = None
    else:
        delivery.last_error = sent.error
        endpoint.failing_since = endpoint.failing_since or now
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.state, delivery.finished_at = DeliveryState.DEAD.value, now
        else:
            delivery.state = DeliveryState.QUEUED.value
            delivery.next_attempt_at = now + timedelta(seconds=backoff(delivery.attempts))
        _pause_if_hopeless(endpoint, sent, now)
    db.session.commit()


def _pause_if_hopeless(endpoint: WebhookEndpoint, sent: Sent, now: datetime) -> None:
    limit = timedelta(hours=current_app.config["WEBHOOK_PAUSE_AFTER_HOURS"])
    if sent.status_code == 410:
        reason = "The receiver answered 410 Gone: it asked for no more deliveries."
    elif endpoint.failing_since and now - endpoint.failing_since >= limit:
        reason = (f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC "
                  f"(last: {sent.error}).")
    else:
        return
    if endpoint.state == EndpointState.PAUSED:
        return
    endpoint.state = EndpointState.PAUSED.value
    endpoint.paused_reason = reason[:300]
    record(endpoint.workspace_id, Actor.system(), "webhook_endpoint.paused",
           ("webhook_endpoint", endpoint.id, endpoint.url[:100]), reason=reason)
    for subscriber in PAUSE_SUBSCRIBERS:
        subscriber(endpoint, reason)


def run_once(worker: str | None = None) -> bool:
    """Claim and send one due delivery; False when there was nothing to do."""
    worker = worker or outbox.worker_id()
    delivery_id = claim(worker)
    if delivery_id is None:
        return False
    try:
        deliver(delivery_id, worker)
    except Exception:
        # A bug must not leave it running: its lease runs out and it is sent again.
        log.exception("webhook delivery %s failed unexpectedly", delivery_id)
        db.session.rollback()
    return True


def drain(limit: int = 10_000, worker: str | None = None) -> int:
    done = 0
    while done < limit and run_once(worker):
        done += 1
    return done


def purge_expired(now: datetime | None = None) -> int:
    """Delete events older than the retention period, with their deliveries and log.
    Commits."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["EVENT_RETENTION_DAYS"])
    old = select(Event.id).where(Event.created_at < cutoff)
    old_deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(old))
    db.session.execute(delete(DeliveryAttempt).where(
        DeliveryAttempt.delivery_id.in_(old_deliveries)))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(old)))
    result = db.session.execute(delete(Event).where(Event.created_at < cutoff))
    db.session.commit()
    return result.rowcount
