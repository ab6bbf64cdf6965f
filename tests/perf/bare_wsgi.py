"""The baseline of the page benchmark: one bare Flask route, served like the dashboard.

``gunicorn tests.perf.bare_wsgi:app`` with the same worker count as ``wsgi:app``; what is
left between the two is the dashboard's own cost (sessions, sign-in, queries, templates).
"""

from flask import Flask

app = Flask(__name__)
_PAGE = "<!doctype html><title>bare</title><p>" + "x" * 2000 + "</p>"


@app.get("/")
def bare() -> str:
    return _PAGE
