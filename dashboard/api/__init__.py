"""The JSON API for the Lakesis booking workflow (`/api/v1`, Bearer API key)."""

# Importing the route module attaches its views to ``bp``.
from dashboard.api import event_routes, invitation_routes, routes  # noqa: F401
from dashboard.api.blueprint import bp

__all__ = ["bp"]
