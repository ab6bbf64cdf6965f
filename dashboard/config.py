"""Settings from the environment, validated once at start.

Every setting the app reads is listed in ``SETTINGS`` (name, default, meaning); the README's
configuration table is written from the same list, and ``load_config`` refuses to build a
production configuration that is missing a secret or still points at the Zoom sandbox.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ENVIRONMENTS = ("development", "testing", "production")
ZOOM_MODES = ("sandbox", "live")
SANDBOX_CLIENT_ID = "lakesis-sandbox-client"
SANDBOX_CLIENT_SECRET = "lakesis-sandbox-secret"  # noqa: S105 - public dev value of the sandbox
SANDBOX_WEBHOOK_SECRET = "lakesis-sandbox-webhook-secret"  # noqa: S105 - public dev value


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app may start with."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("LAKESIS_ENV", "development", "development, testing or production"),
    Setting("SECRET_KEY", None, "signs sessions and CSRF tokens; required in production "
            "(development keeps a generated one in instance/dev-secret-key)"),
    Setting("DATABASE_URL", "sqlite:///instance/lakesis.db",
            "SQLAlchemy URL; postgresql://... uses psycopg 3"),
    Setting("TOKEN_ENCRYPTION_KEYS", None, "comma-separated Fernet keys; the first encrypts, all "
            "decrypt (rotation); required in production (development keeps one in "
            "instance/dev-token-key)"),
    Setting("PORT", "5000", "port of make run"),
    Setting("APP_BASE_URL", "http://127.0.0.1:$PORT", "public base URL of the dashboard"),
    Setting("TRUSTED_PROXY_HOPS", "0", "reverse proxies in front of the app whose "
            "X-Forwarded-* headers are trusted"),
    Setting("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5", "failed sign-ins per account per window "
            "before 429"),
    Setting("LOGIN_MAX_FAILURES_PER_ADDRESS", "20", "failed sign-ins per client address per "
            "window before 429"),
    Setting("LOGIN_THROTTLE_WINDOW_SECONDS", "900", "window of the sign-in throttle"),
    Setting("ZOOM_MODE", "sandbox", "sandbox (built-in Zoom stand-in) or live (real Zoom)"),
    Setting("ZOOM_CLIENT_ID", SANDBOX_CLIENT_ID, "OAuth client id of the Zoom app"),
    Setting("ZOOM_CLIENT_SECRET", SANDBOX_CLIENT_SECRET, "OAuth client secret of the Zoom app"),
    Setting("ZOOM_WEBHOOK_SECRET_TOKEN", SANDBOX_WEBHOOK_SECRET,
            "secret token of the Zoom app's event subscription"),
    Setting("ZOOM_REDIRECT_URI", "$APP_BASE_URL/settings/integrations/zoom/callback",
            "OAuth redirect URL registered in the Zoom app"),
    Setting("ZOOM_SANDBOX_URL", "$APP_BASE_URL/zoom-sandbox", "sandbox mode only: where the "
            "Zoom stand-in answers (a separate `flask zoom sandbox` process, or the mounted one)"),
    Setting("ZOOM_SANDBOX_WEBHOOK_URL", "$APP_BASE_URL/webhooks/zoom",
            "sandbox mode only: where the sandbox sends its webhooks"),
    Setting("LOG_LEVEL", "INFO", "log level of the app's logger"),
    Setting("LAKESIS_OUTBOX_LEASE_SECONDS", "120", "how long a worker's claim on an operation "
            "lasts; a killed worker's work is taken over after it. Keep it well above an "
            "operation's longest run (a few Zoom calls of up to 13 s each)"),
    Setting("LAKESIS_EMBEDDED_WORKER", "0", "1: this process also runs the Zoom worker in a "
            "thread (make run sets it; production runs `flask zoom worker` instead)"),
)


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = _env(environ, name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def normalize_database_url(url: str, instance_path: Path) -> str:
    """Point bare PostgreSQL URLs at psycopg 3 and relative SQLite files at instance/."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith("sqlite:///instance/"):
        return f"sqlite:///{instance_path / url.removeprefix('sqlite:///instance/')}"
    return url


