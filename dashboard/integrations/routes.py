"""Settings > Integrations: the page, and connecting and disconnecting Zoom."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import SESSION_WORKSPACE, current_workspace, requires, signed_in
from dashboard.integrations.blueprint import bp
from dashboard.integrations.defaults_routes import defaults_form
from dashboard.models import ConnectionStatus, Permission
from dashboard.services import ServiceError, connection_summary, connections


@bp.route("")
@requires(Permission.VIEW)
def index() -> str:
    return render_template("pages/integrations.html",
                           connection=connections.connection_of(current_workspace()),
                           summary=connection_summary.summary(current_workspace()),
                           defaults_form=defaults_form())


@bp.route("/zoom/connect", methods=["POST"])
@requires(Permission.MANAGE_INTEGRATIONS)
def connect() -> Response:
    url = connections.start_connect(current_workspace(), current_user)
    return redirect(url, code=303)


@bp.route("/zoom/callback")
@signed_in  # the one-time state says which workspace; the service checks the role there
def callback() -> Response:
    try:
        done = connections.complete_connect(
            current_user, request.args.get("state"), request.args.get("code"),
            request.args.get("error"))
    except connections.ConnectError as error:
        flash(error.message, "error")
        return redirect(url_for("integrations.index"))
    session[SESSION_WORKSPACE] = done.connection.workspace_id
    flash(f"Zoom connected: {done.connection.zoom_email}.", "success")
    if done.took_over:
        flash(f"{done.connection.zoom_email} was connected to another Lakesis workspace. Zoom "
              "keeps one authorization per Zoom user, so that workspace has lost its access "
              "and its admins are asked to reconnect.", "warning")
    if done.missing_scopes:
        flash("Zoom did not grant " + ", ".join(done.missing_scopes) + ": the Zoom app "
              "registration lacks it. Add it in the Zoom App Marketplace, then reconnect.",
              "warning")
    return redirect(url_for("integrations.index"))


@bp.route("/zoom/disconnect", methods=["GET"])
@requires(Permission.MANAGE_INTEGRATIONS)
def confirm_disconnect() -> str:
    connection = connections.connection_of(current_workspace())
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        abort(404)
    return render_template("pages/disconnect_zoom.html", connection=connection)


@bp.route("/zoom/disconnect", methods=["POST"])
@requires(Permission.MANAGE_INTEGRATIONS)
def disconnect() -> Response:
    try:
        result = connections.disconnect(current_workspace(), current_user)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("integrations.index"))
    if result.revoked:
        flash("Zoom disconnected. Lakesis will not create Zoom meetings for this workspace "
              "until Zoom is connected again.", "success")
    else:
        flash("Zoom disconnected here, but Zoom did not confirm the revocation; remove "
              "Lakesis under Zoom App Marketplace > Manage > Added Apps to be sure.", "warning")
    return redirect(url_for("integrations.index"))

