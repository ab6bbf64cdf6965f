"""The ``integrations`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("integrations", __name__, url_prefix="/settings/integrations")
