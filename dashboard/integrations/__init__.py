"""Settings > Integrations: connect, see and disconnect the workspace's Zoom account, and the
meeting defaults Lakesis sets up each Zoom meeting with."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.integrations import defaults_routes, mail_routes, routes  # noqa: F401
from dashboard.integrations.blueprint import bp

__all__ = ["bp"]
