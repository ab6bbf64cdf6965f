"""A full run, end to end against the sandbox, leaves no secret in a log line or a page.

The run signs in with a password, adds a member with a first password, connects Zoom
through the consent page (the callback over real HTTP, so the access log sees it), issues
an API key, creates, reschedules and cancels bookings through the API, runs the worker
(through a token refresh), lets Zoom's webhooks in, views every page as each role, and
disconnects. Every log record of every logger, at DEBUG, and every answer's body and
headers are kept; then each secret the run handled is looked for in all of them.
"""

from __future__ import annotations

import http.client
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.models import Booking, Meeting, Role, ZoomConnection
from dashboard.orm import utcnow
from tests.booking_builders import drain
from tests.conftest import PASSWORD
from tests.security.conftest import record_ids
from tests.security.test_sessions_and_headers import PAGES, _fill
from tests.zoom_builders import compact, signed_headers

pytestmark = pytest.mark.usefixtures("sandbox")
NEW_MEMBER_PASSWORD = "first password of the new member"


class Capture:
    """Everything the run showed anyone: answers (body and headers) by what was asked."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, str]] = []

    def keep(self, label: str, response) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        body = response.get_data(as_text=True)
        self.answers.append((label, f"{headers}\n\n{body}"))


def _log_text(record: logging.LogRecord) -> str:
    parts = [record.name, record.getMessage(), repr(record.args)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    return " | ".join(parts)


def _tokens(app, workspace_id: int) -> list[str]:
    with app.app_context():
        row = db.session.scalars(db.select(ZoomConnection).filter_by(
            workspace_id=workspace_id)).one()
        return [token_cipher.decrypt(value) for value in (row.access_token_enc,
                                                          row.refresh_token_enc) if value]


def _start_urls(app) -> list[str]:
    with app.app_context():
        return [token_cipher.decrypt(value) for value in db.session.scalars(
            db.select(Meeting.start_url_enc).where(Meeting.start_url_enc.is_not(None)))]


def _browser_get(base: str, path: str, session_cookie: str) -> http.client.HTTPResponse:
    """GET over real HTTP, as the browser coming back from Zoom's consent page does (with
    http.client, which logs nothing of its own: every log line is the app's)."""
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
    connection.request("GET", path, headers={"Cookie": f"session={session_cookie}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _set_cookie(response: http.client.HTTPResponse, name: str) -> str:
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie set")


def _future(days: int) -> str:
    return (utcnow() + timedelta(days=days)).replace(microsecond=0).isoformat()


def test_a_full_run_leaks_no_secret(app, client, auth, world, sandbox, live_server, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("dashboard", "werkzeug", "urllib3", "sqlalchemy", "flask_login", "authlib"):
        caplog.set_level(logging.DEBUG, logger=name)
    seen = Capture()
    secrets: dict[str, str] = {
        "password": PASSWORD, "new member's password": NEW_MEMBER_PASSWORD,
        "client secret": app.config["ZOOM_CLIENT_SECRET"],
        "webhook secret token": app.config["ZOOM_WEBHOOK_SECRET_TOKEN"],
        "secret key": app.secret_key,
    }

    # Sign in with the password, add a member with a first password.
    seen.keep("login", client.post("/login", data={"email": world.admin.email,
                                                   "password": PASSWORD}))
    seen.keep("add member", client.post("/settings/members", data={
        "email": "new.member@acme.test", "name": "New Member", "role": Role.OPERATOR.value,
        "password": NEW_MEMBER_PASSWORD}))

    # Connect Zoom: the consent at the sandbox, the callback over real HTTP.
    started = client.post("/settings/integrations/zoom/connect")
    seen.keep("connect", started)
    back = sandbox.consent(started.headers["Location"])
    secrets["OAuth code"] = parse_qs(urlsplit(back).query)["code"][0]
    callback = _browser_get(live_server.url, f"{urlsplit(back).path}?{urlsplit(back).query}",
                            client.get_cookie("session").value)
    seen.answers.append(("callback", str(callback.headers)))
    client.set_cookie("session", _set_cookie(callback, "session"))  # it carries the flash
    page = client.get("/settings/integrations")
    seen.keep("integrations", page)
    assert b"Zoom connected" in page.data
    first_tokens = _tokens(app, world.acme.id)
    secrets.update({f"Zoom token {i}": token for i, token in enumerate(first_tokens)})

    # An API key, issued on the one page that shows it once (that page alone may hold it).
    seen.keep("create key", client.post("/settings/api-keys", data={"name": "booking workflow"}))
    issued = client.get("/settings/api-keys")  # after the redirect, the one showing
    key = re.search(r'id="new-api-key">([^<]+)<', issued.get_data(as_text=True)).group(1)
    secrets["API key"] = key
    assert key in issued.get_data(as_text=True)

    # The booking workflow: create, reschedule, cancel.
    api = FlaskClient(app, app.response_class, use_cookies=False)
    headers = {"Authorization": f"Bearer {key}"}
    made = []
    for ref in ("scan-1", "scan-2"):
        response = api.post("/api/v1/bookings", headers=headers, json={
            "external_ref": ref, "title": "Consultation", "start_time": _future(3),
            "duration_minutes": 30, "timezone": "Europe/Lisbon",
            "customer": {"name": "Ana Silva", "email": "ana@example.test"}})
        seen.keep("api create", response)
        made.append(response.get_json()["id"])
    drain(app)
    secrets.update({f"start_url {i}": url for i, url in enumerate(_start_urls(app))})
    assert any(name.startswith("start_url") for name in secrets)

    sandbox.advance_clock(3700)  # the access token has expired: the next call refreshes
    seen.keep("api reschedule", api.patch(f"/api/v1/bookings/{made[0]}", headers=headers,
                                          json={"start_time": _future(5)}))
    seen.keep("api cancel", api.post(f"/api/v1/bookings/{made[1]}/cancel", headers=headers))
    drain(app)
    refreshed = _tokens(app, world.acme.id)
    assert refreshed != first_tokens, "the run never refreshed the token"
    secrets.update({f"refreshed Zoom token {i}": token for i, token in enumerate(refreshed)})
    for path in ("/api/v1/bookings", f"/api/v1/bookings/{made[0]}", "/api/v1/openapi.json"):
        seen.keep(f"api {path}", api.get(path, headers=headers))

    # A webhook from Zoom about the meeting.
    with app.app_context():
        zoom_id = db.session.scalars(db.select(Meeting.zoom_meeting_id).join(Booking).where(
            Booking.public_id == made[0])).one()
    raw = compact({"event": "meeting.started", "event_ts": int(utcnow().timestamp() * 1000),
                   "payload": {"account_id": "sbx-acct-clinic", "object": {"id": zoom_id}}})
    seen.keep("webhook", client.post("/webhooks/zoom", data=raw, csrf=False,
                                     content_type="application/json",
                                     headers=signed_headers(secrets["webhook secret token"],
                                                            raw)))

    # Every page, as each role, plain and as htmx asks for it.
    with app.app_context():
        ids = record_ids(world.acme)
        ids["booking_id"] = db.session.scalars(db.select(Booking.id).where(
            Booking.public_id == made[0])).one()
    for user in (world.admin, world.operator, world.support):
        auth.sign_in_as(user)
        for page in PAGES:
            url = _fill(page.values[0], ids)
            for htmx in ({}, {"HX-Request": "true"}):
                seen.keep(f"{user.email} {url} {htmx}", client.get(url, headers=htmx))

    # Disconnect (revokes at Zoom), then sign out.
    auth.sign_in_as(world.admin)
    seen.keep("disconnect", client.post("/settings/integrations/zoom/disconnect"))
    seen.keep("logout", client.post("/logout"))

    lines = [(f"log {record.name}", _log_text(record)) for record in caplog.records]
    assert any("callback" in text for _, text in lines), "the access log was not captured"
    leaks = [f"{secret} in {where}: {text[:200]!r}"
             for secret, value in secrets.items()
             for where, text in [*lines, *seen.answers]
             if value and value in text]
    caplog.clear()  # a failure shows the leaks, not thousands of DEBUG lines
    assert not leaks, "\n".join(leaks)
