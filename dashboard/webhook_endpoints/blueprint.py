"""The ``webhook_endpoints`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("webhook_endpoints", __name__, url_prefix="/settings/webhooks")
