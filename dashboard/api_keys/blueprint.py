"""The ``api_keys`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("api_keys", __name__, url_prefix="/settings/api-keys")
