from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from dashboard.access import public, signed_in
from dashboard.auth.blueprint import bp
from dashboard.auth.forms import LoginForm
from dashboard.auth.redirects import safe_next
from dashboard.auth.session_login import sign_in, sign_out
from dashboard.models import User
from dashboard.services import accounts, login_throttle
from dashboard.services.members import normalize_email

# Checked even for unknown emails so the time taken does not tell which accounts exist.
_DUMMY_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128


def _limits(email: str) -> list[login_throttle.Limit]:
    """The account's limit first (a success clears it), then the client address's."""
    config = current_app.config
    return [
        login_throttle.Limit(f"account:{email}", config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        login_throttle.Limit(f"address:{request.remote_addr}",
                             config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ]


def too_many(wait: int) -> TooManyRequests:
    """The 429 for a throttled attempt, saying how long to wait."""
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
    limits = _limits(email)
    # Counted before the hash is checked, so parallel guesses cannot outrun the limit.
    wait = login_throttle.admit(limits, current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    if wait:
        raise too_many(wait)
    user = accounts.user_by_email(email)
    password_ok = user.check_password(form.password.data) if user else (
        User(password_hash=_DUMMY_HASH).check_password(form.password.data))
    if user is None or not password_ok or not user.is_active:
        current_app.logger.info("failed sign-in for an account from %s", request.remote_addr)
        form.form_errors.append("Wrong email or password.")
        return render_template("pages/login.html", form=form), 401
    login_throttle.succeeded(limits)
    sign_in(user, remember=form.remember.data)
    return redirect(safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> Response:
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
