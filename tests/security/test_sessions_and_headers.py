"""Sessions and what every answer carries: open redirects, session fixation, sign-out and
remember-me revocation, the sign-in throttle under a parallel burst, security headers,
cookie flags and ``Cache-Control`` on pages with customer data."""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import Permission
from tests.booking_builders import add_booking
from tests.conftest import PASSWORD, CSRFClient, make_user
from tests.security.conftest import record_ids

_MAP_APP = create_app({"LAKESIS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "ZOOM_SANDBOX_DATABASE_URL": "sqlite://"})
MACHINES = {"api", "webhooks", "zoom_sandbox"}


def _get_pages() -> list:
    """Every browser page: GET routes outside the machines' blueprints."""
    pages = []
    for rule in _MAP_APP.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.split(".")[0] in MACHINES:
            continue
        if "GET" in rule.methods:
            access = getattr(_MAP_APP.view_functions[rule.endpoint], "access", None)
            pages.append(pytest.param(rule.rule, access, id=rule.rule))
    return pages


PAGES = _get_pages()


def _fill(rule: str, ids: dict[str, int]) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(ids[m.group(1)]), rule)


def _cookie(client: FlaskClient, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


# --- open redirects ----------------------------------------------------------------------

OFFSITE = ["//evil.test", "https://evil.test/", "http:evil.test", "/\\evil.test",
           "\\\\evil.test", "///evil.test", "/\t/evil.test", "\t//evil.test",
           " //evil.test", "javascript:alert(1)", "https:/evil.test", "\x00//evil.test"]


def _stays_on_site(location: str) -> bool:
    """Whether a browser following ``location`` stays here: browsers drop tabs and
    newlines, trim leading controls and spaces, and read a backslash as a slash."""
    seen = re.sub(r"[\t\n\r]", "", location).lstrip("".join(map(chr, range(33))))
    parts = urlsplit(seen.replace("\\", "/"))
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost")


@pytest.mark.parametrize("target", OFFSITE)
def test_sign_in_never_sends_you_off_site(app, client, auth, world, target):
    response = client.post(f"/login?next={quote(target, safe='')}",
                           data={"email": world.admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert _stays_on_site(response.headers["Location"]), response.headers["Location"]
    # and once signed in, /login?next= does not either
    again = client.get(f"/login?next={quote(target, safe='')}")
    assert again.status_code == 302
    assert _stays_on_site(again.headers["Location"]), again.headers["Location"]


def test_sign_in_does_send_you_back_to_the_page_you_asked_for(app, client, world):
    response = client.post("/login?next=%2Fbookings%3Fq%3DAna",
                           data={"email": world.admin.email, "password": PASSWORD})
    assert response.headers["Location"] == "/bookings?q=Ana"


# --- session fixation, sign-out and remember-me --------------------------------------------

def test_signing_in_starts_a_new_session(app, client, world):
    """Whatever a visitor's session held before sign-in (an attacker may have planted it)
    does not carry over, and the cookie is a new one."""
    with client.session_transaction() as session:
        session["workspace_id"] = world.globex.id
        session["planted"] = "by an attacker"
    before = _cookie(client, "session")
    client.post("/login", data={"email": world.admin.email, "password": PASSWORD})
    assert _cookie(client, "session") != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("workspace_id") != world.globex.id


def _signed_in(app, session_cookie: str | None = None, remember: str | None = None) -> bool:
    """Whether a fresh browser holding just these cookies is signed in."""
    other = app.test_client()
    if session_cookie:
        other.set_cookie("session", session_cookie)
    if remember:
        other.set_cookie("remember_token", remember)
    return other.get("/").status_code == 200


def test_a_session_cookie_copied_before_sign_out_is_dead_after_it(app, client, auth, world):
    auth.login_as(world.admin)
    stolen = _cookie(client, "session")
    assert _signed_in(app, stolen)
    assert auth.logout().status_code == 302
    assert not _signed_in(app, stolen), "the old session cookie still signs in after sign-out"


def test_a_remember_me_cookie_copied_before_sign_out_is_dead_after_it(app, client, auth,
                                                                      world):
    client.post("/login", data={"email": world.admin.email, "password": PASSWORD,
                                "remember": "y"})
    stolen = _cookie(client, "remember_token")
    assert stolen, "no remember-me cookie was set"
    assert _signed_in(app, remember=stolen)
    auth.logout()
    assert not _signed_in(app, remember=stolen), (
        "the old remember-me cookie still signs in after sign-out")


def _everywhere_route() -> str | None:
    for rule in _MAP_APP.url_map.iter_rules():
        if "everywhere" in rule.rule or "everywhere" in rule.endpoint:
            return rule.rule
    return None


def test_sign_out_everywhere_ends_every_other_session(app, world):
    route = _everywhere_route()
    assert route, "there is no 'sign out everywhere' route yet"
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        device.post("/login", data={"email": world.admin.email, "password": PASSWORD,
                                    "remember": "y"})
    remembered = _cookie(phone, "remember_token")
    assert phone.get("/").status_code == 200
    assert laptop.post(route).status_code in (200, 302, 303)
    assert phone.get("/").status_code == 302
    assert not _signed_in(app, remember=remembered)


def test_deactivating_a_user_ends_their_sessions(app, client, auth, world):
    auth.login_as(world.operator)
    stolen = _cookie(client, "session")
    with app.app_context():
        user = db.session.get(type(world.operator), world.operator.id)
        user.active = False
        db.session.commit()
    assert not _signed_in(app, stolen)


# --- the sign-in throttle under a parallel burst --------------------------------------------

BURST = 16


def _login_form(base: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert token, "no CSRF token on the sign-in page"
    return http, token.group(1)


def test_the_sign_in_throttle_holds_under_a_parallel_burst(app, world, live_server):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    forms = [_login_form(live_server.url) for _ in range(BURST)]
    start = threading.Barrier(BURST)
    answers: list[int] = []

    def attempt(http: requests.Session, token: str) -> None:
        start.wait(timeout=10)
        response = http.post(f"{live_server.url}/login", timeout=30, allow_redirects=False,
                             data={"csrf_token": token, "email": world.admin.email,
                                   "password": "wrong password, guessed"})
        answers.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=form) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(set(answers)) <= [401, 429], answers
    assert answers.count(401) <= limit, (
        f"{answers.count(401)} wrong passwords were checked; the limit is {limit}")
    http, token = _login_form(live_server.url)
    right = http.post(f"{live_server.url}/login", timeout=30, allow_redirects=False,
                      data={"csrf_token": token, "email": world.admin.email,
                            "password": PASSWORD})
    assert right.status_code == 429


# --- headers on every answer ----------------------------------------------------------------

def _check_headers(response) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";")
                      if part.strip())
    assert "'unsafe-inline'" not in directives.get("script-src", "'unsafe-inline'")
    assert "'unsafe-eval'" not in directives.get("script-src", "")
    assert directives.get("frame-ancestors") == "'none'"
    assert directives.get("object-src") == "'none'"
    assert directives.get("base-uri") in ("'none'", "'self'")
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer",
                                              "strict-origin-when-cross-origin")


@pytest.mark.parametrize(("rule", "access"), PAGES)
def test_every_page_carries_the_security_headers(app, client, auth, world, rule, access):
    with app.app_context():
        url = _fill(rule, record_ids(world.acme))
    if access != "public":
        auth.sign_in_as(world.admin)
    _check_headers(client.get(url))
    _check_headers(client.get(url, headers={"HX-Request": "true"}))


@pytest.mark.parametrize("answer", ["not-found", "api", "api-401", "openapi", "webhook-401",
                                    "signed-out", "csrf-400", "405"])
def test_every_kind_of_answer_carries_the_security_headers(app, client, world, answer):
    calls = {
        "not-found": lambda: client.get("/no/such/page"),
        "api": lambda: client.get("/api/v1/bookings/nope"),
        "api-401": lambda: client.get("/api/v1/bookings"),
        "openapi": lambda: client.get("/api/v1/openapi.json"),
        "webhook-401": lambda: client.post("/webhooks/zoom", json={}, csrf=False),
        "signed-out": lambda: client.get("/bookings"),
        "csrf-400": lambda: client.post("/logout", csrf=False),
        "405": lambda: client.delete("/login"),
    }
    _check_headers(calls[answer]())


def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_cookies_are_http_only_and_same_site(app, client, world):
    response = client.post("/login", data={"email": world.admin.email, "password": PASSWORD,
                                           "remember": "y"})
    cookies = _set_cookies(response)
    assert {"session", "remember_token"} <= set(cookies), cookies
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name], cookies[name]
        assert "SameSite=Lax" in cookies[name] or "SameSite=Strict" in cookies[name]


