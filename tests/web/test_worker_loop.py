"""The worker's loop when every loop fails (the database is down): one traceback, then a
line now and then and a growing pause; one line when it works again."""

from __future__ import annotations

import logging
import threading

from dashboard.services import meeting_sync, worker


def _run_for(app, seconds: float, poll: float) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(app, stop, poll), daemon=True)
    thread.start()
    stop.wait(seconds)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


def test_a_loop_failing_again_and_again_logs_one_traceback_and_backs_off(
        app, monkeypatch, caplog):
    calls = []

    def broken(*_):
        calls.append(1)
        raise ConnectionError("database is down")

    monkeypatch.setattr(meeting_sync, "run_once", broken)
    with caplog.at_level(logging.INFO, logger=worker.log.name):
        _run_for(app, 1.0, poll=0.01)
    failures = [r for r in caplog.records if "fail" in r.getMessage()]
    # Without the backoff a 10 ms poll would have tried about a hundred times.
    assert 3 <= len(calls) <= 8
    assert sum(r.exc_info is not None for r in failures) == 1
    assert all("database is down" not in r.getMessage() for r in failures[1:])
    assert len(failures) < len(calls)


def test_it_says_once_when_it_works_again(app, monkeypatch, caplog):
    calls = []
    real = meeting_sync.run_once

    def flaky(*args):
        calls.append(1)
        if len(calls) <= 3:
            raise ConnectionError("database is down")
        return real(*args)

    monkeypatch.setattr(meeting_sync, "run_once", flaky)
    with caplog.at_level(logging.INFO, logger=worker.log.name):
        _run_for(app, 1.0, poll=0.01)
    assert len(calls) > 4
    again = [r for r in caplog.records if "working again after 3 failed loops" in r.getMessage()]
    assert len(again) == 1
