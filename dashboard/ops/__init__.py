"""Liveness, readiness and metrics for the people who run the service."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.ops import routes  # noqa: F401
from dashboard.ops.blueprint import bp

__all__ = ["bp"]
