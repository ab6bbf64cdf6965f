"""Settings > Members: who is in the workspace, in which role."""

from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/settings/members")

from dashboard.members import routes  # noqa: E402,F401
