"""Accepting an invitation: the link's page, then joining as the signed-in user or with a
new account.

The link carries the token in its query string once: the page keeps it in the session and
sends the browser to the same page without it, so it stays out of history, Referer headers
and the access log of every later request. Signing in keeps it (``session_login``).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import SESSION_WORKSPACE, public, signed_in
from dashboard.auth.blueprint import bp
from dashboard.auth.forms import NewAccountForm
from dashboard.auth.session_login import INVITATION, sign_in
from dashboard.models import Invitation, Membership
from dashboard.services import NotFound, ServiceError, invitations


def _page(invitation: Invitation | None, form: NewAccountForm | None = None,
          status: int = 200) -> tuple[str, int]:
    if invitation is None:
        session.pop(INVITATION, None)
        return render_template("pages/invitation.html", invitation=None), 404
    return render_template("pages/invitation.html", invitation=invitation,
                           form=form or NewAccountForm(formdata=None)), status


def _joined(membership: Membership) -> Response:
    session.pop(INVITATION, None)
    session[SESSION_WORKSPACE] = membership.workspace_id  # work in the new workspace first
    flash(f"You joined {membership.workspace.name} as {membership.role}.", "success")
    return redirect(url_for("workspaces.overview"))


@bp.route("/invitations/accept", methods=["GET"])
@public
def invitation() -> Response | tuple[str, int]:
    token = request.args.get("token")
    if token is not None:
        session[INVITATION] = token[:200]
        return redirect(url_for("auth.invitation"))
    return _page(invitations.open_invitation(session.get(INVITATION)))


@bp.route("/invitations/accept", methods=["POST"])
@signed_in
def accept_invitation() -> Response | tuple[str, int]:
    try:
        membership = invitations.accept(session.get(INVITATION, ""), current_user)
    except NotFound:
        return _page(None)
    except ServiceError as error:
        abort(error.status, error.message)
    return _joined(membership)


@bp.route("/invitations/accept/new-account", methods=["POST"])
@public
def accept_with_new_account() -> Response | tuple[str, int]:
    if current_user.is_authenticated:  # signed in already: accept as that user instead
        return redirect(url_for("auth.invitation"))
    token = session.get(INVITATION, "")
    found = invitations.open_invitation(token)
    if found is None:
        return _page(None)
    form = NewAccountForm()
    if not form.validate_on_submit():
        return _page(found, form, 422)
    try:
        membership = invitations.accept_with_new_account(token, form.name.data,
                                                         form.new_password.data)
    except NotFound:
        return _page(None)
    except ServiceError as error:
        form.form_errors.append(error.message)
        return _page(found, form, error.status)
    sign_in(membership.user, remember=False)
    return _joined(membership)
