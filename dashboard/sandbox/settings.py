"""Sandbox configuration: the keys it reads, their defaults and how env values are parsed."""

from __future__ import annotations

import os
from typing import Any

from flask import current_app

DEFAULT_SCOPES = (
    "meeting:read:meeting meeting:write:meeting meeting:update:meeting "
    "meeting:delete:meeting meeting:read:list_meetings user:read:user"
)

DEFAULTS: dict[str, Any] = {
    "ZOOM_CLIENT_ID": "lakesis-sandbox-client",
    "ZOOM_CLIENT_SECRET": "lakesis-sandbox-secret",
    "ZOOM_REDIRECT_URI": "http://127.0.0.1:5000/settings/integrations/zoom/callback",
    "ZOOM_WEBHOOK_SECRET_TOKEN": "lakesis-sandbox-webhook-secret",
    "ZOOM_SANDBOX_WEBHOOK_URL": "http://127.0.0.1:5000/webhooks/zoom",
    "ZOOM_SANDBOX_DATABASE_URL": None,  # None: sqlite file under the app's instance folder
    "ZOOM_SANDBOX_ACCESS_TOKEN_TTL": 3600,
    # Zoom's refresh-token lifetime is unconfirmed (90 days or 15 years); 90 days is the
    # stricter of the two, so a client that copes with it copes with both.
    "ZOOM_SANDBOX_REFRESH_TOKEN_TTL": 90 * 24 * 3600,
    "ZOOM_SANDBOX_APP_NAME": "Lakesis",
    "ZOOM_SANDBOX_WEBHOOKS_SYNC": False,
    "ZOOM_SANDBOX_QPS_LIGHT": 30,
    "ZOOM_SANDBOX_QPS_MEDIUM": 20,
    "ZOOM_SANDBOX_DAILY_MEETING_LIMIT": 100,
    "ZOOM_SANDBOX_SMTP_PORT": 8025,
}

_TRUE = {"1", "true", "yes", "on"}


def _parse(default: Any, raw: str) -> Any:
    """Convert an environment string to the type of the key's default."""
    if isinstance(default, bool):
        return raw.strip().lower() in _TRUE
    if isinstance(default, int):
        return int(raw)
    return raw


def from_environ(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the sandbox keys present in the environment, converted to their types."""
    environ = dict(os.environ) if environ is None else environ
    return {
        key: _parse(default, environ[key])
        for key, default in DEFAULTS.items()
        if key in environ and environ[key] != ""
    }


def setting(name: str) -> Any:
    """Read one sandbox setting from the current app's config, falling back to its default.

    Read per request (not cached) so tests and operators can change limits on a live app.
    """
    value = current_app.config.get(name)
    return DEFAULTS[name] if value is None else value
