"""Bookings: the operators' live table, a booking's page, and the fixes for one booking."""

from flask import Blueprint

bp = Blueprint("bookings", __name__, url_prefix="/bookings")

from dashboard.bookings import routes  # noqa: E402,F401
