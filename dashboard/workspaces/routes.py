from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from dashboard.access import (
    SESSION_WORKSPACE,
    current_membership,
    my_memberships,
    requires,
    signed_in,
)
from dashboard.auth.redirects import safe_next
from dashboard.models import Membership, Permission
from dashboard.services import workspace_health, workspace_overview
from dashboard.workspaces.blueprint import bp


@bp.route("/")
@requires(Permission.VIEW)
def overview() -> str:
    membership = current_membership()
    return render_template("pages/overview.html", membership=membership,
                           overview=workspace_overview.overview_of(membership.workspace),
                           api_root=request.url_root.rstrip("/"))


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
    return redirect(_same_page_in(membership, request.form.get("next")))


def _same_page_in(membership: Membership, wanted: str | None) -> str:
    """The page the switch was made on, when the new workspace has it and the member's role
    there may see it; else the new workspace's overview. Pages naming one record (a booking)
    belong to the old workspace: their list is the nearest same page."""
    overview = url_for("workspaces.overview")
    target = safe_next(wanted, overview)
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(target.split("?")[0], method="GET")
    except HTTPException:
        return overview
    if args:
        blueprint = endpoint.split(".")[0]
        index = f"{blueprint}.index"
        if index not in current_app.view_functions:
            return overview
        endpoint, target = index, url_for(index)
    access = getattr(current_app.view_functions[endpoint], "access", None)
    if isinstance(access, Permission) and not membership.can(access):
        return overview
    return target


@bp.route("/workspaces/health")
@signed_in
def health() -> str:
    """Every workspace of the user with its health light, worst first."""
    return render_template("pages/workspaces_health.html",
                           workspaces=workspace_health.overview(my_memberships()))

