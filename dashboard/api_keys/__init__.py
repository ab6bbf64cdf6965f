"""Settings > API keys: the keys the Lakesis booking workflow calls the API with."""

from flask import Blueprint

bp = Blueprint("api_keys", __name__, url_prefix="/settings/api-keys")

from dashboard.api_keys import routes  # noqa: E402,F401
