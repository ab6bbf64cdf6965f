"""Zoom's signed webhooks into Lakesis."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from dashboard.webhooks import routes  # noqa: E402,F401
