"""Signing a user in and out of this browser, over a server-side session."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user, login_user, logout_user
from flask_login.utils import decode_cookie

from dashboard.models import User
from dashboard.services import accounts, user_sessions

#: What a sign-in keeps of the session before it: an invitation being accepted.
INVITATION = "invitation_token"
_KEPT_ACROSS_SIGN_IN = (INVITATION,)


def _remember_cookie() -> str | None:
    name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    raw = request.cookies.get(name)
    return decode_cookie(raw) if raw else None


def sign_in(user: User, remember: bool) -> None:
    """Start a new server-side session for ``user`` in a fresh cookie session.

    Whatever session this browser had before ends, and nothing of it carries over (but a
    pending invitation), so no session id chosen before sign-in survives it.
    """
    old_remembered = _remember_cookie()
    user_sessions.end(session.get("_user_id"))
    user_sessions.end(old_remembered)
    kept = {key: session[key] for key in _KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    user.session_token = user_sessions.start(user.id, remember, request.user_agent.string)
    login_user(user, remember=remember, duration=user_sessions.REMEMBER_FOR)
    if old_remembered and not remember:
        session["_remember"] = "clear"  # the old device cookie names a session now ended
    accounts.note_sign_in(user)


def sign_out() -> None:
    """End this browser's session on the server and drop both cookies."""
    user_sessions.end(getattr(current_user, "session_token", None))
    session.clear()
    logout_user()  # after clear(): it marks the remember cookie for deletion
