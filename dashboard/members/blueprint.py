"""The ``members`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/settings/members")
