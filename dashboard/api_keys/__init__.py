"""Settings > API keys: the keys the Lakesis booking workflow calls the API with."""

# Importing the route modules attaches their views to ``bp``.
from dashboard.api_keys import routes  # noqa: F401
from dashboard.api_keys.blueprint import bp

__all__ = ["bp"]
