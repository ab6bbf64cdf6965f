"""Bookings: the operators' live table, a booking's page, and the fixes for one booking.

``routes`` (reading) and ``actions`` (the fixes) attach their views to ``bp``; what they
share is in ``rendering``, so neither imports the other.
"""

# Importing the route modules attaches their views to ``bp``.
from dashboard.bookings import actions, bulk, downloads, routes  # noqa: F401
from dashboard.bookings.blueprint import bp

__all__ = ["bp"]
