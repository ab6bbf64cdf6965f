"""The app factory and its settings: what starts, and what refuses to."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from dashboard import create_app, sandbox
from dashboard.config import SETTINGS, ConfigError, load_config
from dashboard.sandbox.settings import setting as sandbox_setting

LIVE = {
    "LAKESIS_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ZOOM_MODE": "live",
    "ZOOM_CLIENT_ID": "real-id",
    "ZOOM_CLIENT_SECRET": "real-secret",
    "ZOOM_WEBHOOK_SECRET_TOKEN": "real-webhook-secret",
    "DATABASE_URL": "postgresql://app@db.internal/lakesis",
}


def test_testing_config_builds_an_app(tmp_path):
    app = create_app({"LAKESIS_ENV": "testing",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.testing
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_production_config_is_accepted_with_real_settings(tmp_path):
    config = load_config(LIVE, tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_secrets(tmp_path, missing):
    environ = {k: v for k, v in LIVE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_config(environ, tmp_path)


@pytest.mark.parametrize(("name", "value"), [
    ("ZOOM_MODE", "sandbox"),
    ("ZOOM_CLIENT_ID", "lakesis-sandbox-client"),
    ("ZOOM_SANDBOX_URL", "http://127.0.0.1:5001/zoom-sandbox"),
])
def test_production_refuses_sandbox_settings(tmp_path, name, value):
    with pytest.raises(ConfigError, match="sandbox"):
        load_config({**LIVE, name: value}, tmp_path)


def test_a_bad_fernet_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="key 2 is not a valid Fernet key"):
        load_config({**LIVE, "TOKEN_ENCRYPTION_KEYS": LIVE["TOKEN_ENCRYPTION_KEYS"] + ",nope"},
                    tmp_path)


@pytest.mark.parametrize(("name", "value"), [
    ("TRUSTED_PROXY_HOPS", "-1"), ("PORT", "70000"), ("LAKESIS_OUTBOX_LEASE_SECONDS", "0")])
def test_a_number_out_of_range_is_refused_by_name(tmp_path, name, value):
    with pytest.raises(ConfigError, match=f"{name} must be a whole number"):
        load_config({name: value}, tmp_path)


def test_development_keeps_generated_secrets_under_instance(tmp_path):
    first = load_config({}, tmp_path)
    again = load_config({}, tmp_path)
    assert first["SECRET_KEY"] == again["SECRET_KEY"]
    assert first["TOKEN_ENCRYPTION_KEYS"] == again["TOKEN_ENCRYPTION_KEYS"]
    assert oct((tmp_path / "dev-token-key").stat().st_mode & 0o777) == "0o600"


def test_live_mode_never_mounts_the_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOOM_MODE", "live")
    app = create_app({"LAKESIS_ENV": "testing",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert not any(r.rule.startswith("/zoom-sandbox") for r in app.url_map.iter_rules())
    assert "zoom_sandbox" not in app.extensions


def test_every_setting_is_in_the_readme():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in readme, setting.name


def test_every_response_carries_a_strict_content_security_policy(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def _mounted_sandbox_app(tmp_path, monkeypatch, **overrides):
    """The app with its sandbox mounted, and ZOOM_SANDBOX_* settings in the environment."""
    monkeypatch.setenv("LAKESIS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ZOOM_MODE", "sandbox")
    monkeypatch.setenv("ZOOM_SANDBOX_ACCESS_TOKEN_TTL", "60")
    monkeypatch.setenv("ZOOM_SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.db'}")
    return create_app({"LAKESIS_ENV": "testing",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", **overrides})


def test_the_mounted_sandbox_reads_its_zoom_sandbox_settings_from_the_environment(
        tmp_path, monkeypatch):
    app = _mounted_sandbox_app(tmp_path, monkeypatch)
    try:
        client = app.test_client()
        redirect_uri = app.config["ZOOM_REDIRECT_URI"]
        consent = client.post("/zoom-sandbox/oauth/authorize", data={
            "response_type": "code", "client_id": app.config["ZOOM_CLIENT_ID"],
            "redirect_uri": redirect_uri, "decision": "allow", "user_id": "sbx-user-dr-ada"})
        assert consent.status_code == 302, consent.text
        code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
        token = client.post(
            "/zoom-sandbox/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(app.config["ZOOM_CLIENT_ID"], app.config["ZOOM_CLIENT_SECRET"]))
        assert token.status_code == 200, token.text
        assert token.json["expires_in"] == 60 - 1  # Zoom answers one second short of the TTL
        assert (tmp_path / "from-env.db").exists()
    finally:
        sandbox.shutdown(app)


def test_settings_the_host_gives_the_mounted_sandbox_win_over_the_environment(
        tmp_path, monkeypatch):
    app = _mounted_sandbox_app(tmp_path, monkeypatch, ZOOM_SANDBOX_ACCESS_TOKEN_TTL=120)
    try:
        with app.app_context():
            assert sandbox_setting("ZOOM_SANDBOX_ACCESS_TOKEN_TTL") == 120
            assert sandbox_setting("ZOOM_REDIRECT_URI") == app.config["ZOOM_REDIRECT_URI"]
    finally:
        sandbox.shutdown(app)
