"""The JSON API for the Lakesis booking workflow (`/api/v1`, Bearer API key)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from dashboard.api import routes  # noqa: E402,F401