@pytest.fixture
def production_app(monkeypatch, tmp_path):
    """The app as production configures it (live Zoom, secrets from the environment)."""
    environment = {
        "LAKESIS_ENV": "production", "SECRET_KEY": "s" * 48,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}", "ZOOM_MODE": "live",
        "ZOOM_CLIENT_ID": "live-client", "ZOOM_CLIENT_SECRET": "live-secret",
        "ZOOM_WEBHOOK_SECRET_TOKEN": "live-webhook-secret",
        "APP_BASE_URL": "https://lakesis.example",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    production = create_app()
    production.test_client_class = CSRFClient
    with production.app_context():
        db.create_all()
        make_user("prod@acme.test")
        db.session.commit()
    yield production
    with production.app_context():
        db.drop_all()
        db.engine.dispose()


def test_production_cookies_are_secure_and_pages_ask_for_https(production_app):
    client = production_app.test_client()
    page = client.get("/login", base_url="https://lakesis.example").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", base_url="https://lakesis.example", csrf=False,
                           headers={"Referer": "https://lakesis.example/login"},
                           data={"email": "prod@acme.test", "password": PASSWORD,
                                 "remember": "y", "csrf_token": token})
    cookies = _set_cookies(response)
    assert {"session", "remember_token"} <= set(cookies), (response.status_code, cookies)
    for name in ("session", "remember_token"):
        assert "Secure" in cookies[name] and "HttpOnly" in cookies[name], cookies[name]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


# --- pages with customer data are not kept in caches ----------------------------------------

CUSTOMER = "Zelda Quartermaine"
WORKSPACE_PAGES = [page for page in PAGES if isinstance(page.values[1], Permission)]


@pytest.mark.parametrize(("rule", "access"), WORKSPACE_PAGES)
def test_pages_showing_customer_data_are_not_stored_by_caches(app, client, auth, world, rule,
                                                              access):
    with app.app_context():
        ids = record_ids(world.acme)
        ids["booking_id"] = add_booking(world.acme.id, "cache-1", customer=CUSTOMER)
    auth.sign_in_as(world.admin)
    url = _fill(rule, ids)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(url, headers=headers)
        body = response.get_data(as_text=True)
        if CUSTOMER in body or "zelda@example.test" in body:
            assert "no-store" in response.headers.get("Cache-Control", ""), (
                f"{url} shows a customer but may be cached: "
                f"Cache-Control={response.headers.get('Cache-Control')!r}")
