"""The workspace overview and switching between workspaces."""

from flask import Blueprint

bp = Blueprint("workspaces", __name__)

from dashboard.workspaces import routes  # noqa: E402,F401
