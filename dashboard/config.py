"""Settings from the environment, validated once at start.

Every setting the app reads is one row of ``SETTINGS``: its name, default and meaning (the
README's configuration table, checked against this list by a test), how its text is parsed,
the config key it lands in, and what production asks of it. ``load_config`` reads the rows in
order; the few rules that span settings are the small functions after it (secrets required in
production and kept under instance/ in development, the SQLite path under instance/, and
production refusing anything that still points at the Zoom sandbox).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ENVIRONMENTS = ("development", "testing", "production")
ZOOM_MODES = ("sandbox", "live")
LOG_FORMATS = ("json", "text")
SANDBOX_CLIENT_ID = "lakesis-sandbox-client"
SANDBOX_CLIENT_SECRET = "lakesis-sandbox-secret"  # noqa: S105 - public dev value of the sandbox
SANDBOX_WEBHOOK_SECRET = "lakesis-sandbox-webhook-secret"  # noqa: S105 - public dev value
_REFERENCE = re.compile(r"\$([A-Z_]+)")

#: A parser turns a setting's text (never blank) into its value, or raises ConfigError.
Parser = Callable[[str, str], Any]


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app may start with."""


def _text(name: str, raw: str) -> str:
    return raw


def _url(name: str, raw: str) -> str:
    return raw.rstrip("/")


def _upper(name: str, raw: str) -> str:
    return raw.upper()


def _flag(name: str, raw: str) -> bool:
    return raw == "1"


def _whole(minimum: int, maximum: int | None = None) -> Parser:
    """A whole number from ``minimum`` (to ``maximum``)."""
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"

    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
        if value < minimum or (maximum is not None and value > maximum):
            raise ConfigError(f"{name} must be a whole number {bounds}, got {raw!r}")
        return value

    return parse


def _seconds(minimum: float, maximum: float) -> Parser:
    """A number of seconds from ``minimum`` to ``maximum``; fractions allowed."""

    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
        if not minimum <= value <= maximum:  # also refuses nan
            raise ConfigError(f"{name} must be from {minimum:g} to {maximum:g} seconds, "
                              f"got {raw!r}")
        return value

    return parse


def _choice(options: tuple[str, ...]) -> Parser:
    words = " or ".join(options) if len(options) == 2 else "one of " + ", ".join(options)

    def parse(name: str, raw: str) -> str:
        if raw not in options:
            raise ConfigError(f"{name} must be {words}, got {raw!r}")
        return raw

    return parse


def _smtp_url(name: str, raw: str) -> str:
    from dashboard.mail_transport import SmtpTarget

    try:
        SmtpTarget.from_url(raw)
    except ValueError as error:
        raise ConfigError(f"{name} {error}") from error
    return raw


def _mail_from(name: str, raw: str) -> str:
    from email.headerregistry import Address
    from email.utils import parseaddr

    display, address = parseaddr(raw)
    if "@" not in address:
        raise ConfigError(f"{name} must be an address such as Lakesis <bookings@example.com>")
    try:
        Address(display_name=display, addr_spec=address)
    except (ValueError, IndexError) as error:
        raise ConfigError(f"{name} is not a valid address: {raw!r}") from error
    return raw


