"""What a sandbox meeting's join (``/j/<id>``) and start (``/s/<id>``) links open: a page
saying which meeting it is, when, and its state. No call happens: this is not Zoom."""

from __future__ import annotations

from flask import abort, render_template

from . import meeting_store
from .blueprint import bp
from .storage import transaction


@bp.get("/j/<meeting_id>")
@bp.get("/s/<meeting_id>")
def meeting_page(meeting_id: str) -> str:
    # Meeting numbers have 11 digits: more than a host app's bounded <int:> converter takes.
    if not (meeting_id.isascii() and meeting_id.isdigit() and len(meeting_id) <= 12):
        abort(404)
    with transaction() as conn:
        row = meeting_store.get(conn, int(meeting_id))
    if row is None:
        abort(404)
    meeting = meeting_store.present(row)
    return render_template("sandbox/join.html", meeting=meeting,
                           deleted=row.deleted_at is not None)
