"""The audit log: every change, who made it, when."""

from flask import Blueprint

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

from dashboard.audit_log import routes  # noqa: E402,F401