def _fernet_keys(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated Fernet keys, each checked."""
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{name}: key {index} is not a valid Fernet key "
                "(make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc
    if not keys:
        raise ConfigError(f"{name} is empty")
    return keys


@dataclass(frozen=True)
class DevSecret:
    """Where development keeps a generated secret (under instance/), and how to make one."""

    filename: str
    make: Callable[[], str]


@dataclass(frozen=True)
class Setting:
    """One environment variable: the README's row, and how ``load_config`` reads it.

    ``default`` may name earlier settings as ``$NAME`` (their parsed values are put in).
    """

    name: str
    default: str | None
    meaning: str
    parse: Parser = _text
    #: the config key it lands in, when not ``name``
    key: str = ""
    #: no default: production refuses to start without it; development generates one
    dev_secret: DevSecret | None = None
    #: the default is the sandbox's public value: production refuses it
    sandbox_default: bool = False
    #: sandbox mode only: production refuses it being set at all
    sandbox_only: bool = False

    @property
    def config_key(self) -> str:
        return self.key or self.name


SETTINGS: tuple[Setting, ...] = (
    Setting("LAKESIS_ENV", "development", "development, testing or production",
            parse=_choice(ENVIRONMENTS)),
    Setting("SECRET_KEY", None, "signs sessions and CSRF tokens; required in production "
            "(development keeps a generated one in instance/dev-secret-key)",
            dev_secret=DevSecret("dev-secret-key", lambda: secrets.token_urlsafe(48))),
    Setting("DATABASE_URL", "sqlite:///instance/lakesis.db",
            "SQLAlchemy URL; postgresql://... uses psycopg 3", key="SQLALCHEMY_DATABASE_URI"),
    Setting("TOKEN_ENCRYPTION_KEYS", None, "comma-separated Fernet keys; the first encrypts, all "
            "decrypt (rotation); required in production (development keeps one in "
            "instance/dev-token-key)", parse=_fernet_keys,
            dev_secret=DevSecret("dev-token-key", lambda: Fernet.generate_key().decode())),
    Setting("PORT", "5000", "port of make run", parse=_whole(1, 65535)),
    Setting("APP_BASE_URL", "http://127.0.0.1:$PORT", "public base URL of the dashboard",
            parse=_url),
    Setting("TRUSTED_PROXY_HOPS", "0", "reverse proxies in front of the app whose "
            "X-Forwarded-* headers are trusted", parse=_whole(0)),
    Setting("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5", "failed sign-ins per account per window "
            "before 429", parse=_whole(1)),
    Setting("LOGIN_MAX_FAILURES_PER_ADDRESS", "20", "failed sign-ins per client address per "
            "window before 429", parse=_whole(1)),
    Setting("LOGIN_THROTTLE_WINDOW_SECONDS", "900", "window of the sign-in throttle",
            parse=_whole(1)),
    Setting("ZOOM_MODE", "sandbox", "sandbox (built-in Zoom stand-in) or live (real Zoom)",
            parse=_choice(ZOOM_MODES)),
    Setting("ZOOM_CLIENT_ID", SANDBOX_CLIENT_ID, "OAuth client id of the Zoom app",
            sandbox_default=True),
    Setting("ZOOM_CLIENT_SECRET", SANDBOX_CLIENT_SECRET, "OAuth client secret of the Zoom app",
            sandbox_default=True),
    Setting("ZOOM_WEBHOOK_SECRET_TOKEN", SANDBOX_WEBHOOK_SECRET,
            "secret token of the Zoom app's event subscription", sandbox_default=True),
    Setting("ZOOM_REDIRECT_URI", "$APP_BASE_URL/settings/integrations/zoom/callback",
            "OAuth redirect URL registered in the Zoom app"),
    Setting("ZOOM_SANDBOX_URL", "$APP_BASE_URL/zoom-sandbox", "sandbox mode only: where the "
            "Zoom stand-in answers (a separate `flask zoom sandbox` process, or the mounted one)",
            parse=_url, sandbox_only=True),
    Setting("ZOOM_SANDBOX_WEBHOOK_URL", "$APP_BASE_URL/webhooks/zoom",
            "sandbox mode only: where the sandbox sends its webhooks", sandbox_only=True),
    Setting("LOG_LEVEL", "INFO", "log level of the app's logger", parse=_upper),
    Setting("LOG_FORMAT", "json", "json: one JSON object a line with the request id (and the "
            "worker's operation id); text: plain lines for a terminal", parse=_choice(LOG_FORMATS)),
    Setting("LAKESIS_OUTBOX_LEASE_SECONDS", "120", "how long a worker's claim on an operation "
            "lasts; a killed worker's work is taken over after it. Keep it well above an "
            "operation's longest run (a few Zoom calls of up to 13 s each)",
            parse=_whole(1), key="OUTBOX_LEASE_SECONDS"),
    Setting("LAKESIS_ZOOM_CREATE_SETTLE_SECONDS", "60", "after a create whose answer was lost, "
            "how long the next attempt waits before it looks for the meeting, and how far "
            "apart the later looks for late copies are: longer than Zoom's slowest commits "
            "(~20 s)", parse=_whole(1), key="ZOOM_CREATE_SETTLE_SECONDS"),
    Setting("LAKESIS_ZOOM_READ_TIMEOUT_SECONDS", "10", "how long a Zoom API or token call may "
            "wait for the answer (the connect timeout is the smaller of this and 3.05 s); a "
            "create that times out is looked for before it is made again",
            parse=_seconds(0.1, 120), key="ZOOM_READ_TIMEOUT_SECONDS"),
    Setting("LAKESIS_RETRY_BASE_SECONDS", "2", "the first retry's wait after Zoom failed (down, "
            "slow, 5xx); each next one waits twice as long, with jitter",
            parse=_seconds(0.01, 3600), key="RETRY_BASE_SECONDS"),
    Setting("LAKESIS_RETRY_MAX_SECONDS", "900", "the longest wait between two retries",
            parse=_seconds(0.01, 86400), key="RETRY_MAX_SECONDS"),
    Setting("LAKESIS_EMBEDDED_WORKER", "0", "1: this process also runs the Zoom worker in a "
            "thread (make run sets it; production runs `flask zoom worker` instead)",
            parse=_flag, key="EMBEDDED_WORKER"),
    Setting("LAKESIS_PAGE_CACHE", "1", "1: each process keeps the bookings table's pages and "
            "shows one again while its workspace's data stands (0: make every page)",
            parse=_flag, key="PAGE_CACHE"),
    Setting("METRICS_TOKEN", None, "bearer token a Prometheus scraper sends to GET /metrics; "
            "unset: only this machine (loopback) may scrape"),
    Setting("ZOOM_SANDBOX_SMTP_PORT", "8025", "sandbox mode only: port of the local mail "
            "catcher that make run starts on 127.0.0.1 (its mail shows at /zoom-sandbox/mail)",
            parse=_whole(1, 65535), sandbox_only=True),
    Setting("SMTP_URL", None, "mail server: smtp://user:pass@host:port (?starttls=1 to "
            "upgrade with STARTTLS) or smtps://user:pass@host:port (TLS); unset in sandbox "
            "mode: the sandbox's mail catcher; unset in live mode: mail waits in the outbox",
            parse=_smtp_url),
    Setting("MAIL_FROM", "Lakesis <lakesis@localhost>", "the From of every email Lakesis "
            "sends (customers' invitations, admins' alerts)", parse=_mail_from),
    Setting("SMTP_TIMEOUT_SECONDS", "20", "how long one SMTP conversation may take before "
            "the send counts as failed (and is retried with the same Message-ID)",
            parse=_whole(1, 300)),
    Setting("LAKESIS_WORKER_HEARTBEAT_MAX_AGE", "60", "seconds since the newest Zoom worker "
            "heartbeat after which GET /readyz answers 503", parse=_whole(1),
            key="WORKER_HEARTBEAT_MAX_AGE_SECONDS"),
    Setting("LAKESIS_WEBHOOK_CONNECT_TIMEOUT", "5", "seconds a webhook delivery waits to "
            "connect to the receiver", parse=_whole(1, 60), key="WEBHOOK_CONNECT_TIMEOUT"),
    Setting("LAKESIS_WEBHOOK_READ_TIMEOUT", "10", "seconds a webhook delivery waits for the "
            "receiver's answer; slower counts as a failed attempt", parse=_whole(1, 120),
            key="WEBHOOK_READ_TIMEOUT"),
    Setting("LAKESIS_WEBHOOK_LEASE_SECONDS", "60", "how long a worker's claim on a webhook "
            "delivery lasts; a killed worker's delivery is sent again after it (same "
            "webhook-id). Keep it above the two timeouts together", parse=_whole(1),
            key="WEBHOOK_LEASE_SECONDS"),
    Setting("LAKESIS_WEBHOOK_PAUSE_AFTER_HOURS", "72", "an endpoint failing every attempt "
            "this long is paused (its admins told); 410 Gone pauses it at once",
            parse=_whole(1), key="WEBHOOK_PAUSE_AFTER_HOURS"),
    Setting("LAKESIS_WEBHOOK_SECRET_GRACE_HOURS", "24", "after a signing secret is rotated, "
            "how long deliveries are signed with the old one too", parse=_whole(0),
            key="WEBHOOK_SECRET_GRACE_HOURS"),
    Setting("LAKESIS_EVENT_RETENTION_DAYS", "30", "how long events (the pull feed, webhook "
            "deliveries and their log) are kept; the worker deletes older ones",
            parse=_whole(1), key="EVENT_RETENTION_DAYS"),
    Setting("LAKESIS_RECONCILE_INTERVAL_SECONDS", "3600", "how often the worker compares each "
            "connected workspace's upcoming meetings with Zoom's (List meetings, a Medium "
            "call; never the hosts' daily create/update budget); 0: never on its own",
            parse=_whole(0), key="RECONCILE_INTERVAL_SECONDS"),
    Setting("LAKESIS_DB_PING_IDLE_SECONDS", "10", "a pooled database connection idle this long "
            "is checked for life before use (a restart or a proxy may have closed it); 0: "
            "before every use", parse=_whole(0), key="DB_PING_IDLE_SECONDS"),
    Setting("LAKESIS_ECHO_WINDOW_SECONDS", "900", "how long after Lakesis sends a meeting's "
            "values a meeting.updated carrying those values counts as our own change echoed "
            "back (Zoom retries a webhook for a while)", parse=_whole(1),
            key="ECHO_WINDOW_SECONDS"),
)

#: What is not the environment's to choose.
FIXED: dict[str, Any] = {
    # Connections are pinged when they were idle, not at every checkout (see db_pool).
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
    # Lax blocks cross-site POSTs; the *_SECURE flags follow production (see load_config).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    # Operators keep the bookings page open all day; the token lives as long as the session.
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
}


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


def normalize_database_url(url: str, instance_path: Path) -> str:
    """Point bare PostgreSQL URLs at psycopg 3 and relative SQLite files at instance/."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith("sqlite:///instance/"):
        return f"sqlite:///{instance_path / url.removeprefix('sqlite:///instance/')}"
    return url


def _dev_secret(instance_path: Path, filename: str, make: Callable[[], str]) -> str:
    """Read, or create once with owner-only permissions, a development secret under instance/."""
    path = instance_path / filename
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def load_config(
    environ: Mapping[str, str], instance_path: Path, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the Flask config from ``environ`` (then ``overrides``), or raise ConfigError."""
    overrides = dict(overrides or {})
    env_override = overrides.pop("LAKESIS_ENV", None)  # it changes how the rest is read
    if env_override:
        environ = {**environ, "LAKESIS_ENV": env_override}
    values = _read_settings(environ)
    env = values["LAKESIS_ENV"]
    production = env == "production"
    _provide_secrets(values, env, instance_path)
    values["DATABASE_URL"] = normalize_database_url(values["DATABASE_URL"], instance_path)

    config: dict[str, Any] = {s.config_key: values[s.name] for s in SETTINGS}
    config.update(FIXED)
    # Browsers only send the cookies over HTTPS in production.
    config.update(TESTING=env == "testing", SESSION_COOKIE_SECURE=production,
                  REMEMBER_COOKIE_SECURE=production)
    config.update(overrides)
    _default_mail_server(config)
    if production:
        _refuse_sandbox_in_production(config, environ)
        _refuse_plaintext_smtp(config)
    return config


def _read_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Every setting's value by name, in table order: the environment's text or the default
    (with ``$NAME`` replaced by that earlier setting's value), parsed; None if neither."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = _env(environ, setting.name)
        if raw is None and setting.default is not None:
            raw = _REFERENCE.sub(lambda match: str(values[match[1]]), setting.default)
        values[setting.name] = None if raw is None else setting.parse(setting.name, raw)
    return values


def _provide_secrets(values: dict[str, Any], env: str, instance_path: Path) -> None:
    """Production must be given its secrets; development keeps generated ones under instance/
    (the same across restarts); testing gets throwaway ones."""
    unset = [(s, s.dev_secret) for s in SETTINGS
             if s.dev_secret is not None and values[s.name] is None]
    if env == "production" and unset:
        names = " and ".join(setting.name for setting, _ in unset)
        raise ConfigError(f"production needs {names} in the environment")
    for setting, secret in unset:
        made = (_dev_secret(instance_path, secret.filename, secret.make)
                if env == "development" else secret.make())
        values[setting.name] = setting.parse(setting.name, made)


def _default_mail_server(config: dict[str, Any]) -> None:
    """Sandbox mode sends mail to the sandbox's catcher unless told otherwise."""
    if not config.get("SMTP_URL") and config["ZOOM_MODE"] == "sandbox":
        config["SMTP_URL"] = f"smtp://127.0.0.1:{config['ZOOM_SANDBOX_SMTP_PORT']}"


def _refuse_plaintext_smtp(config: Mapping[str, Any]) -> None:
    """Customers' addresses and sign-in details cross the network only encrypted."""
    from dashboard.mail_transport import SmtpTarget

    if config.get("SMTP_URL"):
        target = SmtpTarget.from_url(config["SMTP_URL"])
        if not target.encrypted and not target.loopback:
            raise ConfigError("SMTP_URL must use smtps:// or ?starttls=1 in production "
                              "(plain SMTP only to this machine)")


def _refuse_sandbox_in_production(config: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    problems = []
    if config["ZOOM_MODE"] != "live":
        problems.append("ZOOM_MODE must be live")
    problems += [f"{s.name} is the sandbox's" for s in SETTINGS
                 if s.sandbox_default and config[s.config_key] == s.default]
    if any(_env(environ, s.name) for s in SETTINGS if s.sandbox_only):
        problems.append("ZOOM_SANDBOX_* settings are set")
    if problems:
        raise ConfigError("production refuses sandbox settings: " + "; ".join(problems))
