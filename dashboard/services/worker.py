"""The loop that drains the outbox: `flask zoom worker`, or a thread of the dev server."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from dashboard.extensions import db
from dashboard.services import (
    bulk_jobs,
    meeting_sync,
    outbox,
    webhook_events,
    worker_heartbeat,
)

log = logging.getLogger(__name__)
WEBHOOK_SWEEP_SECONDS = 15.0
# Well inside readiness's default limit (LAKESIS_WORKER_HEARTBEAT_MAX_AGE, 60 s).
HEARTBEAT_SECONDS = 10.0
# Bulk jobs are looked for once a second while there are none (one indexed query), not
# between every two operations of a burst.
BULK_JOB_SECONDS = 1.0


def run(app: Flask, stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Run due operations until ``stop`` is set; sleep ``poll_seconds`` when idle.

    Also applies webhook events that were stored but never applied (a process that died
    between answering Zoom and applying the event).
    """
    worker = outbox.worker_id()
    last_sweep = last_beat = last_jobs = float("-inf")
    jobs_busy = False
    log.info("Zoom worker %s started", worker)
    while not stop.is_set():
        busy = False
        with app.app_context():
            try:
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    worker_heartbeat.beat(worker)
                    last_beat = time.monotonic()
                busy = meeting_sync.run_once(worker)
                # A bulk job's chunk only queues work (no Zoom calls): between operations.
                if jobs_busy or time.monotonic() - last_jobs > BULK_JOB_SECONDS:
                    jobs_busy = bulk_jobs.run_chunk()
                    last_jobs = time.monotonic()
                busy = busy or jobs_busy
                if time.monotonic() - last_sweep > WEBHOOK_SWEEP_SECONDS:
                    webhook_events.apply_pending()
                    last_sweep = time.monotonic()
            except Exception:
                log.exception("Zoom worker %s: iteration failed; going on", worker)
                db.session.rollback()
            finally:
                db.session.remove()
        if not busy:
            stop.wait(poll_seconds)
    log.info("Zoom worker %s stopped", worker)


def start_thread(app: Flask, poll_seconds: float = 1.0) -> threading.Event:
    """Run the worker in a daemon thread of this process; set the returned event to stop."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop, poll_seconds), daemon=True,
                              name="zoom-worker")
    thread.start()
    return stop
