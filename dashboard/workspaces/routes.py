from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from dashboard.access import (
    SESSION_WORKSPACE,
    current_membership,
    my_memberships,
    requires,
    signed_in,
)
from dashboard.auth.redirects import safe_next
from dashboard.models import Permission
from dashboard.services import workspace_health
from dashboard.workspaces.blueprint import bp


@bp.route("/")
@requires(Permission.VIEW)
def overview() -> str:
    return render_template("pages/overview.html", membership=current_membership())


@bp.route("/workspaces/switch", methods=["POST"])
@signed_in
def switch() -> Response:
    wanted = request.form.get("workspace_id", type=int)
    membership = next(
        (m for m in my_memberships() if m.workspace_id == wanted), None)
    if membership is None:
        abort(404)
    session[SESSION_WORKSPACE] = membership.workspace_id
    flash(f"Now working in {membership.workspace.name}.", "info")
    # Pages of the old workspace name its records; start again from the new one's overview
    # (or the page the form names, e.g. the health overview's "Open sync health").
    return redirect(safe_next(request.form.get("next"), url_for("workspaces.overview")))


@bp.route("/workspaces/health")
@signed_in
def health() -> str:
    """Every workspace of the user with its health light, worst first."""
    return render_template("pages/workspaces_health.html",
                           workspaces=workspace_health.overview(my_memberships()))

