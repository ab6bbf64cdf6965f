"""The ``auth`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
