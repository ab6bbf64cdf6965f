"""The app's registration in the (imaginary) Marketplace: the scopes it was given.

A user-managed Zoom app takes its scopes from its registration, not from the authorize
URL: the consent page lists them and every grant gets them. A tester can change them
(console, ``/_control/app``) to see what a missing scope does (4711 on the calls that
need it); grants made earlier keep the scopes they were given, as at Zoom.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from .grants import ALLOWED_SCOPES
from .settings import DEFAULT_SCOPES
from .storage import get_state, set_state

_KEY = "app_scopes"


class RegistrationError(ValueError):
    """Scopes an app registration cannot hold."""


def app_scopes(conn: Connection) -> list[str]:
    """The registered scopes, in registration order."""
    return (get_state(conn, _KEY) or DEFAULT_SCOPES).split()


def set_app_scopes(conn: Connection, scopes: list[str] | str) -> list[str]:
    """Replace the registered scopes; refuse none, or any outside what the app may hold."""
    wanted = scopes.replace(",", " ").split() if isinstance(scopes, str) else list(scopes)
    wanted = list(dict.fromkeys(s.strip() for s in wanted if s.strip()))
    if not wanted:
        raise RegistrationError("an app registration needs at least one scope")
    unknown = [s for s in wanted if s not in ALLOWED_SCOPES]
    if unknown:
        raise RegistrationError(f"scopes this app cannot hold: {', '.join(unknown)}")
    set_state(conn, _KEY, " ".join(wanted))
    return wanted


def selectable_scopes() -> list[str]:
    """Every scope the console offers, the default ones first."""
    defaults = DEFAULT_SCOPES.split()
    return defaults + sorted(ALLOWED_SCOPES - set(defaults))
