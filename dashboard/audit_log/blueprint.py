"""The ``audit_log`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("audit_log", __name__, url_prefix="/audit")
