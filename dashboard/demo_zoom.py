"""The demo's Zoom side, made in the in-process sandbox so the demo behaves as for real.

``flask seed-demo`` connects the demo workspace to the sandbox's clinic account (as
dr.ada, granted by the demo admin) and stores each demo meeting in the sandbox's own store,
with the very body the worker would send, so Re-sync, Reschedule, Cancel and webhooks find
them there. Only with ``ZOOM_MODE=sandbox`` (the sandbox is then mounted in the app).

Not a use case (so not in ``services/``): only ``flask seed-demo`` calls it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app

from dashboard.models import (
    Booking,
    ConnectionStatus,
    MeetingDefaults,
    User,
    Workspace,
    ZoomConnection,
)
from dashboard.services import connections
from dashboard.services.meeting_spec import meeting_spec
from dashboard.zoom.client import TokenSet
from dashboard.zoom.extension import SCOPES
from dashboard.zoom.meetings import meeting_body

DEMO_ZOOM_USER = "dr.ada@clinic.zoom.test"
# What the sandbox records for a meeting in each demo state (Zoom's own words).
SANDBOX_STATUS = {"started": "started", "ended": "finished"}


def available() -> bool:
    return "zoom_sandbox" in current_app.extensions


def connect(workspace: Workspace, by: User) -> ZoomConnection:
    """The demo workspace's Zoom connection: made once through a sandbox grant, kept after."""
    current = connections.connection_of(workspace)
    if current is not None and current.status == ConnectionStatus.CONNECTED:
        return current
    from dashboard.sandbox import clock, directory, grants
    from dashboard.sandbox.settings import setting
    from dashboard.sandbox.storage import transaction

    config = current_app.config
    with transaction() as conn:
        now_ts = clock.now_ts(conn)
        ada = directory.find_user(conn, DEMO_ZOOM_USER)
        code = grants.issue_code(conn, client_id=config["ZOOM_CLIENT_ID"], user_id=ada["id"],
                                 redirect_uri=config["ZOOM_REDIRECT_URI"],
                                 scopes=" ".join(SCOPES), code_challenge=None, now_ts=now_ts)
    with transaction() as conn:
        row = grants.claim_code(conn, code=code, client_id=config["ZOOM_CLIENT_ID"],
                                now_ts=now_ts)
    ttl = int(setting("ZOOM_SANDBOX_ACCESS_TOKEN_TTL"))
    with transaction() as conn:
        pair = grants.grant_for_code(
            conn, row, redirect_uri=config["ZOOM_REDIRECT_URI"], code_verifier="",
            now_ts=now_ts, access_ttl=ttl,
            refresh_ttl=int(setting("ZOOM_SANDBOX_REFRESH_TOKEN_TTL")))
        me = directory.as_zoom_user(ada)
    tokens = TokenSet(pair.access_token, pair.refresh_token,
                      datetime.fromtimestamp(now_ts, UTC) + timedelta(seconds=ttl - 1),
                      tuple(pair.scopes.split()))
    return connections.connect_with_grant(workspace, by, tokens, me).connection


def create_meeting(booking: Booking, defaults: MeetingDefaults, connected_email: str,
                   status: str) -> dict[str, Any]:
    """Store ``booking``'s meeting in the sandbox as the worker would have made it; returns
    Zoom's representation of it (id, join_url, start_url...)."""
    from dashboard.sandbox import clock, directory, meeting_store
    from dashboard.sandbox.storage import transaction

    spec = meeting_spec(booking, defaults, connected_email)
    body = meeting_body(spec)
    with transaction() as conn:
        now_ts = clock.now_ts(conn)
        creator = directory.find_user(conn, connected_email)
        host = directory.find_user(conn, spec.schedule_for) if spec.schedule_for else creator
        made = meeting_store.create(conn, host=host, creator_id=creator["id"], body=body,
                                    now_ts=now_ts,
                                    link_base=current_app.config["ZOOM_SANDBOX_URL"])
        if status in SANDBOX_STATUS:
            meeting_store.set_status(conn, made["id"], SANDBOX_STATUS[status], now_ts)
            made = meeting_store.present(meeting_store.get(conn, made["id"]))
    return made
