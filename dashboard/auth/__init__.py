"""Signing in and out, your account and its sessions, accepting invitations."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.auth import account, invitations, routes  # noqa: F401
from dashboard.auth.blueprint import bp

__all__ = ["bp"]
