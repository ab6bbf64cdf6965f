"""Settings > Members: add people, change their role, let operators manage integrations."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import current_workspace, requires
from dashboard.htmx import is_htmx, partial
from dashboard.members.blueprint import bp
from dashboard.members.forms import AddMemberForm, IntegrationsForm, RoleForm
from dashboard.models import Permission, Role
from dashboard.services import NotFound, ServiceError, members
from dashboard.services.audit import Actor


def _page(form: AddMemberForm, status: int = 200) -> tuple[str, int]:
    workspace = current_workspace()
    return render_template("pages/members.html", form=form,
                           members=members.list_members(workspace)), status


def _answer(membership_id: int, error: ServiceError | None = None) -> Response:
    """After a row action: the row (as it now stands) for htmx, the page for a plain post."""
    status = 200
    if error is not None:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
        status = error.status
    if not is_htmx():
        if error is None:
            return redirect(url_for("members.index"))
        return make_response(_page(AddMemberForm(), status))
    try:
        membership = members.get_member(current_workspace(), membership_id)
    except NotFound:  # just removed: the row goes
        return partial("partials/empty.html", status=status)
    return partial("partials/member_row.html", status=status, member=membership,
                   role_form=RoleForm(role=membership.role))


@bp.route("", methods=["GET"])
@requires(Permission.MANAGE_WORKSPACE)
def index() -> tuple[str, int]:
    return _page(AddMemberForm())


@bp.route("", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def add() -> Response | tuple[str, int]:
    form = AddMemberForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        membership = members.add_member(
            current_workspace(), Actor.of_user(current_user), form.email.data,
            form.name.data or "", Role(form.role.data), form.password.data or None)
    except ServiceError as error:
        getattr(form, error.field or "email").errors = [error.message]
        return _page(form, error.status)
    flash(f"{membership.user.email} added as {membership.role}.", "success")
    return redirect(url_for("members.index"))


@bp.route("/<int:membership_id>/role", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def change_role(membership_id: int) -> Response:
    form = RoleForm()
    try:
        members.get_member(current_workspace(), membership_id)
        if not form.validate_on_submit():
            raise ServiceError("Choose admin, operator or support.", "role")
        membership = members.change_role(current_workspace(), Actor.of_user(current_user),
                                         membership_id, Role(form.role.data))
    except ServiceError as error:
        return _answer(membership_id, error)
    flash(f"{membership.user.email} is now {membership.role}.", "success")
    return _answer(membership_id)


@bp.route("/<int:membership_id>/integrations", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def set_integrations(membership_id: int) -> Response:
    form = IntegrationsForm()
    form.validate_on_submit()
    try:
        membership = members.set_manages_integrations(
            current_workspace(), Actor.of_user(current_user), membership_id, form.allowed.data)
    except ServiceError as error:
        return _answer(membership_id, error)
    verb = "may now" if membership.manages_integrations else "may no longer"
    flash(f"{membership.user.email} {verb} connect and disconnect Zoom.", "success")
    return _answer(membership_id)


@bp.route("/<int:membership_id>/remove", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def remove(membership_id: int) -> Response:
    try:
        email = members.get_member(current_workspace(), membership_id).user.email
        members.remove_member(current_workspace(), Actor.of_user(current_user), membership_id)
    except ServiceError as error:
        return _answer(membership_id, error)
    flash(f"{email} removed from the workspace.", "success")
    return _answer(membership_id)
