"""The loop that drains the outbox: `flask zoom worker`, or a thread of the dev server."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from dashboard.extensions import db
from dashboard.services import (
    meeting_sync,
    outbox,
    reconcile,
    webhook_events,
    worker_heartbeat,
)

log = logging.getLogger(__name__)
WEBHOOK_SWEEP_SECONDS = 15.0
# Well inside readiness's default limit (LAKESIS_WORKER_HEARTBEAT_MAX_AGE, 60 s).
HEARTBEAT_SECONDS = 10.0
# How often the worker looks for reconciliation passes asked for (the button) or due.
RECONCILE_CHECK_SECONDS = 5.0


def run(app: Flask, stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Run due operations until ``stop`` is set; sleep ``poll_seconds`` when idle.

    Also applies webhook events that were stored but never applied (a process that died
    between answering Zoom and applying the event), and runs reconciliation passes: those
    asked for, and each connected workspace's every LAKESIS_RECONCILE_INTERVAL_SECONDS.
    """
    worker = outbox.worker_id()
    last_sweep = last_beat = last_reconcile = float("-inf")
    started = time.monotonic()
    log.info("Zoom worker %s started", worker)
    while not stop.is_set():
        busy = False
        with app.app_context():
            try:
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    worker_heartbeat.beat(worker)
                    last_beat = time.monotonic()
                busy = meeting_sync.run_once(worker)
                if time.monotonic() - last_sweep > WEBHOOK_SWEEP_SECONDS:
                    webhook_events.apply_pending()
                    last_sweep = time.monotonic()
                if not busy and time.monotonic() - last_reconcile > RECONCILE_CHECK_SECONDS:
                    _reconcile(time.monotonic() - started)
                    last_reconcile = time.monotonic()
            except Exception:
                log.exception("Zoom worker %s: iteration failed; going on", worker)
                db.session.rollback()
            finally:
                db.session.remove()
        if not busy:
            stop.wait(poll_seconds)
    log.info("Zoom worker %s stopped", worker)


def _reconcile(running_seconds: float) -> None:
    # The periodic pass first comes one interval after the worker starts: a fleet of
    # workers (re)started together does not list every host's meetings at once.
    every = reconcile.interval()
    if every is not None and running_seconds >= every.total_seconds():
        reconcile.queue_due(every)
    reconcile.run_queued()


def start_thread(app: Flask, poll_seconds: float = 1.0) -> threading.Event:
    """Run the worker in a daemon thread of this process; set the returned event to stop."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop, poll_seconds), daemon=True,
                              name="zoom-worker")
    thread.start()
    return stop
