"""What ``/metrics`` exports, in the Prometheus text format (prometheus-client).

Two kinds of figures:
- counters each process keeps (Zoom calls, token refreshes, webhook deliveries): with
  gunicorn's several workers and separate ``flask zoom worker`` processes, set
  ``PROMETHEUS_MULTIPROC_DIR`` to a directory they share (wiped at start) and every
  process's counts are summed; without it, each process reports its own;
- gauges read from the database at scrape time (outbox work by state, the oldest due
  operation's age), the same whichever process answers. Each is one indexed query.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from prometheus_client import CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Operation, OperationState
from dashboard.orm import utcnow
from dashboard.services import worker_heartbeat

ZOOM_CALLS = Counter("lakesis_zoom_calls", "Calls to Zoom's API and OAuth endpoints",
                     ["endpoint", "outcome"])
TOKEN_REFRESHES = Counter("lakesis_zoom_token_refreshes",
                          "Zoom access-token refreshes by outcome", ["outcome"])
WEBHOOK_EVENTS = Counter("lakesis_zoom_webhook_requests",
                         "Requests to POST /webhooks/zoom by outcome", ["outcome"])
_PROCESS_COUNTERS = (ZOOM_CALLS, TOKEN_REFRESHES, WEBHOOK_EVENTS)

# Work that is not finished, and work that gave up, are what an alert watches; succeeded
# operations only grow, and counting them would scan the history.
_COUNTED_STATES = sorted(OperationState.UNFINISHED | OperationState.GAVE_UP)


class DatabaseCollector(Collector):
    """Gauges read from the database of ``app`` at each scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        with self.app.app_context():
            try:
                yield from self._operations()
                yield self._heartbeat_age()
            finally:
                db.session.remove()

    def _operations(self) -> Iterator[Metric]:
        by_state = GaugeMetricFamily("lakesis_operations", "Outbox operations by state and kind",
                                     labels=["state", "kind"])
        rows = db.session.execute(
            select(Operation.state, Operation.kind, func.count())
            .where(Operation.state.in_(_COUNTED_STATES))
            .group_by(Operation.state, Operation.kind))
        for state, kind, count in rows:
            by_state.add_metric([state, kind], count)
        yield by_state
        oldest = db.session.scalar(select(func.min(Operation.next_attempt_at)).where(
            Operation.state == OperationState.QUEUED, Operation.next_attempt_at <= utcnow()))
        age = (utcnow() - oldest) if oldest else timedelta(0)
        yield GaugeMetricFamily("lakesis_oldest_due_operation_age_seconds",
                                "How long the oldest due, queued operation has waited",
                                value=max(age.total_seconds(), 0.0))

    @staticmethod
    def _heartbeat_age() -> Metric:
        beat = worker_heartbeat.latest()
        return GaugeMetricFamily(
            "lakesis_worker_heartbeat_age_seconds",
            "Seconds since any Zoom worker last showed it was alive (-1: never)",
            value=(utcnow() - beat).total_seconds() if beat else -1.0)


class _ThisProcess(Collector):
    def collect(self) -> Iterator[Metric]:
        for counter in _PROCESS_COUNTERS:
            yield from counter.collect()


def exposition(app: Flask) -> bytes:
    """The whole text a scrape gets."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(app))
    return generate_latest(registry)


def _endpoint(url: str) -> str:
    """``/v2/meetings/{id}`` for any meeting: labels stay few whatever the ids are."""
    path = urlsplit(url).path
    for root in ("/v2/", "/oauth/"):
        if root in path:
            path = root + path.split(root, 1)[1]
            break
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


class CountingSession(requests.Session):
    """A ``requests.Session`` that counts each call by endpoint and outcome (status class,
    or the network error's name), whatever answers: live Zoom or the sandbox."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        endpoint = f"{method!s} {_endpoint(str(url))}"
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException as error:
            ZOOM_CALLS.labels(endpoint, error.__class__.__name__).inc()
            raise
        ZOOM_CALLS.labels(endpoint, f"{response.status_code // 100}xx").inc()
        return response
