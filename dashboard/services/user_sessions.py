"""Server-side sessions: what the cookies name, so that signing out anywhere really ends them.

Flask-Login's cookies carry a random token (the "alternative token" pattern) instead of the
user id; the user loader accepts only a token whose row is live. Sign-out deletes that row,
"sign out everywhere" all the user's rows, a password change the other rows, and an admin
removing a member that member's rows.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update

from dashboard.extensions import db
from dashboard.models import User, UserSession
from dashboard.orm import utcnow
from dashboard.services import NotFound
from dashboard.services.unit_of_work import transaction

#: How long "keep me signed in" lasts, on the server as in the cookie.
REMEMBER_FOR = timedelta(days=30)
#: Without "keep me signed in": a working day, as the session cookie itself.
SESSION_LASTS = timedelta(hours=12)
# Writing last_seen_at on every request would make every page a write; this often is plenty.
_SEEN_EVERY = timedelta(minutes=5)
_MAX_TOKEN = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_of(user_agent: str) -> str:
    """A short "Browser on System" summary of a User-Agent header (unknown parts say so)."""
    ua = user_agent or ""
    browser = next((name for marker, name in (
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"),
        ("python-requests/", "a script")) if marker in ua), "a browser")
    system = next((name for marker, name in (
        ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
        ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")) if marker in ua),
        "an unknown system")
    return f"{browser} on {system}"


def start(user_id: int, remembered: bool, user_agent: str = "") -> str:
    """Open a new session for ``user_id`` and return its token (a new one at every sign-in,
    so no session id chosen before sign-in survives it). The token is never stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with transaction():
        # Sign-in is also when the user's dead sessions are swept away.
        db.session.execute(delete(UserSession).where(
            UserSession.user_id == user_id, UserSession.expires_at <= now))
        db.session.add(UserSession(
            user_id=user_id, token_hash=_hash(token), remembered=remembered,
            device=device_of(user_agent)[:80], created_at=now, last_seen_at=now,
            expires_at=now + (REMEMBER_FOR if remembered else SESSION_LASTS)))
    return token


# Built once: every request of a signed-in user runs it, and building it cost a third of it.
_LIVE_SESSION = (select(UserSession.id, UserSession.last_seen_at, User)
                 .join(User, User.id == UserSession.user_id)
                 .where(UserSession.token_hash == bindparam("token_hash"),
                        UserSession.expires_at > bindparam("now")))


def user_of_session(token: str) -> User | None:
    """Flask-Login's user loader: the active user of a live session named by ``token``."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    now = utcnow()
    found = db.session.execute(_LIVE_SESSION, {"token_hash": _hash(token), "now": now}).first()
    if found is None or not found.User.active:
        return None
    session_id, last_seen_at, user = found
    if now - last_seen_at > _SEEN_EVERY:
        with transaction():
            db.session.execute(update(UserSession).where(UserSession.id == session_id)
                               .values(last_seen_at=now))
    user.session_token, user.session_id = token, session_id
    return user


def sessions_of(user: User) -> list[UserSession]:
    """The user's live sessions, newest first."""
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id,
                                  UserSession.expires_at > utcnow())
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())))


def end(token: str | None) -> None:
    """End the session ``token`` names (sign-out); nothing if it is already gone."""
    if token:
        with transaction():
            db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash(token)))


def end_one(user: User, session_id: int) -> None:
    """End one of ``user``'s own sessions; another user's is not found."""
    with transaction():
        ended = db.session.execute(delete(UserSession).where(
            UserSession.id == session_id, UserSession.user_id == user.id))
        if ended.rowcount != 1:
            raise NotFound("session")


def end_all(user_id: int, keep_id: int | None = None) -> int:
    """End every session of the user (but ``keep_id``); the caller's transaction commits it.

    Returns how many were ended.
    """
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_id is not None:
        query = query.where(UserSession.id != keep_id)
    return db.session.execute(query).rowcount

