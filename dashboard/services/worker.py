"""The loop that drains the outbox: `flask zoom worker`, or a thread of the dev server."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask

from dashboard.extensions import db
from dashboard.services import (
    admin_alerts,
    bulk_jobs,
    mail_delivery,
    meeting_sync,
    outbox,
    reconcile,
    webhook_delivery,
    webhook_events,
    worker_heartbeat,
)

log = logging.getLogger(__name__)
# Well inside readiness's default limit (LAKESIS_WORKER_HEARTBEAT_MAX_AGE, 60 s).
HEARTBEAT_SECONDS = 10.0
EVENT_PURGE_SECONDS = 3600.0
#: how often the worker looks for workspaces whose admins are due a "Zoom stopped" reminder
ALERT_SWEEP_SECONDS = 300.0
# How often the worker looks for reconciliation passes asked for (the button) or due.
RECONCILE_CHECK_SECONDS = 5.0
# After a failed loop (the database is down, say) the next waits twice as long, up to this.
MAX_BACKOFF_SECONDS = 30.0
# Bulk jobs are looked for once a second while there are none (one indexed query), not
# between every two operations of a burst.
BULK_JOB_SECONDS = 1.0


class _Every:
    """Runs ``task`` at most once every ``seconds`` (the first call runs it)."""

    def __init__(self, seconds: float, task: Callable[[], object]) -> None:
        self.seconds, self.task, self.last = seconds, task, float("-inf")

    def __call__(self) -> None:
        if time.monotonic() - self.last > self.seconds:
            self.task()
            self.last = time.monotonic()


def run(app: Flask, stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Run due work until ``stop`` is set; sleep ``poll_seconds`` when idle.

    Each loop runs one due outbox operation (and a chunk of a bulk job, if one runs),
    applies the Zoom webhook events stored since the last loop (the webhook route only
    stores them, so Zoom's answer costs one insert)
    and sends one due outbound webhook delivery and one due email; now and then it beats
    its heartbeat, deletes events past their retention, reminds admins daily while Zoom is
    not working, and runs reconciliation passes
    (those asked for, and each connected workspace's every
    LAKESIS_RECONCILE_INTERVAL_SECONDS).

    A loop that fails is logged with its traceback once; while loops keep failing, a line
    at the 2nd, 4th, 8th... failure and a growing pause (not a traceback a second), and one
    line when they succeed again.
    """
    worker = outbox.worker_id()
    started = time.monotonic()
    periodic = [_Every(HEARTBEAT_SECONDS, lambda: worker_heartbeat.beat(worker)),
                _Every(EVENT_PURGE_SECONDS, webhook_delivery.purge_expired),
                _Every(ALERT_SWEEP_SECONDS, admin_alerts.remind_all)]
    # Only when idle: a pass lists every host's meetings, which a burst need not wait for.
    reconcile_when_idle = _Every(RECONCILE_CHECK_SECONDS,
                                 lambda: _reconcile(time.monotonic() - started))
    failures = 0
    jobs_busy = False
    last_jobs = float("-inf")
    log.info("Zoom worker %s started", worker)
    while not stop.is_set():
        busy = False
        with app.app_context():
            try:
                for task in periodic:
                    task()
                busy = meeting_sync.run_once(worker)
                # A bulk job's chunk only queues work (no Zoom calls): between operations.
                if jobs_busy or time.monotonic() - last_jobs > BULK_JOB_SECONDS:
                    jobs_busy = bulk_jobs.run_chunk()
                    last_jobs = time.monotonic()
                busy = busy or jobs_busy
                busy = webhook_events.apply_pending() > 0 or busy
                busy = webhook_delivery.run_once(worker) or busy
                busy = mail_delivery.run_once(worker) or busy
                if not busy:
                    reconcile_when_idle()
            except Exception as error:
                failures += 1
                _log_failure(worker, failures, error)
                _rollback()
            else:
                if failures:
                    log.info("Zoom worker %s: working again after %d failed loops", worker,
                             failures)
                failures = 0
            finally:
                db.session.remove()
        if failures:
            stop.wait(min(poll_seconds * 2 ** failures, MAX_BACKOFF_SECONDS))
        elif not busy:
            stop.wait(poll_seconds)
    log.info("Zoom worker %s stopped", worker)


def _reconcile(running_seconds: float) -> None:
    # The periodic pass first comes one interval after the worker starts: a fleet of
    # workers (re)started together does not list every host's meetings at once.
    every = reconcile.interval()
    if every is not None and running_seconds >= every.total_seconds():
        reconcile.queue_due(every)
    reconcile.run_queued()


def _log_failure(worker: str, failures: int, error: Exception) -> None:
    if failures == 1:
        log.exception("Zoom worker %s: iteration failed; going on", worker)
    elif failures & (failures - 1) == 0:  # a power of two
        log.warning("Zoom worker %s: still failing (%d loops in a row): %s", worker, failures,
                    type(error).__name__)


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is gone too: remove() discards it
        log.debug("rollback after a failed loop failed as well", exc_info=True)


def start_thread(app: Flask, poll_seconds: float = 1.0) -> threading.Event:
    """Run the worker in a daemon thread of this process; set the returned event to stop."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop, poll_seconds), daemon=True,
                              name="zoom-worker")
    thread.start()
    return stop
