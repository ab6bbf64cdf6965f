"""Lakesis Zoom integration: the dashboard, the booking API and the Zoom meeting sync."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.config import load_config
from dashboard.extensions import csrf, db, login_manager, migrate, zoom

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app, one step a line; each step does what its name says."""
    instance_path = Path(os.environ.get("LAKESIS_INSTANCE_PATH") or PROJECT_ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(os.environ, instance_path, overrides))
    configure_logging(app)
    mount_zoom_webhooks(app)
    apply_proxy_fix(app)
    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    mount_zoom_sandbox(app)
    register_security_headers(app)
    register_template_filters(app)
    register_template_globals(app)
    register_error_handlers(app)
    register_commands(app)
    subscribe_to_events()
    start_embedded_worker(app)
    return app


def subscribe_to_events() -> None:
    """What follows each recorded event in its transaction: the customer's and the admins'
    email (the webhook deliveries are written by ``booking_events`` itself)."""
    from dashboard.services import customer_mail

    customer_mail.subscribe()


def configure_logging(app: Flask) -> None:
    from dashboard import log_format, log_redaction

    log_format.init_app(app)
    logging.getLogger("dashboard").setLevel(app.config["LOG_LEVEL"])
    log_redaction.install("werkzeug")  # the dev server's access log: no OAuth code in it


def mount_zoom_webhooks(app: Flask) -> None:
    """Zoom's webhooks ahead of the app's views (inside ProxyFix): see ``webhooks.receiver``."""
    from dashboard import webhooks

    webhooks.mount(app)


def apply_proxy_fix(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS proxies, believe their X-Forwarded-* headers."""
    if app.config["TRUSTED_PROXY_HOPS"]:
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    from dashboard import models  # noqa: F401 - registers the tables before migrate looks
    from dashboard.db_pool import ping_when_idle

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_when_idle(engine, app.config["DB_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    from dashboard.session_cookie import SessionCookie

    app.session_interface = SessionCookie()
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    from dashboard.metrics import CountingSession

    zoom.init_app(app, session=CountingSession())

    # The cookies name a server-side session, not a user: see services.user_sessions.
    from dashboard.services.user_sessions import user_of_session

    login_manager.user_loader(user_of_session)


def register_url_converters(app: Flask) -> None:
    from dashboard import url_converters

    url_converters.init_app(app)


def register_blueprints(app: Flask) -> None:
    from dashboard.api import bp as api_bp
    from dashboard.api_keys import bp as api_keys_bp
    from dashboard.audit_log import bp as audit_log_bp
    from dashboard.auth import bp as auth_bp
    from dashboard.bookings import bp as bookings_bp
    from dashboard.health import bp as health_bp
    from dashboard.integrations import bp as integrations_bp
    from dashboard.members import bp as members_bp
    from dashboard.ops import bp as ops_bp
    from dashboard.webhook_endpoints import bp as webhook_endpoints_bp
    from dashboard.webhooks import bp as webhooks_bp
    from dashboard.workspaces import bp as workspaces_bp

    for blueprint in (auth_bp, workspaces_bp, bookings_bp, health_bp, members_bp, api_keys_bp,
                      audit_log_bp, integrations_bp, webhook_endpoints_bp, webhooks_bp, api_bp,
                      ops_bp):
        app.register_blueprint(blueprint)


def mount_zoom_sandbox(app: Flask) -> None:
    """In sandbox mode the app serves the fake Zoom itself, under ZOOM_SANDBOX_URL."""
    if app.config["ZOOM_MODE"] == "sandbox":
        from dashboard import sandbox

        sandbox.init_app(app)
        if app.config["EMBEDDED_WORKER"]:
            # make run: the mail the embedded worker sends lands in the sandbox's catcher.
            sandbox.start_mail_catcher(app, app.config["ZOOM_SANDBOX_SMTP_PORT"])


def register_security_headers(app: Flask) -> None:
    from dashboard import security_headers

    security_headers.init_app(app)


def register_template_filters(app: Flask) -> None:
    from dashboard import dates, time_zones
    from dashboard.bookings import display

    display.init_app(app)
    dates.init_app(app)
    app.add_template_global(time_zones.choices, "zone_choices")


def register_template_globals(app: Flask) -> None:
    """What every template may use: who is asking, and the enums instead of status words."""
    from dashboard.access import current_membership, my_memberships
    from dashboard.models import (
        BookingState,
        ConnectionStatus,
        MeetingStatus,
        OperationState,
        Permission,
        Role,
    )
    from dashboard.services.connection_summary import removed_in_marketplace, waiting_bookings
    from dashboard.services.connections import connection_of

    app.jinja_env.globals.update(
        current_membership=current_membership, my_memberships=my_memberships,
        zoom_connection_of=connection_of, zoom_removed_in_marketplace=removed_in_marketplace,
        bookings_waiting_for_zoom=waiting_bookings, BookingState=BookingState,
        ConnectionStatus=ConnectionStatus, MeetingStatus=MeetingStatus,
        OperationState=OperationState, Permission=Permission, Role=Role)


def register_error_handlers(app: Flask) -> None:
    from dashboard import errors

    errors.init_app(app)


def start_embedded_worker(app: Flask) -> None:
    """Under `make run` the dev server drains the outbox itself, so meetings appear with no
    extra command; production runs `flask zoom worker` processes instead."""
    if app.config["EMBEDDED_WORKER"]:
        from dashboard.services.worker import start_thread

        start_thread(app)


def register_commands(app: Flask) -> None:
    from dashboard import cli

    cli.init_app(app)