def _dev_secret(instance_path: Path, filename: str, make: Any) -> str:
    """Read, or create once with owner-only permissions, a development secret under instance/."""
    path = instance_path / filename
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def _check_fernet_keys(raw: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"TOKEN_ENCRYPTION_KEYS: key {index} is not a valid Fernet key "
                "(make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc
    if not keys:
        raise ConfigError("TOKEN_ENCRYPTION_KEYS is empty")
    return keys


def load_config(
    environ: Mapping[str, str], instance_path: Path, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the Flask config from ``environ`` (then ``overrides``), or raise ConfigError."""
    overrides = dict(overrides or {})
    env = overrides.pop("LAKESIS_ENV", None) or _env(environ, "LAKESIS_ENV") or "development"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"LAKESIS_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    production = env == "production"
    port = _int(environ, "PORT", 5000)
    base_url = (_env(environ, "APP_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/")
    zoom_mode = _env(environ, "ZOOM_MODE") or "sandbox"
    if zoom_mode not in ZOOM_MODES:
        raise ConfigError(f"ZOOM_MODE must be sandbox or live, got {zoom_mode!r}")

    secret_key = _env(environ, "SECRET_KEY")
    token_keys = _env(environ, "TOKEN_ENCRYPTION_KEYS")
    if production:
        missing = [n for n, v in (("SECRET_KEY", secret_key), ("TOKEN_ENCRYPTION_KEYS", token_keys))
                   if v is None]
        if missing:
            raise ConfigError(f"production needs {' and '.join(missing)} in the environment")
    elif env == "development":
        secret_key = secret_key or _dev_secret(
            instance_path, "dev-secret-key", lambda: secrets.token_urlsafe(48))
        token_keys = token_keys or _dev_secret(
            instance_path, "dev-token-key", lambda: Fernet.generate_key().decode())
    else:  # testing: throwaway values unless the test gives its own
        secret_key = secret_key or secrets.token_urlsafe(32)
        token_keys = token_keys or Fernet.generate_key().decode()

    config: dict[str, Any] = {
        "LAKESIS_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret_key,
        "TOKEN_ENCRYPTION_KEYS": _check_fernet_keys(token_keys or ""),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(
            _env(environ, "DATABASE_URL") or "sqlite:///instance/lakesis.db", instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "APP_BASE_URL": base_url,
        "TRUSTED_PROXY_HOPS": _int(environ, "TRUSTED_PROXY_HOPS", 0),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int(environ, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int(environ, "LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "LOGIN_THROTTLE_WINDOW_SECONDS": _int(environ, "LOGIN_THROTTLE_WINDOW_SECONDS", 900),
        "ZOOM_MODE": zoom_mode,
        "ZOOM_CLIENT_ID": _env(environ, "ZOOM_CLIENT_ID") or SANDBOX_CLIENT_ID,
        "ZOOM_CLIENT_SECRET": _env(environ, "ZOOM_CLIENT_SECRET") or SANDBOX_CLIENT_SECRET,
        "ZOOM_WEBHOOK_SECRET_TOKEN": (
            _env(environ, "ZOOM_WEBHOOK_SECRET_TOKEN") or SANDBOX_WEBHOOK_SECRET),
        "ZOOM_REDIRECT_URI": (_env(environ, "ZOOM_REDIRECT_URI")
                              or f"{base_url}/settings/integrations/zoom/callback"),
        "ZOOM_SANDBOX_URL": (_env(environ, "ZOOM_SANDBOX_URL")
                             or f"{base_url}/zoom-sandbox").rstrip("/"),
        "ZOOM_SANDBOX_WEBHOOK_URL": (_env(environ, "ZOOM_SANDBOX_WEBHOOK_URL")
                                     or f"{base_url}/webhooks/zoom"),
        "LOG_LEVEL": (_env(environ, "LOG_LEVEL") or "INFO").upper(),
        "EMBEDDED_WORKER": _env(environ, "LAKESIS_EMBEDDED_WORKER") == "1",
        "OUTBOX_LEASE_SECONDS": _int(environ, "LAKESIS_OUTBOX_LEASE_SECONDS", 120),
        # Browsers only send the cookie over HTTPS in production; Lax blocks cross-site POSTs.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        # Operators keep the bookings page open all day; the token lives as long as the session.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
    }
    config.update(overrides)
    if production:
        _refuse_sandbox_in_production(config, environ)
    return config


def _refuse_sandbox_in_production(config: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    problems = []
    if config["ZOOM_MODE"] != "live":
        problems.append("ZOOM_MODE must be live")
    if config["ZOOM_CLIENT_ID"] == SANDBOX_CLIENT_ID:
        problems.append("ZOOM_CLIENT_ID is the sandbox's")
    if config["ZOOM_CLIENT_SECRET"] == SANDBOX_CLIENT_SECRET:
        problems.append("ZOOM_CLIENT_SECRET is the sandbox's")
    if config["ZOOM_WEBHOOK_SECRET_TOKEN"] == SANDBOX_WEBHOOK_SECRET:
        problems.append("ZOOM_WEBHOOK_SECRET_TOKEN is the sandbox's")
    if _env(environ, "ZOOM_SANDBOX_URL") or _env(environ, "ZOOM_SANDBOX_WEBHOOK_URL"):
        problems.append("ZOOM_SANDBOX_* settings are set")
    if problems:
        raise ConfigError("production refuses sandbox settings: " + "; ".join(problems))
