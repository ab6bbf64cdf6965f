"""Whole pages kept per process while their workspace's data stands (the bookings table).

A kept page is shown again only when nothing it was made from has changed: the same
address and htmx target, the same person with the same memberships, the same workspace
settings and day, and the same workspace data version (``models.workspace_change``: the
database's triggers change it with every write to what the table shows, so no writer can
forget). The version comes with the memberships, the first read of every request, so a
page is never older than the version it is kept under. Everything else still runs per
request: the session, the membership and role checks, the CSRF token.

Per-request strings in a kept page (the CSRF token, "updated at") are put back fresh each
time. Pages with messages to show (flashes), answers other than 200 and pages whose
content depends on the clock are never kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from dashboard.access import my_memberships
from dashboard.htmx import is_htmx
from dashboard.models import Workspace

KEPT = 256  # pages (about 40 KB each); full, it starts again


@dataclass(frozen=True)
class _Kept:
    body: str  # with a mark where each per-request string goes
    fresh: tuple[Callable[[], str], ...]  # what fills each mark, in order
    vary: str | None


def _mark(index: int) -> str:
    return f"\x00lakesis-page-mark-{index}\x00"


def per_request(value: str, fresh: Callable[[], str]) -> str:
    """Say that ``value``, in the page being made, is this request's own (a time): a kept
    copy shows ``fresh()`` in its place. Returns ``value``."""
    g.setdefault("page_marks", []).append((value, fresh))
    return value


def _store() -> dict[tuple, _Kept]:
    return current_app.extensions.setdefault("kept_pages", {})


def _key(workspace: Workspace, version: int, extra: Hashable) -> tuple:
    user = current_user
    return (request.full_path, is_htmx(), request.headers.get("HX-Target"), version,
            workspace.id, workspace.name, workspace.timezone, user.id, user.name, user.email,
            tuple((m.workspace_id, m.role, m.workspace.name) for m in my_memberships()), extra)


def kept_or_made(workspace: Workspace, make: Callable[[], Response], *,
                 extra: Hashable = None) -> Response:
    """The page ``make`` answers, from the kept copy while nothing it shows has changed.
    ``extra``: whatever else the page depends on (today's date, say)."""
    if not current_app.config["PAGE_CACHE"] or session.get("_flashes"):
        return make()
    # Read with the memberships, before anything of the page: the page is as new or newer.
    version = workspace.data_version
    if version is None:
        return make()
    key = _key(workspace, version, extra)
    token = generate_csrf()
    kept = _store().get(key)
    if kept is not None:
        body = kept.body.replace(_mark(0), token)
        for index, fresh in enumerate(kept.fresh, start=1):
            body = body.replace(_mark(index), fresh())
        response = make_response(body)
        if kept.vary:
            response.headers["Vary"] = kept.vary
        return response
    response = make()
    if response.status_code == 200 and not session.get("_flashes"):
        _keep(key, response, token)
    return response


def _keep(key: tuple, response: Response, token: str) -> None:
    body = response.get_data(as_text=True).replace(token, _mark(0))
    marks = g.get("page_marks", [])
    for index, (value, _) in enumerate(marks, start=1):
        body = body.replace(value, _mark(index))
    store = _store()
    if len(store) >= KEPT:
        store.clear()
    store[key] = _Kept(body, tuple(fresh for _, fresh in marks), response.headers.get("Vary"))
