"""The bookings page's baseline: a minimal hand-written keyset table, served like the dashboard.

``gunicorn tests.perf.keyset_wsgi:app`` on the bench database (``DATABASE_URL``): 50 rows of
the bench workspace in start order from today, one SQLAlchemy Core query, one Jinja template,
a "Next page" cursor, the same ``q`` and ``status`` filters, ``q`` read through the search
index the schema has (FTS5 on SQLite, the trigram index on PostgreSQL: a baseline that
scans would flatter any page that does not). No sign-in, no sessions, no CSRF, no live
status: what is left between this and ``/bookings`` is what the dashboard adds.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, request
from sqlalchemy import and_, create_engine, literal, or_, select

from dashboard.config import normalize_database_url
from dashboard.models import Booking, Meeting, Workspace, booking_search

app = Flask(__name__)
_engine = create_engine(normalize_database_url(os.environ["DATABASE_URL"], Path("instance")),
                        pool_pre_ping=False)
_COLUMNS = (Booking.id, Booking.title, Booking.external_ref, Booking.start_at,
            Booking.duration_minutes, Booking.customer_name, Booking.customer_email,
            Meeting.status, Meeting.join_url)
_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bookings</title></head>
<body><h1>Bookings</h1><table><thead><tr><th>When</th><th>Booking</th><th>Customer</th>
<th>Status</th><th>Join</th></tr></thead><tbody>
{%- for r in rows %}
<tr><td>{{ r.start_at.strftime("%a %d %b %Y %H:%M") }} · {{ r.duration_minutes }} min</td>
<td><a href="/bookings/{{ r.id }}">{{ r.title }}</a><br><small>{{ r.external_ref }}</small></td>
<td>{{ r.customer_name }}<br><small>{{ r.customer_email }}</small></td>
<td>{{ r.status }}</td>
<td>{% if r.join_url %}<a href="{{ r.join_url }}">Join</a>{% endif %}</td></tr>
{%- endfor %}
</tbody></table>
{% if next %}<a href="?{{ next }}">Next page</a>{% endif %}</body></html>"""


# Compiled once, as render_template does with a template file: render_template_string would
# compile the page again on every request (1.7 ms, half of this baseline's own time).
_TEMPLATE = app.jinja_env.from_string(_PAGE)


def _workspace_id() -> int:
    with _engine.connect() as connection:
        return connection.scalar(select(Workspace.id).where(Workspace.slug == "bench"))


_WORKSPACE = _workspace_id()


@app.get("/bookings")
def bookings() -> str:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    query = (select(*_COLUMNS).join(Meeting, Meeting.booking_id == Booking.id)
             .where(Booking.workspace_id == _WORKSPACE, Booking.start_at >= today))
    if status := request.args.get("status"):
        query = query.where(Meeting.status == status)
    if term := request.args.get("q"):  # the bench's terms: letters only, 3 or more
        query = query.where(booking_search.fts_match(Booking.id, term)
                            if _engine.dialect.name == "sqlite" else
                            booking_search.search_text(Booking.__table__).ilike(
                                literal(f"%{term}%", literal_execute=True)))
    if cursor := request.args.get("cursor"):
        stamp, raw_id = cursor.split("_")
        start = datetime.fromtimestamp(int(stamp), UTC)
        query = query.where(Booking.start_at >= start, or_(
            Booking.start_at > start, and_(Booking.start_at == start, Booking.id > int(raw_id))))
    with _engine.connect() as connection:
        rows = connection.execute(query.order_by(Booking.start_at, Booking.id).limit(51)).all()
    more, rows = len(rows) > 50, rows[:50]
    following = None
    if more:
        last = rows[-1]
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        args["cursor"] = f"{last.start_at.timestamp():.0f}_{last.id}"
        following = "&".join(f"{k}={v}" for k, v in args.items())
    return _TEMPLATE.render(rows=rows, next=following)
