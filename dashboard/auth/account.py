"""Your account: where you are signed in, signing out everywhere, changing your password."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import signed_in
from dashboard.auth.blueprint import bp
from dashboard.auth.forms import ChangePasswordForm, EndSessionForm
from dashboard.auth.routes import too_many
from dashboard.auth.session_login import sign_out
from dashboard.confirmation import confirmation_page
from dashboard.services import NotFound, ServiceError, accounts, login_throttle, user_sessions


def _page(form: ChangePasswordForm, status: int = 200) -> tuple[str, int]:
    return render_template("pages/account.html", form=form,
                           sessions=user_sessions.sessions_of(current_user),
                           this_session_id=current_user.session_id), status


@bp.route("/account", methods=["GET"])
@signed_in
def account() -> tuple[str, int]:
    return _page(ChangePasswordForm(formdata=None))


@bp.route("/account/password", methods=["POST"])
@signed_in
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    # Guessing the current password is guessing the password: the sign-in throttle counts it.
    limit = [login_throttle.Limit(f"account:{current_user.email}",
                                  current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])]
    wait = login_throttle.admit(limit, current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    if wait:
        raise too_many(wait)
    try:
        ended = accounts.change_password(current_user, form.current_password.data,
                                         form.new_password.data, current_user.session_id)
    except ServiceError as error:
        getattr(form, error.field or "current_password").errors = [error.message]
        return _page(form, error.status)
    login_throttle.succeeded(limit)
    others = f" {ended} other session{'s' if ended != 1 else ''} signed out." if ended else ""
    flash(f"Your password is changed.{others}", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/end", methods=["GET"])
@signed_in
def confirm_end_session() -> Response | str:
    """Without JavaScript, "Sign out this session" leads here first."""
    wanted = request.args.get("session_id", type=int)
    chosen = next((s for s in user_sessions.sessions_of(current_user) if s.id == wanted), None)
    if chosen is None:
        abort(404)
    device = chosen.device or "an unknown device"
    return confirmation_page(
        title=f"Sign out the session on {device}?", verb="Sign out that session",
        keep="Keep it signed in", action=url_for("auth.end_session"),
        back=url_for("auth.account"), fields={"session_id": chosen.id},
        body=("Whoever uses that session must sign in again.",))


@bp.route("/account/sessions/end", methods=["POST"])
@signed_in
def end_session() -> Response:
    form = EndSessionForm()
    if not form.validate_on_submit():
        abort(404)
    if form.session_id.data == current_user.session_id:
        return _signed_out()
    try:
        user_sessions.end_one(current_user, form.session_id.data)
    except NotFound:
        abort(404)
    flash("That session is signed out.", "success")
    return redirect(url_for("auth.account"))


def _signed_out() -> Response:
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/sign-out-everywhere", methods=["GET"])
@signed_in
def confirm_sign_out_everywhere() -> str:
    return confirmation_page(
        title="Sign out everywhere?", verb="Sign out everywhere",
        keep="Stay signed in", action=url_for("auth.sign_out_everywhere"),
        back=url_for("auth.account"),
        body=("Every session of yours ends, this one too: you sign in again here and on "
              "every other device.",))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@signed_in
def sign_out_everywhere() -> Response:
    ended = accounts.sign_out_everywhere(current_user)
    sign_out()
    flash(f"You are signed out everywhere ({ended} session{'s' if ended != 1 else ''}).",
          "info")
    return redirect(url_for("auth.login"))
