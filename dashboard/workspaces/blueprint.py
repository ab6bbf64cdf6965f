"""The ``workspaces`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("workspaces", __name__)
