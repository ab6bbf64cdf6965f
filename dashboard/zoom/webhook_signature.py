"""Zoom webhook signatures: sign, verify and answer URL validation.

Pure functions over the raw request body, so the receiver (``webhooks.py``) and the
sandbox (which sends signed events) share one definition of the scheme:
``"v0=" + hex(HMAC_SHA256(secret, "v0:" + timestamp + ":" + raw_body))``.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_VERSION = "v0"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``x-zm-signature`` value Zoom sends for ``body`` at ``timestamp`` (epoch seconds)."""
    message = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float,
    tolerance: int = 300,
) -> bool:
    """True only for a correct signature over the raw ``body`` with a fresh timestamp.

    ``now`` is the receiver's epoch time. A timestamp more than ``tolerance`` seconds
    old (a replay) or ahead (a forged or badly skewed clock) is refused, as is a missing
    or non-numeric one. The comparison is constant-time.
    """
    if not secret or not timestamp or not signature:
        return False
    # Digits only: int() would also accept "+12", " 12" or "1_2", which Zoom never sends.
    # At most 12 digits (epoch seconds until the year 33658): a longer one cannot be fresh,
    # and subtracting it from a float would overflow.
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace"))


def url_validation_response(secret: str, plain_token: str) -> dict[str, str]:
    """The JSON body answering Zoom's ``endpoint.url_validation`` challenge."""
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}
