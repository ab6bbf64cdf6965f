"""Flask's signed session cookie, opened without building its signer when there is none.

Most requests carry no session cookie (Zoom's webhooks, the booking workflow's API calls);
Flask builds the cookie's signer for each of them all the same, a twentieth of a webhook's
cost, and saves the empty session by reading seven cookie settings it then does not use.
Requests with a cookie, or whose session was written, are Flask's, unchanged.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class SessionCookie(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:  # nothing to set, nothing to delete
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
