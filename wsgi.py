"""WSGI entry point: ``gunicorn wsgi:app`` in production, ``flask run`` in development."""

from dashboard import create_app

app = create_app()
