"""Settings > Integrations: connect, see and disconnect the workspace's Zoom account."""

from flask import Blueprint

bp = Blueprint("integrations", __name__, url_prefix="/settings/integrations")

from dashboard.integrations import routes  # noqa: E402,F401
