"""Zoom's signed webhooks into Lakesis."""

# Importing the route module attaches its views to ``bp``.
from dashboard.webhooks import routes  # noqa: F401
from dashboard.webhooks.blueprint import bp

__all__ = ["bp"]
