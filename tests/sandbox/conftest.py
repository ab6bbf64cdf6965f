"""Fixtures for the Zoom sandbox tests: the sandbox served over real HTTP, plus a webhook
receiver that records what the sandbox sends. Both run on ``tests.live_server.LiveServer``
(werkzeug in a thread) and are shut down at the end of the session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from dashboard.sandbox import create_standalone_app, shutdown
from tests.live_server import LiveServer

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
REDIRECT_URI = "http://127.0.0.1:5000/settings/integrations/zoom/callback"
WEBHOOK_SECRET = "test-webhook-secret"
ADA = "sbx-user-dr-ada"
FRONT_DESK = "sbx-user-front-desk"
OTHER_HOST = "sbx-user-other-host"


class _Http:
    """``requests`` with a default timeout, so a hung sandbox fails a test instead of it."""

    timeout = 10.0

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        timeout = kwargs.pop("timeout", self.timeout)
        return requests.request(method, url, timeout=timeout, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)


http = _Http()


class WebhookReceiver:
    """Records each POST (headers and raw body); answers ``status`` (200 by default),
    or first the statuses queued in ``script``.

    ``endpoint.url_validation`` is answered as ``validation`` says: "correct" (the
    default: plainToken and hex(HMAC_SHA256(secret, plainToken))), "wrong" (a bad
    encryptedToken) or "plain" (just "ok", like any other event)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.script: list[int] = []
        self.validation = "correct"
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def _validation_answer(self, body: bytes) -> bytes | None:
        import json

        try:
            event = json.loads(body)
        except ValueError:
            return None
        if event.get("event") != "endpoint.url_validation" or self.validation == "plain":
            return None
        plain = event["payload"]["plainToken"]
        secret = WEBHOOK_SECRET if self.validation == "correct" else "not-the-secret"
        encrypted = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
        return json.dumps({"plainToken": plain, "encryptedToken": encrypted}).encode()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        with self._arrived:
            status = self.script.pop(0) if self.script else self.status
            self.received.append({"headers": headers, "body": body, "status": status})
            self._arrived.notify_all()
        answer = self._validation_answer(body)
        if answer is not None:
            start_response(f"{status} X", [("Content-Type", "application/json")])
            return [answer]
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [b"ok"]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.script.clear()
            self.status = 200
            self.validation = "correct"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until ``count`` requests have arrived (or fail)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} webhooks, got {len(self.received)}"
                self._arrived.wait(left)
            return list(self.received)

    def events(self) -> list[str]:
        import json

        return [json.loads(item["body"])["event"] for item in self.received]


