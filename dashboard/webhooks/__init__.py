"""Zoom's signed webhooks into Lakesis: ``receiver`` serves them ahead of the app's views;
the blueprint holds no view, only the prefix under which any other address answers JSON."""

from dashboard.webhooks.blueprint import bp
from dashboard.webhooks.receiver import mount

__all__ = ["bp", "mount"]
