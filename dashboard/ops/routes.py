"""``/healthz`` (the process answers), ``/readyz`` (it can do its job), ``/metrics``.

The first two say nothing secret and are public, so a load balancer can ask them. The
metrics are operational detail: with ``METRICS_TOKEN`` set a scraper sends it as a bearer
token; without it only this machine (loopback) may scrape.
"""

from __future__ import annotations

import hmac
from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import abort, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from dashboard import metrics
from dashboard.access import public
from dashboard.extensions import db
from dashboard.ops.blueprint import bp
from dashboard.orm import utcnow
from dashboard.services import worker_heartbeat

_LOOPBACK = frozenset({"127.0.0.1", "::1"})


@bp.route("/healthz")
@public
def healthz() -> Response:
    return jsonify(status="ok")


@bp.route("/readyz")
@public
def readyz() -> tuple[Response, int]:
    checks = {"database": _database(), "migrations": _migrations(), "worker": _worker()}
    ready = all(check["ok"] for check in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), (
        200 if ready else 503)


@bp.route("/metrics")
@public
def metrics_text() -> Response:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            abort(401, "Send the metrics token as `Authorization: Bearer <METRICS_TOKEN>`.")
    elif request.remote_addr not in _LOOPBACK:
        abort(403, "Metrics are served to this machine only unless METRICS_TOKEN is set.")
    return Response(metrics.exposition(current_app._get_current_object()),
                    mimetype="text/plain; version=0.0.4; charset=utf-8")


def _database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return {"ok": False, "detail": f"unreachable: {error.__class__.__name__}"}
    return {"ok": True, "detail": "reachable"}


@cache
def _code_heads() -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _migrations() -> dict:
    heads = _code_heads()
    try:
        applied = frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        db.session.rollback()
        return {"ok": False, "detail": "not applied: run `flask db upgrade`"}
    if applied != heads:
        at = ", ".join(sorted(applied)) or "nothing"
        return {"ok": False, "detail": f"database at {at}, code at {', '.join(sorted(heads))}: "
                                       "run `flask db upgrade`"}
    return {"ok": True, "detail": f"at head {', '.join(sorted(heads))}"}


def _worker() -> dict:
    try:
        beat = worker_heartbeat.latest()
    except SQLAlchemyError:
        db.session.rollback()
        return {"ok": False, "detail": "heartbeats unreadable"}
    limit = current_app.config["WORKER_HEARTBEAT_MAX_AGE_SECONDS"]
    if beat is None:
        return {"ok": False, "detail": "no Zoom worker has ever run: start `flask zoom worker`"}
    age = (utcnow() - beat).total_seconds()
    if age > limit:
        return {"ok": False, "detail": f"last worker heartbeat {age:.0f} s ago (limit {limit} s)"}
    return {"ok": True, "detail": f"last worker heartbeat {age:.0f} s ago"}
