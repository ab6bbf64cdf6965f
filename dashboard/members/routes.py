"""Settings > Members: invite people, change their role, let operators manage integrations."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import current_workspace, requires
from dashboard.confirmation import confirmation_page
from dashboard.htmx import is_htmx, partial
from dashboard.members.blueprint import bp
from dashboard.members.forms import IntegrationsForm, InviteForm, RevokeInvitationForm, RoleForm
from dashboard.models import Permission, Role
from dashboard.orm import utcnow
from dashboard.services import NotFound, ServiceError, invitations, members
from dashboard.services.audit import Actor


def _page(form: InviteForm, status: int = 200, **context: Any) -> tuple[str, int]:
    workspace = current_workspace()
    listed = members.list_members(workspace)
    return render_template("pages/members.html", form=form, members=listed,
                           admin_count=_admins(listed),
                           invitations=invitations.waiting(workspace), now=utcnow(),
                           **context), status


def _admins(listed: list[Any]) -> int:
    return sum(1 for m in listed if m.role == Role.ADMIN)


def _answer(membership_id: int, error: ServiceError | None = None) -> Response:
    """After a row action: the row (as it now stands) for htmx, the page for a plain post."""
    status = 200
    if error is not None:
        # The refused change was rolled back; meanwhile another admin may have changed or
        # removed the actor's own membership: read it again rather than trust this request's.
        g.pop("membership", None)
        g.pop("memberships", None)
        if error.status in (403, 404):
            abort(error.status, error.message if error.status == 403 else None)
        flash(error.message, "error")
        status = error.status
    if not is_htmx():
        if error is None:
            return redirect(url_for("members.index"))
        return make_response(_page(InviteForm(), status))
    try:
        membership = members.get_member(current_workspace(), membership_id)
    except NotFound:  # just removed: the row goes
        return partial("partials/empty.html", status=status)
    return partial("partials/member_row.html", status=status, member=membership,
                   role_form=RoleForm(role=membership.role),
                   admin_count=_admins(members.list_members(current_workspace())))


@bp.route("", methods=["GET"])
@requires(Permission.MANAGE_WORKSPACE)
def index() -> tuple[str, int]:
    return _page(InviteForm())


@bp.route("", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def invite() -> tuple[str, int]:
    """Invite an address; the answer is the same whether or not it has a Lakesis account."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        issued = invitations.invite(current_workspace(), Actor.of_user(current_user),
                                    form.email.data, Role(form.role.data), current_user.id)
    except ServiceError as error:
        getattr(form, error.field or "email").errors = [error.message]
        return _page(form, error.status)
    # The one time the link exists outside the invitee's hands: shown here, never stored.
    link = url_for("auth.invitation", token=issued.token, _external=True)
    return _page(InviteForm(formdata=None), 201, issued=issued.invitation, invitation_link=link)


@bp.route("/invitations/revoke", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def revoke_invitation() -> Response:
    form = RevokeInvitationForm()
    if not form.validate_on_submit():
        abort(404)
    try:
        invitation = invitations.revoke(current_workspace(), Actor.of_user(current_user),
                                        form.invitation_id.data)
    except NotFound:
        abort(404)
    flash(f"The invitation for {invitation.email} is revoked; its link no longer works.",
          "success")
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


@bp.route("/<int:membership_id>/remove", methods=["GET"])
@requires(Permission.MANAGE_WORKSPACE)
def confirm_remove(membership_id: int) -> str:
    """Without JavaScript, Remove leads here first (with it, a dialog asks the same)."""
    try:
        member = members.get_member(current_workspace(), membership_id)
    except NotFound:
        abort(404)
    yourself = member.user_id == current_user.id
    who = "yourself" if yourself else member.user.email
    return confirmation_page(
        title=f"Remove {who} from this workspace?", verb=f"Remove {who}",
        keep="Keep my access" if yourself else f"Keep {member.user.name}",
        action=url_for("members.remove", membership_id=member.id),
        back=url_for("members.index"),
        body=("You lose access to this workspace at once." if yourself else
              f"{member.user.name} loses access to this workspace at once; an invitation "
              "brings them back.",))


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