class FormParser(HTMLParser):
    """Collects forms: action, method, inputs (name, value, type, checked), buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({**attributes, "fields": []})
        elif tag in ("input", "button", "select") and self.forms:
            self.forms[-1]["fields"].append({"tag": tag, **attributes})


def parse_forms(html: str) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Sandbox:
    """Drives the sandbox over HTTP as the Lakesis client and a person would."""

    def __init__(self, app: Any, url: str, receiver: WebhookReceiver, mp: Any) -> None:
        self.app = app
        self.base = url + "/zoom-sandbox"
        self.webhooks = receiver
        self._monkeypatch = mp
        self.auth = (CLIENT_ID, CLIENT_SECRET)

    def url(self, path: str) -> str:
        return self.base + path

    def configure(self, **settings: Any) -> None:
        """Change sandbox settings for this test only."""
        for key, value in settings.items():
            self._monkeypatch.setitem(self.app.config, key, value)

    # --- OAuth, as the browser and the client do it ---
    def authorize_params(self, **overrides: str) -> dict[str, str]:
        self.verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "state": "st-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return params

    def consent(
        self, user_id: str = ADA, decision: str = "allow", **overrides: str
    ) -> requests.Response:
        """Open the consent page and submit its form as a person would."""
        page = http.get(self.url("/oauth/authorize"), params=self.authorize_params(**overrides))
        assert page.status_code == 200, page.text
        (form,) = [f for f in parse_forms(page.text) if f.get("method") == "post"]
        data = {
            f["name"]: f.get("value", "")
            for f in form["fields"]
            if f["tag"] == "input" and f.get("type") == "hidden"
        }
        radios = [f["value"] for f in form["fields"] if f.get("type") == "radio"]
        assert user_id in radios
        data["user_id"] = user_id
        buttons = {f["value"] for f in form["fields"] if f["tag"] == "button"}
        assert decision in buttons
        data["decision"] = decision
        return http.post(urljoin(page.url, form["action"]), data=data, allow_redirects=False)

    def authorize(self, user_id: str = ADA, **overrides: str) -> dict[str, str]:
        """Consent and return the query the browser is redirected back with."""
        answer = self.consent(user_id, **overrides)
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith(REDIRECT_URI)
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def exchange(self, code: str, verifier: str | None = None, **extra: str) -> requests.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": self.verifier if verifier is None else verifier,
            **extra,
        }
        return http.post(self.url("/oauth/token"), data=data, auth=self.auth)

    def connect(self, user_id: str = ADA, **overrides: str) -> dict[str, Any]:
        """The whole code flow; return the token response body."""
        query = self.authorize(user_id, **overrides)
        answer = self.exchange(query["code"])
        assert answer.status_code == 200, answer.text
        return answer.json()

    def refresh(self, refresh_token: str, base: str | None = None) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return http.post((base or self.base) + "/oauth/token", data=data, auth=self.auth)

    # --- API ---
    def api(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return http.request(method, self.url("/v2" + path), headers=headers, **kwargs)

    def create_meeting(self, token: str, **body: Any) -> dict[str, Any]:
        payload = {
            "topic": "Consultation",
            "type": 2,
            "start_time": "2030-03-01T10:00:00Z",
            "duration": 30,
            "timezone": "Europe/Lisbon",
            **body,
        }
        answer = self.api("POST", "/users/me/meetings", token, json=payload)
        assert answer.status_code == 201, answer.text
        return answer.json()

    # --- controls ---
    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return http.request(method, self.url("/_control" + path), **kwargs)

    def advance(self, seconds: float) -> None:
        assert self.control("POST", "/clock", json={"advance_seconds": seconds}).ok

    def fault(self, endpoint: str, mode: str, **extra: Any) -> None:
        answer = self.control("POST", "/faults", json={"endpoint": endpoint, "mode": mode, **extra})
        assert answer.status_code == 200, answer.text

    def state(self) -> dict[str, Any]:
        return self.control("GET", "/state").json()


def sandbox_config(db_path: str, webhook_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "ZOOM_CLIENT_ID": CLIENT_ID,
        "ZOOM_CLIENT_SECRET": CLIENT_SECRET,
        "ZOOM_REDIRECT_URI": REDIRECT_URI,
        "ZOOM_WEBHOOK_SECRET_TOKEN": WEBHOOK_SECRET,
        "ZOOM_SANDBOX_WEBHOOK_URL": webhook_url,
        "ZOOM_SANDBOX_DATABASE_URL": f"sqlite:///{db_path}",
        "ZOOM_SANDBOX_WEBHOOKS_SYNC": True,
        "ZOOM_SANDBOX_APP_NAME": "Lakesis",
    }


@pytest.fixture(scope="session")
def webhook_server() -> Iterator[tuple[WebhookReceiver, str]]:
    receiver = WebhookReceiver()
    server = LiveServer(receiver)
    yield receiver, server.url + "/webhooks/zoom"
    server.stop()


@pytest.fixture(scope="session")
def sandbox_server(
    tmp_path_factory: pytest.TempPathFactory, webhook_server: tuple[WebhookReceiver, str]
) -> Iterator[tuple[Any, str, str]]:
    db_path = str(tmp_path_factory.mktemp("zoom-sandbox") / "sandbox.db")
    app = create_standalone_app(sandbox_config(db_path, webhook_server[1]))
    server = LiveServer(app)
    yield app, server.url, db_path
    server.stop()
    shutdown(app)


@pytest.fixture()
def sandbox(
    sandbox_server: tuple[Any, str, str],
    webhook_server: tuple[WebhookReceiver, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Sandbox]:
    """A freshly reset sandbox and an empty webhook log."""
    app, url, _ = sandbox_server
    receiver = webhook_server[0]
    assert http.post(url + "/zoom-sandbox/_control/reset").ok
    receiver.clear()
    yield Sandbox(app, url, receiver, monkeypatch)
    app.extensions["zoom_sandbox"].sender.close()


@pytest.fixture()
def token(sandbox: Sandbox) -> str:
    """An access token of dr.ada (clinic account) with the default scopes."""
    return sandbox.connect()["access_token"]
