"""The sandbox's own home page: users, grants, meetings, and switches for people.

Forms post to small HTML endpoints that call the same functions as ``/_control`` and
redirect back (no JavaScript needed).
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for

from . import clock, control, directory, faults, grants, meeting_store, registration, url_validation
from .blueprint import bp
from .settings import setting
from .storage import transaction

_REVOCATION_LABELS = {
    "superseded": "superseded by a newer authorization (4741)",
    "revoked": "revoked through /oauth/revoke (app uninstalled)",
    "removed": "app removed in the Marketplace",
}
_CLOCK_STEPS = (("+5 minutes", 300), ("+1 hour", 3600), ("+1 day", 86400))


def _back(message: str = "") -> Response:
    return redirect(url_for(".console", message=message) if message else url_for(".console"))


@bp.get("/")
def console() -> str:
    """Overview of the sandbox and its switches (sends a URL validation if one is due)."""
    url_validation.run_if_due()
    with transaction() as conn:
        now_ts = clock.now_ts(conn)
        users = directory.all_users(conn)
        emails = {user["id"]: user["email"] for user in users}
        grant_rows = grants.all_grants(conn)
        reasons = {g["id"]: grants.revocation_reason(conn, g["id"]) for g in grant_rows}
        meetings = meeting_store.all_meetings(conn)
        app_scopes = registration.app_scopes(conn)
        privileges = directory.scheduling_privileges(conn)
    for grant in grant_rows:
        if grant["revoked_at"] is not None:
            reason = _REVOCATION_LABELS.get(reasons.get(grant["id"]) or "", "")
            grant["status"] = f"revoked: {reason}" if reason else "revoked"
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
        app_scopes=app_scopes,
        selectable_scopes=registration.selectable_scopes(),
        privileges=[(emails.get(s, s), emails.get(h, h), s, h) for s, h in privileges],
        validations=url_validation.history(),
        validation_next_due=url_validation.next_due(),
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


@bp.post("/console/meetings/<int(max=9223372036854775807):meeting_id>"
         "/<any(start, end):action>")  # Zoom meeting ids are 64-bit
def console_meeting(meeting_id: int, action: str) -> Response:
    """Start or end a meeting from the console."""
    try:
        control.change_meeting_status(meeting_id, action)
    except control.ControlError as exc:
        return _back(str(exc))
    return _back(f"Meeting {meeting_id} {'started' if action == 'start' else 'ended'}.")


@bp.post("/console/meetings/<int(max=9223372036854775807):meeting_id>/edit")
def console_edit_meeting(meeting_id: int) -> Response:
    """Edit a meeting as its host (or the user named) would on Zoom's web page."""
    try:
        control.edit_as_user(meeting_id, request.form.to_dict(), request.form.get("user"))
    except control.EditRefused as exc:
        return _back(exc.message)
    return _back(f"Meeting {meeting_id} changed; meeting.updated sent (if webhooks are on).")


@bp.post("/console/meetings/<int(max=9223372036854775807):meeting_id>/delete")
def console_delete_meeting(meeting_id: int) -> Response:
    """Delete a meeting as its host would on Zoom's web page."""
    try:
        control.delete_as_user(meeting_id, request.form.get("user"))
    except control.EditRefused as exc:
        return _back(exc.message)
    return _back(f"Meeting {meeting_id} deleted; meeting.deleted sent (if webhooks are on).")


@bp.post("/console/webhooks")
def console_webhooks() -> Response:
    """Switch webhook deliveries on or off."""
    enabled = request.form.get("enabled") == "1"
    control.set_webhooks(enabled)
    return _back("Webhooks switched " + ("on." if enabled else "off: changes go unsent."))


@bp.post("/console/app-scopes")
def console_app_scopes() -> Response:
    """Change the app registration's scopes (the checked boxes)."""
    try:
        scopes = control.set_app_scopes(request.form.getlist("scope"))
    except control.ControlError as exc:
        return _back(f"Scopes not changed: {exc}")
    return _back(f"The app is now registered with: {' '.join(scopes)}.")


@bp.post("/console/scheduling")
def console_scheduling() -> Response:
    """Give or take a scheduling privilege."""
    allow = request.form.get("action") != "forbid"
    scheduler, host = request.form.get("scheduler"), request.form.get("host")
    try:
        control.set_scheduling(scheduler, host, allow)
    except control.ControlError as exc:
        return _back(f"Scheduling privilege not changed: {exc}")
    verb = "may now" if allow else "may no longer"
    return _back(f"{scheduler} {verb} schedule meetings for {host}.")


@bp.post("/console/url-validation")
def console_url_validation() -> Response:
    """Send endpoint.url_validation to the webhook URL now."""
    result = url_validation.validate("console")
    outcome = "passed" if result["ok"] else "FAILED"
    return _back(f"URL validation {outcome} at {result['at']}: {result['detail']}.")
