"""The Zoom client as a Flask extension: built once from the app's settings (live Zoom or
the sandbox), reached through ``zoom.client`` wherever an app context is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from flask import Flask, current_app

from dashboard.zoom.client import ZoomClient, ZoomEndpoints

# Only what the product needs: meetings, listing them (the lookup after a lost create
# answer, reconciliation) and reading the connected user. Never recording, chat or media.
SCOPES = (
    "meeting:read:meeting",
    "meeting:read:list_meetings",
    "meeting:write:meeting",
    "meeting:update:meeting",
    "meeting:delete:meeting",
    "user:read:user",
)
# What each granular scope is part of among Zoom's classic scopes (older app registrations).
_CLASSIC = {"meeting:read:meeting": "meeting:read", "meeting:read:list_meetings": "meeting:read",
            "meeting:write:meeting": "meeting:write", "meeting:update:meeting": "meeting:write",
            "meeting:delete:meeting": "meeting:write", "user:read:user": "user:read"}
_KEY = "lakesis.zoom"


def missing_scopes(granted: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes Lakesis needs that ``granted`` lacks (none can be told from an empty list:
    Zoom may leave ``scope`` out of a token answer)."""
    if not granted:
        return ()
    return tuple(s for s in SCOPES if s not in granted and _CLASSIC[s] not in granted)


def endpoints_from_config(config: Mapping[str, Any]) -> ZoomEndpoints:
    if config["ZOOM_MODE"] == "live":
        return ZoomEndpoints.for_zoom()
    return ZoomEndpoints.for_sandbox(config["ZOOM_SANDBOX_URL"])


def client_from_config(config: Mapping[str, Any],
                       session: requests.Session | None = None) -> ZoomClient:
    read_timeout = float(config.get("ZOOM_READ_TIMEOUT_SECONDS", 10.0))
    return ZoomClient(endpoints_from_config(config), config["ZOOM_CLIENT_ID"],
                      config["ZOOM_CLIENT_SECRET"], session=session,
                      connect_timeout=min(3.05, read_timeout), read_timeout=read_timeout)


class ZoomExtension:
    """``zoom.init_app(app)`` builds the app's one :class:`ZoomClient`."""

    def init_app(self, app: Flask, client: ZoomClient | None = None,
                 session: requests.Session | None = None) -> None:
        """``client`` replaces the one the settings describe (tests point it elsewhere);
        ``session`` is the HTTP session the described one uses (the app counts calls)."""
        app.extensions[_KEY] = client or client_from_config(app.config, session)

    @property
    def client(self) -> ZoomClient:
        """The current app's Zoom client."""
        return current_app.extensions[_KEY]

    @staticmethod
    def client_of(app: Flask) -> ZoomClient:
        """``app``'s Zoom client, without an app context (tests, benchmarks)."""
        return app.extensions[_KEY]
