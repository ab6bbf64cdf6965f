"""Benchmarks stop their subprocesses in ``finally`` blocks; make SIGTERM (a timeout, a CI
cancel, ``kill``) unwind like Ctrl-C so those blocks run and nothing is left serving."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _sigterm_unwinds() -> Iterator[None]:
    def interrupt(signum: int, frame: object) -> None:
        # Once only: a second SIGTERM (timeout(1) forwards its own) must not cut the
        # clean-up short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)
