"""Settings > Webhooks: where the workspace's events are delivered, signed."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.webhook_endpoints import routes  # noqa: F401
from dashboard.webhook_endpoints.blueprint import bp

__all__ = ["bp"]
