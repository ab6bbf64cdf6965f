"""The workspace overview and switching between workspaces."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.workspaces import routes  # noqa: F401
from dashboard.workspaces.blueprint import bp

__all__ = ["bp"]
