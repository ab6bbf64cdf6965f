"""Who is calling the API: the API key in `Authorization: Bearer`, which decides the workspace."""

from __future__ import annotations

from flask import Response, current_app, g, request

from dashboard.errors import error_response
from dashboard.models import Workspace
from dashboard.services import api_keys
from dashboard.services.audit import Actor

MAX_SECRET_LENGTH = 200  # real keys are ~60 characters; longer is not worth hashing


def bearer_secret(header: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer <secret>`` header, or None."""
    scheme, _, secret = (header or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or " " in secret:
        return None
    if len(secret) > MAX_SECRET_LENGTH:
        return None
    return secret


def authenticate_request() -> Response | None:
    """Before each API request: note the caller's workspace and actor, or answer 401.

    Only a view marked ``@public`` (the API's description) is let through without a key;
    every other address of the blueprint, known or not, needs one.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "access", None) == "public":
        return None
    secret = bearer_secret(request.headers.get("Authorization"))
    key = api_keys.authenticate(secret) if secret else None
    if key is None:
        # One answer for missing, malformed, unknown and revoked keys: nothing to probe.
        response = error_response(
            401, "Send a valid API key: Authorization: Bearer <key>.")
        challenge = 'Bearer realm="api"'
        if secret:
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
        return response
    g.api_workspace = api_keys.workspace_of(key)
    g.api_actor = Actor.of_api_key(key)
    return None


def api_workspace() -> Workspace:
    """The calling key's workspace (only inside an authenticated API view)."""
    return g.api_workspace


def api_actor() -> Actor:
    """The calling key, as the actor recorded in the audit trail and on operations."""
    return g.api_actor
