"""The Zoom sandbox: a faithful Zoom stand-in served over real HTTP.

The product talks to it exactly as to Zoom (OAuth, ``/v2`` API, signed webhooks). It
imports nothing from the rest of ``dashboard`` and keeps its own database.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, redirect

# Route modules attach their views (and tracking its after_request hook) to the blueprint
# when imported.
from . import (  # noqa: F401
    console,
    control,
    grant_controls,
    join_page,
    mailbox,
    marketplace,
    meetings,
    oauth,
    tracking,
    users_api,
)
from .blueprint import SandboxState, bp
from .directory import seed
from .settings import from_environ
from .storage import create_engine, create_schema
from .webhooks_out import WebhookSender

DEFAULT_URL_PREFIX = "/zoom-sandbox"


def init_app(app: Flask, url_prefix: str = DEFAULT_URL_PREFIX) -> None:
    """Mount the sandbox blueprint on ``app`` and create (or open) its storage.

    The blueprint is exempted from the host's CSRF protection: Zoom's endpoints are
    machine-to-machine, and the sandbox pages are Zoom's, not the host's. Sandbox keys the
    app's config leaves unset are read from the environment (``ZOOM_SANDBOX_*``), as the
    standalone sandbox does.
    """
    for key, value in from_environ().items():
        if app.config.get(key) is None:
            app.config[key] = value
    url = app.config.get("ZOOM_SANDBOX_DATABASE_URL")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = f"sqlite:///{os.path.join(app.instance_path, 'zoom_sandbox.db')}"
    engine = create_engine(url)
    create_schema(engine)
    with engine.begin() as conn:
        seed(conn)
    prefix = url_prefix.rstrip("/")
    app.extensions["zoom_sandbox"] = SandboxState(
        engine=engine, url_prefix=prefix, sender=WebhookSender(engine)
    )
    app.register_blueprint(bp, url_prefix=prefix)
    if "csrf" in app.extensions:
        app.extensions["csrf"].exempt(bp)


def create_standalone_app(config: dict[str, Any] | None = None) -> Flask:
    """A Flask app serving only the sandbox (``flask zoom sandbox --port 5001``, tests).

    Settings come from the environment, overlaid by ``config``. The sandbox is mounted at
    the same prefix as in the host app, so only host and port differ between the two.
    """
    app = Flask(__name__, static_folder=None)
    app.config.update(from_environ())
    app.config.update(config or {})
    init_app(app, url_prefix=DEFAULT_URL_PREFIX)

    @app.get("/")
    def _home() -> Any:
        return redirect(f"{DEFAULT_URL_PREFIX}/")

    return app


def start_mail_catcher(app: Flask, port: int) -> None:
    """Serve the local mail catcher beside the mounted sandbox (``make run``)."""
    from .mail_catcher import start

    state = app.extensions["zoom_sandbox"]
    state.mail_catcher = start(state.engine, port)


def shutdown(app: Flask) -> None:
    """Stop the webhook thread and close the database pool (tests, process exit)."""
    state = app.extensions.get("zoom_sandbox")
    if state is not None:
        if state.mail_catcher is not None:
            state.mail_catcher.stop()
        state.sender.close()
        state.engine.dispose()
