"""The ``api`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

from dashboard.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Callers present a Bearer key, never a cookie, so there is no session for CSRF to ride on.
csrf.exempt(bp)
