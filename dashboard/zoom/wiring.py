"""Build the Zoom client from the app's settings: live Zoom or the sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.zoom.client import ZoomClient, ZoomEndpoints

# Only what the product needs: meetings and reading the connected user. Never recording,
# chat or meeting media.
SCOPES = (
    "meeting:read:meeting",
    "meeting:write:meeting",
    "meeting:update:meeting",
    "meeting:delete:meeting",
    "user:read:user",
)


def endpoints_from_config(config: Mapping[str, Any]) -> ZoomEndpoints:
    if config["ZOOM_MODE"] == "live":
        return ZoomEndpoints.for_zoom()
    return ZoomEndpoints.for_sandbox(config["ZOOM_SANDBOX_URL"])


def client_from_config(config: Mapping[str, Any]) -> ZoomClient:
    return ZoomClient(
        endpoints_from_config(config), config["ZOOM_CLIENT_ID"], config["ZOOM_CLIENT_SECRET"]
    )
