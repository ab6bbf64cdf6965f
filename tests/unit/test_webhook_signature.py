"""Zoom webhook signatures: the scheme in ../shared/zoom/README.md, replay window included."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from dashboard.zoom import webhook_signature
from dashboard.zoom.webhook_signature import sign, url_validation_response, verify

SECRET = "webhook-secret-token"
NOW = 1_764_514_800.0
TS = str(int(NOW))
EVENT = {
    "event": "meeting.started",
    "event_ts": 1764514800000,
    "payload": {"account_id": "acc-1", "object": {"id": "81047304804", "uuid": "aBc=="}},
}
BODY = json.dumps(EVENT, separators=(",", ":")).encode()


def test_signature_is_v0_hex_hmac_sha256_over_version_timestamp_and_raw_body():
    expected = hmac.new(SECRET.encode(), b"v0:" + TS.encode() + b":" + BODY, hashlib.sha256)

    assert sign(SECRET, TS, BODY) == "v0=" + expected.hexdigest()


def test_a_fresh_correctly_signed_request_is_accepted():
    assert verify(SECRET, TS, sign(SECRET, TS, BODY), BODY, now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body"),
    [
        (TS, sign(SECRET, TS, BODY), BODY.replace(b"81047304804", b"81047304805")),
        (TS, sign("another-secret", TS, BODY), BODY),
        (TS, sign(SECRET, TS, BODY).removeprefix("v0="), BODY),
        (TS, sign(SECRET, TS, BODY).upper(), BODY),
        (TS, "v0=caf\u00e9", BODY),
        (str(int(NOW) - 1), sign(SECRET, TS, BODY), BODY),  # signed for another time
    ],
    ids=["tampered-body", "wrong-secret", "no-version", "case-changed", "non-ascii", "other-ts"],
)
def test_a_wrong_signature_is_rejected(timestamp, signature, body):
    assert not verify(SECRET, timestamp, signature, body, now=NOW)


def test_verification_is_on_the_raw_body_not_a_reserialized_one():
    signature = sign(SECRET, TS, BODY)
    pretty = json.dumps(json.loads(BODY)).encode()  # same JSON, different bytes

    assert not verify(SECRET, TS, signature, pretty, now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [(None, "v0=00"), ("", "v0=00"), (TS, None), (TS, "")],
    ids=["no-ts", "empty-ts", "no-signature", "empty-signature"],
)
def test_missing_headers_are_rejected(timestamp, signature):
    assert not verify(SECRET, timestamp, signature, BODY, now=NOW)


@pytest.mark.parametrize("timestamp", ["abc", "1.5e9", "-1764514800", "+1764514800", " 1764514800"])
def test_non_numeric_timestamps_are_rejected_even_when_signed(timestamp):
    assert not verify(SECRET, timestamp, sign(SECRET, timestamp, BODY), BODY, now=NOW)


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(0, True), (300, True), (-300, True), (301, False), (-301, False), (86_400, False)],
)
def test_timestamps_outside_the_replay_window_are_rejected(age, accepted):
    timestamp = str(int(NOW) - age)

    assert verify(SECRET, timestamp, sign(SECRET, timestamp, BODY), BODY, now=NOW) is accepted


def test_the_replay_window_can_be_narrowed():
    timestamp = str(int(NOW) - 60)

    assert not verify(SECRET, timestamp, sign(SECRET, timestamp, BODY), BODY, now=NOW, tolerance=30)


def test_comparison_is_constant_time(monkeypatch):
    seen = []
    real = hmac.compare_digest
    monkeypatch.setattr(
        webhook_signature.hmac, "compare_digest", lambda a, b: seen.append(1) or real(a, b)
    )

    assert verify(SECRET, TS, sign(SECRET, TS, BODY), BODY, now=NOW)
    assert seen == [1]


def test_an_empty_secret_never_verifies():
    assert not verify("", TS, sign("", TS, BODY), BODY, now=NOW)


def test_url_validation_answers_plain_token_with_its_hmac():
    expected = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()

    assert url_validation_response(SECRET, "qgg8vlvZRS6UYooatFL8Aw") == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": expected,
    }
