"""The sandbox's own home page: users, grants, meetings, and switches for people.

Forms post to small HTML endpoints that call the same functions as ``/_control`` and
redirect back (no JavaScript needed).
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for

from . import clock, control, directory, faults, grants, meeting_store
from .blueprint import bp
from .settings import setting
from .storage import transaction

_CLOCK_STEPS = (("+5 minutes", 300), ("+1 hour", 3600), ("+1 day", 86400))


def _back(message: str = "") -> Response:
    return redirect(url_for(".console", message=message) if message else url_for(".console"))


@bp.get("/")
def console() -> str:
    """Overview of the sandbox and its switches."""
    with transaction() as conn:
        now_ts = clock.now_ts(conn)
        users = directory.all_users(conn)
        emails = {user["id"]: user["email"] for user in users}
        grant_rows = grants.all_grants(conn)
        meetings = meeting_store.all_meetings(conn)
    for grant in grant_rows:
        if grant["revoked_at"] is not None:
            grant["status"] = "revoked"
        elif grant["refresh_expires_at"] <= now_ts:
            grant["status"] = "expired"
        else:
            grant["status"] = "live"
        grant["email"] = emails.get(grant["user_id"], grant["user_id"])
        grant["created"] = clock.iso(grant["created_at"])
    return render_template(
        "sandbox/console.html",
        state=control.snapshot(),
        users=users,
        grants=grant_rows,
        meetings=meetings,
        endpoints=faults.ENDPOINTS,
        modes=faults.MODES,
        clock_steps=_CLOCK_STEPS,
        webhook_url=setting("ZOOM_SANDBOX_WEBHOOK_URL"),
        message=request.args.get("message", ""),
    )


@bp.post("/console/faults")
def console_arm_fault() -> Response:
    """Arm a fault from the console form."""
    try:
        fault = control.arm_fault(request.form.to_dict())
    except control.ControlError as exc:
        return _back(f"Fault not armed: {exc}")
    return _back(f"Armed {fault.mode} on {fault.endpoint}.")


@bp.post("/console/faults/clear")
def console_clear_faults() -> Response:
    """Disarm every fault."""
    control.clear_faults()
    return _back("All faults cleared.")


@bp.post("/console/clock")
def console_clock() -> Response:
    """Move the clock by a preset step, or reset it."""
    if request.form.get("reset"):
        result: dict[str, Any] = control.move_clock(reset=True)
    else:
        try:
            result = control.move_clock(float(request.form.get("advance_seconds", "0")))
        except ValueError:
            return _back("The clock step must be a number of seconds.")
    return _back(f"Sandbox time is now {result['now']}.")


@bp.post("/console/reset")
def console_reset() -> Response:
    """Wipe grants, meetings, faults and counters."""
    control.reset_all()
    return _back("Sandbox reset: grants, meetings, faults and counters wiped.")


@bp.post("/console/meetings/<int:meeting_id>/<any(start, end):action>")
def console_meeting(meeting_id: int, action: str) -> Response:
    """Start or end a meeting from the console."""
    try:
        control.change_meeting_status(meeting_id, action)
    except control.ControlError as exc:
        return _back(str(exc))
    return _back(f"Meeting {meeting_id} {'started' if action == 'start' else 'ended'}.")
