"""Who is asking, in which workspace, and whether they may: checked on the server per route.

Every view declares who may use it: ``requires(permission)`` for workspace members,
``signed_in`` for any signed-in user, ``requires_api_key`` for the booking API (its
blueprint authenticates the key) and ``public`` for anyone. The route matrix test walks
``app.url_map`` and fails on any view that declares none. Zoom's webhooks are no view:
``webhooks.receiver`` answers them ahead of the app and checks Zoom's signature itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, session
from flask_login import current_user

from dashboard.extensions import login_manager
from dashboard.models import Membership, Permission, Workspace
from dashboard.services.accounts import memberships_of

F = TypeVar("F", bound=Callable[..., Any])
SESSION_WORKSPACE = "workspace_id"
API_KEY = "api_key"


def my_memberships() -> list[Membership]:
    """The signed-in user's memberships, read once per request (the nav and the role check
    both need them)."""
    if "memberships" not in g:
        g.memberships = memberships_of(current_user) if current_user.is_authenticated else []
    return g.memberships


def current_membership() -> Membership | None:
    """The signed-in user's membership of the workspace they are working in (cached per request).

    The workspace id in the session is only a preference: it is re-checked against the
    memberships on every request, so a removed member loses access at once.
    """
    if "membership" in g:
        return g.membership
    membership = None
    if current_user.is_authenticated:
        wanted = session.get(SESSION_WORKSPACE)
        memberships = my_memberships()
        membership = next((m for m in memberships if m.workspace_id == wanted), None)
        if membership is None and memberships:
            membership = memberships[0]
            session[SESSION_WORKSPACE] = membership.workspace_id
    g.membership = membership
    return membership


def current_workspace() -> Workspace:
    """The workspace of the request; only valid inside a ``requires`` view."""
    membership = current_membership()
    if membership is None:
        abort(403)
    return membership.workspace


def requires(permission: Permission) -> Callable[[F], F]:
    """Let the view run only for a signed-in member of the current workspace who may do it."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            membership = current_membership()
            if membership is None:
                abort(403, "You are not a member of any workspace yet. "
                           "Ask a workspace admin to add you.")
            if not membership.can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view that anyone may reach (the sign-in page, the API's description)."""
    view.access = "public"  # type: ignore[attr-defined]
    return view


def requires_api_key(view: F) -> F:
    """Mark a booking API view: the caller presents a workspace's API key.

    Only a marker: the API blueprint's ``before_request`` (``api.key_auth``) checks the key
    before any of its views runs, and answers 401 for a missing, unknown or revoked one.
    """
    view.access = API_KEY  # type: ignore[attr-defined]
    return view


def signed_in(view: F) -> F:
    """A view for any signed-in user, whatever their workspace (sign-out, switching)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.access = "signed_in"  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]
