"""Reconcile now: ask the worker for a pass, and watch it (a small panel of its own).

The health page includes ``partials/reconcile_panel.html``; the panel polls itself while a
pass is queued or running. Without JavaScript the form posts and lands on this panel's own
page.
"""

from __future__ import annotations

from flask import flash, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import current_membership, current_workspace, requires
from dashboard.health.blueprint import bp
from dashboard.htmx import fragment, is_htmx, page_or_partial, partial, redirect_to
from dashboard.models import Permission
from dashboard.services import reconcile

PANEL = "partials/reconcile_panel.html"


def panel_context() -> dict[str, object]:
    """What the panel needs (the health page passes the same to its include)."""
    workspace = current_workspace()
    return {"reconcile_run": reconcile.latest(workspace.id, open_only=True),
            "reconcile_last": reconcile.last_finished(workspace.id),
            "may_operate": current_membership().can(Permission.OPERATE),
            "zone": workspace.timezone}


@bp.route("/reconcile")
@requires(Permission.VIEW)
def reconcile_panel() -> Response:
    if is_htmx():
        return fragment(PANEL, **panel_context())
    return page_or_partial("pages/reconcile.html", PANEL, **panel_context())


@bp.route("/reconcile", methods=["POST"])
@requires(Permission.OPERATE)
def reconcile_now() -> Response:
    run = reconcile.request_run(current_workspace().id, current_user.email)
    flash("Reconciliation with Zoom is on its way." if run.state == "queued"
          else "A reconciliation pass is already running.", "success")
    if is_htmx():
        return partial(PANEL, **panel_context())
    return redirect_to(url_for("health.reconcile_panel"))
