"""gunicorn settings read from the project root (gunicorn loads ./gunicorn.conf.py itself):
`gunicorn wsgi:app`. Any of them can be overridden on the command line.

The access log blanks the OAuth callback's code and state and any token-like query value.
"""

import multiprocessing
import os

logger_class = "dashboard.gunicorn_access_log.RedactingLogger"

# --- Serving (each overridable on the command line or with GUNICORN_CMD_ARGS) -----------
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Sync workers: each request is short (a page, an API call, a webhook stored); two per core
# keep the CPU busy while others wait on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "sync"
# Zoom wants a webhook answer within 3 s; nothing the web does calls Zoom except connect,
# disconnect and the OAuth callback (10 s read timeout each): 30 s covers them.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (jittered so they do not restart together).
max_requests = 2000
max_requests_jitter = 200
# GUNICORN_ACCESS_LOG="" turns the access log off (the benchmarks do, for both sides).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"


def on_starting(server: object) -> None:
    """Counters of a previous run must not be summed into this one's (prometheus-client)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
