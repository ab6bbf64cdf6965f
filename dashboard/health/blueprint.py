"""The ``health`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("health", __name__, url_prefix="/health")
