"""Zoom's webhook URL validation (``endpoint.url_validation``), on demand and every 72 h.

Zoom sends ``{"event": "endpoint.url_validation", "payload": {"plainToken": ..}}``, signed
like any event, and expects 200 with ``{"plainToken": .., "encryptedToken":
hex(HMAC_SHA256(secret_token, plainToken))}`` within 3 seconds. It re-validates every
72 hours (enforced since 2025-06-27); an endpoint that fails stops receiving events
(see ``webhooks_out.endpoint_failed_validation``).

The schedule follows the sandbox clock: the 72 h count from the latest validation, or
from when the sandbox was started or reset. It is checked whenever the clock is moved
and when the console is shown (the sandbox has no timer of its own).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

import requests
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import clock
from .settings import setting
from .storage import get_state, set_state, transaction, url_validations
from .webhooks_out import Delivery, envelope, post_signed

EVENT = "endpoint.url_validation"
INTERVAL_SECONDS = 72 * 3600
_ANCHOR = "url_validation_anchor"


def expected_token(secret: str, plain_token: str) -> str:
    """What a correct endpoint answers as ``encryptedToken``."""
    return hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()


def _judge(answer: requests.Response, plain: str, secret: str) -> tuple[bool, str]:
    """Whether the endpoint answered the challenge correctly, and what was wrong if not."""
    if answer.status_code != 200:
        return False, f"HTTP {answer.status_code} (Zoom wants 200)"
    try:
        body = json.loads(answer.content)
    except ValueError:
        return False, "the answer is not JSON"
    if not isinstance(body, dict):
        return False, "the answer is not a JSON object"
    if body.get("plainToken") != plain:
        return False, "plainToken was not echoed"
    token = body.get("encryptedToken")
    if not isinstance(token, str) or not hmac.compare_digest(
        token, expected_token(secret, plain)
    ):
        return False, "encryptedToken is not hex(HMAC_SHA256(secret token, plainToken))"
    return True, "answered correctly"


def validate(trigger: str) -> dict[str, Any]:
    """Send one URL validation now, judge the answer, record and return the result."""
    url = setting("ZOOM_SANDBOX_WEBHOOK_URL")
    secret = setting("ZOOM_WEBHOOK_SECRET_TOKEN")
    plain = secrets.token_urlsafe(16)
    with transaction() as conn:
        now_ts = clock.now_ts(conn)
    delivery = Delivery(
        url=url,
        secret=secret,
        event=EVENT,
        body=envelope(EVENT, {"plainToken": plain}, int(now_ts * 1000)),
    )
    try:
        ok, detail = _judge(post_signed(delivery), plain, secret)
    except requests.RequestException as exc:
        ok, detail = False, f"no answer ({type(exc).__name__})"
    with transaction() as conn:
        conn.execute(
            url_validations.insert().values(
                sent_at=now_ts, trigger=trigger, url=url, ok=ok, detail=detail
            )
        )
    return {"at": clock.iso(now_ts), "trigger": trigger, "url": url, "ok": ok, "detail": detail}


def ensure_anchor(conn: Connection) -> None:
    """Start the 72 h count now if nothing has started it yet (fresh or reset sandbox)."""
    if get_state(conn, _ANCHOR) is None:
        set_state(conn, _ANCHOR, repr(clock.now_ts(conn)))


def _due(conn: Connection) -> bool:
    latest = conn.execute(sa.select(sa.func.max(url_validations.c.sent_at))).scalar()
    if latest is None:
        anchor = get_state(conn, _ANCHOR)
        if anchor is None:
            ensure_anchor(conn)
            return False
        latest = float(anchor)
    return clock.now_ts(conn) - latest >= INTERVAL_SECONDS


def run_if_due() -> dict[str, Any] | None:
    """Re-validate if 72 h (sandbox clock) have passed since the last validation."""
    with transaction() as conn:
        due = _due(conn)
    return validate("schedule") if due else None


def history(limit: int = 5) -> list[dict[str, Any]]:
    """The latest validations, newest first (for the console and ``/_control/state``)."""
    with transaction() as conn:
        rows = conn.execute(
            sa.select(url_validations).order_by(url_validations.c.id.desc()).limit(limit)
        ).all()
    return [
        {
            "at": clock.iso(r.sent_at),
            "trigger": r.trigger,
            "url": r.url,
            "ok": r.ok,
            "detail": r.detail,
        }
        for r in rows
    ]


def next_due() -> str:
    """When the next scheduled validation falls due (sandbox clock)."""
    with transaction() as conn:
        latest = conn.execute(sa.select(sa.func.max(url_validations.c.sent_at))).scalar()
        if latest is None:
            ensure_anchor(conn)
            latest = float(get_state(conn, _ANCHOR) or clock.now_ts(conn))
    return clock.iso(latest + INTERVAL_SECONDS)
