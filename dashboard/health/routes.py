"""The sync health page: support's first stop when a meeting did not turn up, kept open.

``GET /health`` is the page; htmx polling it (every 10 s) gets just the live panels, with
the same window, webhook filter and page, because it asks for the page's own address.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import current_membership, current_workspace, requires
from dashboard.health import reconcile
from dashboard.health.blueprint import bp
from dashboard.htmx import fragment, is_htmx, redirect_to
from dashboard.models import BulkJobKind, Permission, ZoomConnection
from dashboard.services import ServiceError, bulk_jobs, error_causes, sync_health
from dashboard.services.sync_windows import DEFAULT_WINDOW, WINDOWS, window_of
from dashboard.services.webhook_health import OUTCOMES

View = Callable[..., Response]
PANELS = "partials/health_panels.html"
JOB = "partials/bulk_job.html"
KINDS = {"retry-failed": BulkJobKind.RETRY_FAILED, "resync-upcoming": BulkJobKind.RESYNC_UPCOMING}


def _filters() -> tuple[dict[str, object], list[str]]:
    """The page's query parameters, read; and a message per one not understood (the page
    then shows the defaults and says which parameter it ignored)."""
    errors = []
    window = window_of(request.args.get("window"))
    if window is None:
        errors.append("window: choose the last hour (1h), 24 hours (24h) or 7 days (7d).")
        window = DEFAULT_WINDOW
    outcome = request.args.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        errors.append(f"outcome: choose one of {', '.join(OUTCOMES)}.")
        outcome = None
    before = request.args.get("before") or None
    if before is not None:
        if not before.isdigit() or not 0 < int(before) < 2**31:
            errors.append("before: must be an event number from the Older link.")
            before = None
        else:
            before = int(before)
    return {"window": window, "outcome": outcome, "before": before}, errors


def _context(**extra: object) -> dict[str, object]:
    workspace = current_workspace()
    filters, errors = _filters()
    health = sync_health.summary(workspace, filters["window"], outcome=filters["outcome"],
                                 before=filters["before"])
    membership = current_membership()
    return {"health": health, "connection_cause": _connection_cause(health.connection),
            "zone": workspace.timezone, "windows": WINDOWS.values(),
            "outcomes": OUTCOMES, "filter_errors": errors,
            "may_operate": membership.can(Permission.OPERATE),
            "may_connect": membership.can(Permission.MANAGE_INTEGRATIONS),
            "jobs": bulk_jobs.recent(workspace.id), "job_titles": bulk_jobs.TITLES,
            "live_url": request.full_path.rstrip("?"), **reconcile.panel_context(), **extra}


def _connection_cause(connection: ZoomConnection | None) -> error_causes.Cause | None:
    """The connection's last error in plain words, when its words name a known cause."""
    if connection is None or not connection.last_error:
        return None
    cause = error_causes.explain(None, None, connection.last_error)
    return None if cause is error_causes.UNKNOWN else cause


@bp.route("")
@requires(Permission.VIEW)
def index() -> Response:
    context = _context()
    status = 422 if context["filter_errors"] else 200
    if is_htmx():
        return fragment(PANELS, status=status, **context)
    return make_response(render_template("pages/sync_health.html", **context), status)


def _kind(action: str) -> BulkJobKind:
    kind = KINDS.get(action)
    if kind is None:
        abort(404)
    return kind


def _confirm_page(kind: BulkJobKind, status: int = 200, error: str | None = None) -> Response:
    workspace = current_workspace()
    plan = bulk_jobs.plan(workspace, kind)
    body = render_template("pages/bulk_confirm.html", plan=plan, kind=kind, error=error,
                           title=bulk_jobs.TITLES[kind], limit=bulk_jobs.MAX_BOOKINGS,
                           start_url=url_for("health.bulk_start",
                                             action=request.view_args["action"]),
                           back_url=url_for("health.index"), back_label="Back to sync health")
    return make_response(body, status)


def _bulk_routes(methods: list[str]) -> Callable[[View], View]:
    """One address per action (no URL argument: there is no record behind it to find)."""
    def decorator(view: View) -> View:
        for action in KINDS:
            view = bp.route(f"/bulk/{action}", methods=methods, defaults={"action": action},
                            endpoint=view.__name__)(view)
        return view
    return decorator


@_bulk_routes(["GET"])
@requires(Permission.OPERATE)
def bulk_confirm(action: str) -> Response:
    """What the bulk action would do, and what it costs each host, before it is confirmed."""
    return _confirm_page(_kind(action))


@_bulk_routes(["POST"])
@requires(Permission.OPERATE)
def bulk_start(action: str) -> Response:
    kind = _kind(action)
    token = request.form.get("plan", "")
    try:
        job = bulk_jobs.start(current_workspace(), current_user, kind, token)
    except ServiceError as error:
        return _confirm_page(kind, error.status, error.message)
    return redirect_to(url_for("health.index") + f"#bulk-job-{job.id}")


@bp.route("/jobs/<int:job_id>")
@requires(Permission.VIEW)
def job(job_id: int) -> Response:
    """One job's progress: what its progress bar polls while it runs."""
    found = bulk_jobs.get(current_workspace().id, job_id)
    if found is None:
        abort(404)
    if not is_htmx():
        return redirect(url_for("health.index") + f"#bulk-job-{job_id}")
    return fragment(JOB, job=found, job_titles=bulk_jobs.TITLES,
                    zone=current_workspace().timezone)
