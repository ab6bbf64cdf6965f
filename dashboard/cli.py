"""Flask commands: create-user, seed-demo, api-keys create,
zoom worker|reconcile|sandbox|rotate-keys."""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Membership, Role, User, Workspace
from dashboard.services import ServiceError, api_keys, members
from dashboard.services.audit import Actor

DEMO_WORKSPACE = ("Acme Clinic", "acme")
DEMO_USERS = (
    ("admin@demo.lakesis.test", "Ada Admin", Role.ADMIN),
    ("operator@demo.lakesis.test", "Otto Operator", Role.OPERATOR),
    ("support@demo.lakesis.test", "Sam Support", Role.SUPPORT),
)


def _workspace(slug: str) -> Workspace:
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise click.ClickException(f"no workspace with slug {slug!r}")
    return workspace


def ensure_workspace(name: str, slug: str) -> Workspace:
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        workspace = Workspace(name=name, slug=slug)
        db.session.add(workspace)
        db.session.flush()
    return workspace


def ensure_member(workspace: Workspace, email: str, name: str, role: Role, password: str) -> User:
    """Create the user if missing and make them a member with ``role`` (idempotent)."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = members.create_user(email, name, password)
    membership = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.workspace_id == workspace.id))
    if membership is None:
        db.session.add(Membership(user=user, workspace=workspace, role=role.value))
    return user


def init_app(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", default="")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--workspace", "slug", help="slug of a workspace to join (made if missing)")
    @click.option("--workspace-name", help="name for a new workspace")
    @click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value)
    def create_user(email: str, name: str, password: str, slug: str | None,
                    workspace_name: str | None, role: str) -> None:
        """Create a user, optionally as a member of a workspace."""
        try:
            if slug:
                workspace = ensure_workspace(workspace_name or slug, slug)
                ensure_member(workspace, members.normalize_email(email), name, Role(role),
                              password)
            else:
                members.create_user(email, name, password)
        except ServiceError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error
        db.session.commit()
        click.echo(f"created {members.normalize_email(email)}")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create (or keep) the demo workspace, its three users and its demo bookings."""
        from dashboard import demo_bookings, demo_zoom
        from dashboard.services.meeting_defaults import defaults_for

        password = os.environ.get("DEMO_PASSWORD") or "lakesis-demo"
        workspace = ensure_workspace(*DEMO_WORKSPACE)
        try:
            for email, name, role in DEMO_USERS:
                ensure_member(workspace, email, name, role, password)
        except ServiceError as error:
            db.session.rollback()
            raise click.ClickException(f"DEMO_PASSWORD: {error.message}") from error
        make_meeting, where = None, "no Zoom calls were made, their meetings are made up"
        if demo_zoom.available():
            admin = db.session.scalar(select(User).where(User.email == DEMO_USERS[0][0]))
            connection = demo_zoom.connect(workspace, admin)
            defaults = defaults_for(workspace.id)

            def make_meeting(booking, status):  # noqa: ANN001, ANN202 - demo_bookings.MakeMeeting
                return demo_zoom.create_meeting(booking, defaults, connection.zoom_email,
                                                status)

            where = (f"their meetings are in the Zoom sandbox, connected as "
                     f"{connection.zoom_email}")
        added = demo_bookings.seed(workspace, make_meeting=make_meeting)
        db.session.commit()
        click.echo(f"Demo workspace {workspace.name} ({workspace.slug}); sign in with:")
        for email, _, role in DEMO_USERS:
            click.echo(f"  {role.value:9} {email} / {password}")
        if added:
            counts = ", ".join(f"{n} {status.replace('_', ' ')}"
                               for status, n in added.most_common())
            click.echo(f"Added {added.total()} demo bookings (demo-0001..): {counts}; {where}.")
        else:
            click.echo("Demo bookings already there; nothing added.")

    api_keys_group = AppGroup("api-keys", help="Manage API keys of the booking workflow.")
    app.cli.add_command(api_keys_group)

    @api_keys_group.command("create")
    @click.argument("workspace_slug")
    @click.argument("name")
    def create_api_key(workspace_slug: str, name: str) -> None:
        """Make an API key for WORKSPACE_SLUG and print it (this is the only time it is shown)."""
        try:
            issued = api_keys.issue(_workspace(workspace_slug), Actor.system(), name, None)
        except ServiceError as error:
            raise click.ClickException(error.message) from error
        click.echo(issued.secret)

    zoom_group = AppGroup("zoom", help="The Zoom side: meeting worker, sandbox, key rotation.")
    app.cli.add_command(zoom_group)

    @zoom_group.command("worker")
    @click.option("--poll", default=1.0, show_default=True, help="seconds between idle polls")
    def zoom_worker(poll: float) -> None:
        """Create, update and delete Zoom meetings from the outbox until stopped (SIGTERM)."""
        import signal
        import threading

        from dashboard.services import worker

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            worker.run(app, stop, poll)
        except KeyboardInterrupt:
            stop.set()

    @zoom_group.command("reconcile")
    @click.option("--workspace", "slug", help="slug of one workspace (default: every "
                  "connected one)")
    def zoom_reconcile(slug: str | None) -> None:
        """Compare upcoming meetings with Zoom's and record drift and deletions missed."""
        from dashboard.models import ConnectionStatus, ZoomConnection
        from dashboard.services import reconcile

        if slug:
            ids = [_workspace(slug).id]
        else:
            ids = list(db.session.scalars(select(ZoomConnection.workspace_id).where(
                ZoomConnection.status == ConnectionStatus.CONNECTED)))
        failed = False
        for workspace_id in ids:
            run = reconcile.reconcile_workspace(workspace_id, trigger="cli",
                                                requested_by="flask zoom reconcile")
            name = db.session.get(Workspace, workspace_id).slug
            click.echo(f"{name}: {run.state} in {run.seconds or 0:.1f} s: "
                       f"{run.meetings_checked} meetings checked, {run.drift_found} changed "
                       f"in Zoom, {run.deleted_found} deleted in Zoom"
                       + (f" ({run.error})" if run.error else ""))
            failed = failed or run.state != "succeeded"
        if failed:
            raise SystemExit(1)

    @zoom_group.command("sandbox")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5001, show_default=True)
    def zoom_sandbox(host: str, port: int) -> None:
        """Serve the Zoom sandbox alone (point ZOOM_SANDBOX_URL at it)."""
        from werkzeug.serving import run_simple

        from dashboard.sandbox import create_standalone_app

        sandbox_app = create_standalone_app({
            key: app.config[key] for key in ("ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET",
                                             "ZOOM_REDIRECT_URI", "ZOOM_WEBHOOK_SECRET_TOKEN",
                                             "ZOOM_SANDBOX_WEBHOOK_URL")})
        click.echo(f"Zoom sandbox on http://{host}:{port}/zoom-sandbox/")
        run_simple(host, port, sandbox_app, threaded=True)

    @zoom_group.command("rotate-token-keys")
    def rotate_token_keys() -> None:
        """Re-encrypt stored Zoom tokens (and webhook signing secrets) with the first
        TOKEN_ENCRYPTION_KEYS key."""
        from dashboard import token_cipher
        from dashboard.models import Meeting, OAuthState, WebhookEndpoint, ZoomConnection

        count = 0
        for model, columns in ((ZoomConnection, ("access_token_enc", "refresh_token_enc")),
                               (Meeting, ("start_url_enc",)),
                               (OAuthState, ("code_verifier_enc",)),
                               (WebhookEndpoint, ("secret_enc", "previous_secret_enc"))):
            for row in db.session.scalars(select(model)):
                for column in columns:
                    if getattr(row, column):
                        setattr(row, column, token_cipher.rotate(getattr(row, column)))
                        count += 1
        db.session.commit()
        click.echo(f"re-encrypted {count} values")
