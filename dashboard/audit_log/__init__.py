"""The audit log: every change, who made it, when."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.audit_log import routes  # noqa: F401
from dashboard.audit_log.blueprint import bp

__all__ = ["bp"]
