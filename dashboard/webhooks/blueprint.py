"""The ``webhooks`` blueprint, which its route module attaches its views to."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
