"""The ``bookings`` blueprint, which its route modules attach their views to."""

from flask import Blueprint

bp = Blueprint("bookings", __name__, url_prefix="/bookings")
