"""Sync health: what failed, when, why, and what is waiting."""

from flask import Blueprint

bp = Blueprint("health", __name__, url_prefix="/health")

from dashboard.health import routes  # noqa: E402,F401
