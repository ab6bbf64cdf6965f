"""The sync health page: support's first stop when a meeting did not turn up."""

from __future__ import annotations

from flask import render_template

from dashboard.access import current_workspace, requires
from dashboard.health.blueprint import bp
from dashboard.models import Permission
from dashboard.services import sync_health


@bp.route("")
@requires(Permission.VIEW)
def index() -> str:
    workspace = current_workspace()
    return render_template("pages/sync_health.html", health=sync_health.summary(workspace),
                           zone=workspace.timezone)
