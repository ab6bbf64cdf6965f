"""The JSON API for the Lakesis booking workflow (`/api/v1`, Bearer API key)."""

from flask import Blueprint

from dashboard.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Callers present a Bearer key, never a cookie, so there is no session for CSRF to ride on.
csrf.exempt(bp)

from dashboard.api import routes  # noqa: E402,F401
