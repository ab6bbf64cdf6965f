"""Settings > Members: who is in the workspace, in which role."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.members import routes  # noqa: F401
from dashboard.members.blueprint import bp

__all__ = ["bp"]
