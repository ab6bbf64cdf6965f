from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from dashboard.access import public, signed_in
from dashboard.auth.blueprint import bp
from dashboard.auth.forms import LoginForm
from dashboard.auth.redirects import safe_next
from dashboard.models import User
from dashboard.services import accounts, login_throttle
from dashboard.services.members import normalize_email

# Checked even for unknown emails so the time taken does not tell which accounts exist.
_DUMMY_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128


def _limits(email: str) -> list[login_throttle.Limit]:
    config = current_app.config
    return [
        login_throttle.Limit(f"account:{email}", config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        login_throttle.Limit(f"address:{request.remote_addr}",
                             config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ]


def _too_many(wait: int) -> TooManyRequests:
    minutes = max(1, (wait + 59) // 60)
    error = TooManyRequests(
        f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.")
    error.retry_after = wait  # type: ignore[attr-defined]
    return error


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("pages/login.html", form=form), status
    email = normalize_email(form.email.data)
    window = current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"]
    limits = _limits(email)
    wait = login_throttle.retry_after(limits, window)
    if wait:
        raise _too_many(wait)
    user = accounts.user_by_email(email)
    password_ok = user.check_password(form.password.data) if user else (
        User(password_hash=_DUMMY_HASH).check_password(form.password.data))
    if user is None or not password_ok or not user.is_active:
        login_throttle.record_failure(limits, window)
        current_app.logger.info("failed sign-in for an account from %s", request.remote_addr)
        form.form_errors.append("Wrong email or password.")
        return render_template("pages/login.html", form=form), 401
    login_throttle.forget(limits[0].key)
    session.clear()  # a fresh session at sign-in: nothing from before carries over
    login_user(user, remember=form.remember.data)
    accounts.note_sign_in(user)
    return redirect(safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> Response:
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))

