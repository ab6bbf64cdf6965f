"""Bulk Retry / Re-sync / Cancel of the bookings ticked in the table.

The table's bulk bar posts the ticked ids here: first the confirmation (what each booking
will have done, which are skipped and why, the cost to each host's daily Zoom cap), whose
form then starts the job (``services.bulk_jobs``) and comes back to the bookings page with
its progress bar.
"""

from __future__ import annotations

from flask import make_response, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import current_workspace, requires
from dashboard.bookings.blueprint import bp
from dashboard.errors import error_response
from dashboard.htmx import redirect_to
from dashboard.models import BulkJob, BulkJobKind, Permission
from dashboard.services import ServiceError, bulk_jobs

KINDS = {"retry": BulkJobKind.RETRY_SELECTED, "resync": BulkJobKind.RESYNC_SELECTED,
         "cancel": BulkJobKind.CANCEL_SELECTED}


class BadSelection(Exception):
    """The form's action or ids cannot be read; ``status`` and ``message`` say why."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _kind() -> BulkJobKind:
    kind = KINDS.get(request.form.get("action", ""))
    if kind is None:
        raise BadSelection("Choose Retry, Re-sync or Cancel for the selected bookings.")
    return kind


def _ids() -> list[int]:
    """The ticked booking ids as numbers (how many may be ticked is the service's rule:
    ``bulk_selection.choose``)."""
    raw = request.form.getlist("id")
    if not all(value.isdigit() and 0 < int(value) < 2**31 for value in raw):
        raise BadSelection("The selected bookings must be booking numbers.", 400)
    return list(dict.fromkeys(int(value) for value in raw))


def _confirm_page(kind: BulkJobKind, ids: list[int], status: int = 200,
                  error: str | None = None) -> Response:
    plan = bulk_jobs.plan(current_workspace(), kind, selected=ids)
    back = url_for("bookings.index")
    body = render_template(
        "pages/bulk_confirm.html", plan=plan, kind=kind, error=error,
        title=bulk_jobs.TITLES[kind], limit=bulk_jobs.MAX_BOOKINGS,
        start_url=url_for("bookings.bulk_start"), back_url=back, back_label="Back to bookings",
        hidden={"action": request.form["action"], "id": ids})
    return make_response(body, status)


@bp.route("/bulk", methods=["POST"])
@requires(Permission.OPERATE)
def bulk_confirm() -> Response:
    """What Retry / Re-sync / Cancel of the ticked bookings would do, before it is confirmed.
    A POST (the bar's form carries the CSRF token its rows' buttons share), changing nothing."""
    try:
        return _confirm_page(_kind(), _ids())
    except BadSelection as bad:
        return error_response(bad.status, bad.message, "ids")
    except ServiceError as error:  # none ticked, or more than a job takes
        return error_response(error.status, error.message, error.field)


@bp.route("/bulk/start", methods=["POST"])
@requires(Permission.OPERATE)
def bulk_start() -> Response:
    try:
        kind, ids = _kind(), _ids()
    except BadSelection as bad:
        return error_response(bad.status, bad.message, "ids")
    try:
        job = bulk_jobs.start(current_workspace(), current_user, kind,
                              request.form.get("plan", ""), selected=ids)
    except ServiceError as error:
        if error.field == "ids":  # none ticked, or more than a job takes
            return error_response(error.status, error.message, error.field)
        return _confirm_page(kind, ids, error.status, error.message)
    return redirect_to(url_for("bookings.index", job=job.id) + f"#bulk-job-{job.id}")


def shown_jobs(workspace_id: int) -> list[BulkJob]:
    """The bars the bookings page shows: its running bulk jobs, and the one just started
    (``?job=``) even once it is over, so a quick job's end is seen too."""
    also = request.args.get("job", "")
    return bulk_jobs.unfinished(workspace_id, bulk_jobs.SELECTED,
                                int(also) if also.isdigit() and int(also) < 2**31 else None)

