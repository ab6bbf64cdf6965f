"""Sync health: what failed, when, why, and what is waiting."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.health import display, reconcile, routes  # noqa: F401
from dashboard.health.blueprint import bp

__all__ = ["bp"]
