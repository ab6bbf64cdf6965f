"""The baseline of the webhook-ingest benchmark: the least a Zoom receiver must do.

Verify Zoom's HMAC over the raw body with a fresh timestamp, insert the body once under its
sha256 (a replay is a duplicate), answer 200. ``gunicorn tests.perf.bare_webhook_wsgi:app``
with the same workers and database kind as ``wsgi:app``; what is left between the two is
the dashboard's own cost (parsing, shapes, storing the trimmed event, applying it).

Hand-written on purpose, sharing nothing with the dashboard (``BENCH_DATABASE_URL``,
``BENCH_WEBHOOK_SECRET`` from the environment).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

from flask import Flask, jsonify, request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, insert
from sqlalchemy.exc import IntegrityError

SECRET = os.environ.get("BENCH_WEBHOOK_SECRET", "")
engine = create_engine(os.environ.get("BENCH_DATABASE_URL", "sqlite://"))
events = Table("bare_events", MetaData(), Column("id", Integer, primary_key=True),
               Column("dedupe_key", String(64), unique=True), Column("body", Text))
app = Flask(__name__)


@app.post("/webhooks/zoom")
def receive():  # noqa: ANN201 - a baseline, kept as small as it can be
    raw = request.get_data()
    stamp = request.headers.get("x-zm-request-timestamp", "")
    expected = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + raw,
                                hashlib.sha256).hexdigest()
    if (not stamp.isdigit() or abs(time.time() - int(stamp)) > 300
            or not hmac.compare_digest(expected, request.headers.get("x-zm-signature", ""))):
        return jsonify({"error": "invalid signature"}), 401
    try:
        with engine.begin() as conn:
            conn.execute(insert(events).values(dedupe_key=hashlib.sha256(raw).hexdigest(),
                                               body=raw.decode()))
    except IntegrityError:
        return jsonify({"status": "duplicate"})
    return jsonify({"status": "received"})
