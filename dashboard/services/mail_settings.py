"""A workspace's mail switches (``workspace_mail_settings``): customer email, off by
default and changed by admins (audited), and when admins were last alerted."""

from __future__ import annotations

from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import Workspace, WorkspaceMailSettings
from dashboard.services.audit import Actor, record
from dashboard.services.unit_of_work import transaction


def settings_of(workspace_id: int) -> WorkspaceMailSettings | None:
    return db.session.get(WorkspaceMailSettings, workspace_id)


def emails_customers(workspace_id: int) -> bool:
    settings = settings_of(workspace_id)
    return bool(settings and settings.email_customers)


def settings_for_update(workspace_id: int) -> WorkspaceMailSettings:
    """The workspace's settings row, made if missing, locked until the caller commits.

    The workspace's row is locked first, so two callers cannot both find no row and both
    make one (on SQLite, whose one writer holds the database, by a write that changes
    nothing, as ``outbox.lock`` does)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(Workspace).where(Workspace.id == workspace_id)
                           .values(name=Workspace.name)
                           .execution_options(synchronize_session=False))
    else:
        db.session.execute(select(Workspace.id).where(Workspace.id == workspace_id)
                           .with_for_update())
    settings = db.session.get(WorkspaceMailSettings, workspace_id, with_for_update=True,
                              populate_existing=True)
    if settings is None:
        settings = WorkspaceMailSettings(workspace_id=workspace_id, email_customers=False)
        db.session.add(settings)
    return settings


def set_email_customers(workspace: Workspace, actor: Actor, enabled: bool) -> bool:
    """Turn customer email on or off; audited. Returns whether anything changed."""
    with transaction():
        settings = settings_for_update(workspace.id)
        if settings.email_customers == enabled:
            return False
        settings.email_customers = enabled
        record(workspace.id, actor, "workspace.customer_email_" + ("on" if enabled else "off"),
               ("workspace", workspace.id, workspace.name))
    return True
