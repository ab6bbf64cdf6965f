"""`flask zoom worker` scaled down in time, for the fault suite: run as
``python -m tests.postgres.fleet_worker --poll 0.2``.

The fault suite shrinks every duration by the same factor so the whole run fits in a few
minutes: Zoom's slowness (sandbox delays) and the app's patience with it. The settings have
no keys for the Zoom client's timeout or the retry backoff yet, so this process sets them
on the app it builds (from ``FLEET_ZOOM_READ_TIMEOUT``, ``FLEET_RETRY_BASE_DELAY`` and
``FLEET_RETRY_MAX_DELAY``); everything else is the real worker loop.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

from dashboard import create_app
from dashboard.extensions import zoom
from dashboard.services import retry_policy, worker


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--poll", type=float, default=1.0)
    poll = parser.parse_args().poll
    app = create_app()
    read_timeout = float(os.environ["FLEET_ZOOM_READ_TIMEOUT"])
    zoom.client_of(app)._timeout = (min(3.05, read_timeout), read_timeout)
    retry_policy.BASE_DELAY = float(os.environ["FLEET_RETRY_BASE_DELAY"])
    retry_policy.MAX_DELAY = float(os.environ["FLEET_RETRY_MAX_DELAY"])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.run(app, stop, poll)


if __name__ == "__main__":
    main()
