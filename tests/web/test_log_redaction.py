"""What a request leaves behind outside the app: access logs never hold the OAuth ``code``
or ``state`` (nor any token-like query value), and no page or API answer with customer data
may be kept by a browser or shared cache (``Cache-Control: no-store``)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import requests

from dashboard.extensions import db
from dashboard.log_redaction import redact_query
from dashboard.models import Workspace
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from tests.api.api_client import ApiClient
from tests.booking_builders import add_booking

SECRET_CODE = "Zoom0AuthC0de-8f3a"
SECRET_STATE = "st4te-9d1e"


@pytest.mark.parametrize("line,expected", [
    (f"GET /settings/integrations/zoom/callback?code={SECRET_CODE}&state={SECRET_STATE} "
     "HTTP/1.1", "GET /settings/integrations/zoom/callback?code=[redacted]&state=[redacted] "
                 "HTTP/1.1"),
    (f"GET /cb?state={SECRET_STATE}&code={SECRET_CODE}",
     "GET /cb?state=[redacted]&code=[redacted]"),
    ("GET /x?access_token=abc&refresh_token=def&page=2",
     "GET /x?access_token=[redacted]&refresh_token=[redacted]&page=2"),
    ("GET /x?Token=abc#frag", "GET /x?Token=[redacted]#frag"),
    ("\x1b[32mGET /cb?code=abc HTTP/1.1\x1b[0m", "\x1b[32mGET /cb?code=[redacted] HTTP/1.1\x1b[0m"),
    ("GET /bookings?q=code%3Dx&barcode=1", "GET /bookings?q=code%3Dx&barcode=1"),
])
def test_redaction_blanks_secret_query_values_and_nothing_else(line, expected):
    assert redact_query(line) == expected


def test_the_dev_servers_access_log_never_shows_the_oauth_code(
        app, live_server, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        requests.get(f"{live_server.url}/settings/integrations/zoom/callback",
                     params={"code": SECRET_CODE, "state": SECRET_STATE},
                     allow_redirects=False, timeout=10)
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("/zoom/callback?code=[redacted]&state=[redacted]" in line for line in lines)
    assert not any(SECRET_CODE in line or SECRET_STATE in line for line in lines)


def test_gunicorns_access_log_never_shows_the_oauth_code():
    from gunicorn.config import Config

    from dashboard.gunicorn_access_log import RedactingLogger

    logger = RedactingLogger(Config())
    query = f"code={SECRET_CODE}&state={SECRET_STATE}"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/settings/integrations/zoom/callback?{query}",
               "PATH_INFO": "/settings/integrations/zoom/callback", "QUERY_STRING": query,
               "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_REFERER": f"https://x.test/?{query}"}
    response = SimpleNamespace(status="302 FOUND", headers=[], sent=0)
    request = SimpleNamespace(headers=[("REFERER", f"https://x.test/?{query}")])
    atoms = logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=1))
    text = repr(atoms)
    assert SECRET_CODE not in text and SECRET_STATE not in text
    assert atoms["r"] == ("GET /settings/integrations/zoom/callback?code=[redacted]"
                          "&state=[redacted] HTTP/1.1")


def test_the_gunicorn_config_uses_the_redacting_logger():
    import runpy
    from pathlib import Path

    config = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert config["logger_class"] == "dashboard.gunicorn_access_log.RedactingLogger"


# --- Cache-Control ------------------------------------------------------------------------

def test_pages_with_customer_data_are_not_stored(app, client, auth, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "private", customer="Ana Silva")
    auth.sign_in_as(world.operator)
    for path in ("/bookings", f"/bookings/{booking_id}", "/audit", "/settings/integrations",
                 "/bookings/999999", "/login"):
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
    partial = client.get(f"/bookings/{booking_id}/row", headers={"HX-Request": "true"})
    assert partial.headers["Cache-Control"] == "no-store"


def test_api_answers_are_not_stored_but_static_files_and_the_document_are(app, client, world):
    with app.app_context():
        issued = api_keys.issue(db.session.get(Workspace, world.acme.id), Actor.system(),
                                "workflow", None)
        api = ApiClient(app, issued.secret)
    assert api.get("bookings").headers["Cache-Control"] == "no-store"
    assert api.get("bookings/unknown").headers["Cache-Control"] == "no-store"
    assert "no-store" not in api.get("openapi.json").headers["Cache-Control"]
    css = next(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == "static")
    static = client.get(css.replace("<path:filename>", "app.css"))
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
