"""Signing in and out."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.auth import routes  # noqa: F401
from dashboard.auth.blueprint import bp

__all__ = ["bp"]
