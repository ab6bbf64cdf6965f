"""Email to a workspace's admins when something needs them: Zoom stopped working (told
when it happens, then once a day while it lasts, never more), or a webhook receiver was
paused.

They write to the mail outbox in the caller's transaction; the worker sends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from dashboard.extensions import db
from dashboard.models import (
    ConnectionStatus,
    MailKind,
    Membership,
    Role,
    User,
    Workspace,
    WorkspaceMailSettings,
    ZoomConnection,
)
from dashboard.orm import utcnow
from dashboard.services import mail_outbox
from dashboard.services.connections import MARKETPLACE_REASON
from dashboard.services.mail_settings import settings_for_update

CONNECTION_EVENTS = frozenset({"connection.needs_reauthorization", "connection.disconnected"})
ALERT_INTERVAL = timedelta(days=1)


def admin_emails(workspace_id: int) -> list[str]:
    return list(db.session.scalars(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.ADMIN,
               User.active.is_(True)).order_by(User.email)))


def _integrations_url() -> str:
    return f"{current_app.config['APP_BASE_URL']}/settings/integrations"


def _lost(connection: ZoomConnection | None) -> bool:
    """Zoom stopped working by itself: the grant was refused, or the app was removed in the
    Marketplace (an admin's own Disconnect needs no alert)."""
    if connection is None:
        return False
    return connection.status == ConnectionStatus.NEEDS_REAUTH or (
        connection.status == ConnectionStatus.DISCONNECTED
        and connection.status_reason == MARKETPLACE_REASON)


def connection_lost(workspace_id: int, event_type: str) -> int:
    """Mail each admin a Reconnect link, unless they were mailed in the last day; returns
    how many mails were written."""
    if event_type not in CONNECTION_EVENTS:
        return 0
    connection = db.session.scalar(select(ZoomConnection).where(
        ZoomConnection.workspace_id == workspace_id))
    if not _lost(connection):
        return 0
    settings = settings_for_update(workspace_id)  # one alert decided at a time
    now = utcnow()
    last = settings.connection_alert_sent_at
    if last is not None and now - last < ALERT_INTERVAL:
        return 0
    recipients = admin_emails(workspace_id)
    if not recipients:
        return 0
    settings.connection_alert_sent_at = now
    workspace = db.session.get(Workspace, workspace_id)
    removed = connection.status == ConnectionStatus.DISCONNECTED
    what = ("Lakesis was removed from your Zoom account in the Zoom App Marketplace"
            if removed else "Zoom no longer accepts Lakesis's authorization")
    subject = f"Action needed: Zoom stopped working for {workspace.name}"
    body = "\n".join([
        "Hello,", "",
        f"{what}, so Lakesis cannot create, change or cancel Zoom meetings for "
        f"{workspace.name}'s bookings. Their work waits and resumes by itself once Zoom is "
        "connected again.", "",
        f"Reconnect Zoom: {_integrations_url()}", "",
        f"Reason: {connection.status_reason or 'not given'}", "",
        "You get this at most once a day while Zoom is not connected.", ""])
    for email in recipients:
        mail_outbox.enqueue(workspace_id, MailKind.CONNECTION_ALERT, email, subject, body)
    return len(recipients)


def remind_all(now: datetime | None = None) -> int:
    """The worker's daily look: every workspace whose Zoom is still lost and whose admins
    were not told in the last day is told again (and one the events never reached, told
    first). Commits; how many mails were written."""
    now = now or utcnow()
    lost = or_(ZoomConnection.status == ConnectionStatus.NEEDS_REAUTH,
               and_(ZoomConnection.status == ConnectionStatus.DISCONNECTED,
                    ZoomConnection.status_reason == MARKETPLACE_REASON))
    told = WorkspaceMailSettings.connection_alert_sent_at >= now - ALERT_INTERVAL
    due = db.session.scalars(
        select(ZoomConnection.workspace_id)
        .outerjoin(WorkspaceMailSettings,
                   WorkspaceMailSettings.workspace_id == ZoomConnection.workspace_id)
        .where(lost, or_(WorkspaceMailSettings.connection_alert_sent_at.is_(None), ~told))
        ).all()
    written = 0
    for workspace_id in due:
        written += connection_lost(workspace_id, "connection.needs_reauthorization")
        db.session.commit()
    return written


def endpoint_paused(workspace_id: int, endpoint_url: str, reason: str) -> int:
    """Tell the admins that Lakesis stopped sending events to a webhook receiver."""
    workspace = db.session.get(Workspace, workspace_id)
    if workspace is None:
        return 0
    recipients = admin_emails(workspace_id)
    subject = f"Webhook receiver paused for {workspace.name}"
    body = "\n".join([
        "Hello,", "",
        f"Lakesis paused sending booking events to {endpoint_url}: {reason}", "",
        "Events keep being recorded. Check the receiver, then resume it (and replay what it "
        f"missed) under Settings > Webhooks: {current_app.config['APP_BASE_URL']}"
        "/settings/webhooks", ""])
    for email in recipients:
        mail_outbox.enqueue(workspace_id, MailKind.ENDPOINT_PAUSED, email, subject, body)
    return len(recipients)
