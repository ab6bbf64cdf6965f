"""Test and demo controls under ``/_control``: faults (switches and rates), clock, reset,
state, the meeting store, meeting life, the app registration's scopes, scheduling
privileges and URL validation (grants: ``grant_controls``).

Plain functions do the work so the HTML console can offer the same switches.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, request

from . import (
    clock,
    directory,
    faults,
    grants,
    meeting_events,
    meeting_store,
    registration,
    responses,
    url_validation,
)
from .blueprint import bp
from .storage import RESETTABLE, meetings, read_counters, transaction
from .webhooks_out import send_event, webhooks_enabled
from .zoom_user_edits import EditRefused, set_webhooks
from .zoom_user_edits import delete as delete_as_user
from .zoom_user_edits import edit as edit_as_user


class ControlError(Exception):
    """A control request that cannot be done, with the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def arm_fault(spec: dict[str, Any]) -> faults.Fault:
    """Arm a fault from ``{"endpoint", "mode", "count"?, "delay"?}``."""
    try:
        count = spec.get("count")
        count = None if count in (None, "") else int(count)
        delay = float(spec.get("delay") or 0)
        with transaction() as conn:
            return faults.arm(conn, str(spec.get("endpoint")), str(spec.get("mode")), count, delay)
    except (TypeError, ValueError) as exc:
        raise ControlError(str(exc)) from exc


def arm_fault_rate(spec: dict[str, Any]) -> faults.FaultRate:
    """Arm a fault rate from ``{"endpoint", "mode", "rate", "delay"?}``."""
    try:
        rate = float(spec.get("rate"))  # type: ignore[arg-type]
        delay = float(spec.get("delay") or 0)
        with transaction() as conn:
            return faults.arm_rate(
                conn, str(spec.get("endpoint")), str(spec.get("mode")), rate, delay
            )
    except (TypeError, ValueError) as exc:
        raise ControlError(str(exc)) from exc


def stored_meetings() -> list[dict[str, Any]]:
    """Every meeting the sandbox holds, deleted ones included (``deleted``), without the
    host's start_url or the passcode: the truth a test compares the app's records with."""
    with transaction() as conn:
        rows = meeting_store.all_meetings(conn)
    hidden = ("start_url", "password", "settings")
    return [{k: v for k, v in row.items() if k not in hidden} for row in rows]


def clear_faults() -> None:
    """Disarm every fault (switches and rates)."""
    with transaction() as conn:
        faults.clear(conn)


def move_clock(advance_seconds: float | None = None, reset: bool = False) -> dict[str, Any]:
    """Advance or reset the sandbox clock; return the new time and offset.

    Moving the clock past the 72 h mark sends the scheduled URL validation (its result is
    in ``url_validation``, else None).
    """
    with transaction() as conn:
        url_validation.ensure_anchor(conn)
        if reset:
            clock.reset(conn)
        if advance_seconds:
            clock.advance(conn, float(advance_seconds))
        result = {"now": clock.iso(clock.now_ts(conn)), "offset_seconds": clock.offset(conn)}
    return {**result, "url_validation": url_validation.run_if_due()}


def reset_all() -> None:
    """Wipe grants, codes, meetings, faults, counters, rate windows, the clock offset, the
    registration's scopes and URL validations; put the seeded scheduling privileges back."""
    with transaction() as conn:
        for table in RESETTABLE:
            conn.execute(table.delete())
        directory.seed_scheduling(conn)
        url_validation.ensure_anchor(conn)


def set_app_scopes(scopes: Any) -> list[str]:
    """Change the app registration's scopes (space- or comma-separated, or a list)."""
    if not isinstance(scopes, (str, list)):
        raise ControlError("scopes must be a string or a list of strings")
    try:
        with transaction() as conn:
            return registration.set_app_scopes(conn, scopes)
    except registration.RegistrationError as exc:
        raise ControlError(str(exc)) from exc


def set_scheduling(scheduler_ref: Any, host_ref: Any, allow: bool) -> list[dict[str, str]]:
    """Give or take a scheduling privilege (users by id or email, same account)."""
    with transaction() as conn:
        scheduler = directory.find_user(conn, str(scheduler_ref or ""))
        host = directory.find_user(conn, str(host_ref or ""))
        if scheduler is None or host is None:
            raise ControlError("scheduler and host must be sandbox users (id or email)", 404)
        if scheduler["id"] == host["id"]:
            raise ControlError("a user always schedules for themselves")
        if scheduler["account_id"] != host["account_id"]:
            raise ControlError("scheduling privilege only exists within one account")
        if allow:
            directory.allow_scheduling(conn, scheduler["id"], host["id"])
        else:
            directory.forbid_scheduling(conn, scheduler["id"], host["id"])
    return scheduling_list()


def scheduling_list() -> list[dict[str, str]]:
    """Every scheduling privilege as ``{"scheduler", "host"}`` (ids)."""
    with transaction() as conn:
        pairs = directory.scheduling_privileges(conn)
    return [{"scheduler": scheduler, "host": host} for scheduler, host in pairs]


def snapshot() -> dict[str, Any]:
    """Counters and totals for tests and the console."""
    with transaction() as conn:
        now_ts = clock.now_ts(conn)
        counts = read_counters(conn)
        live = len(grants.live_grants(conn, now_ts))
        by_status = dict(
            conn.execute(
                sa.select(meetings.c.status, sa.func.count())
                .where(meetings.c.deleted_at.is_(None))
                .group_by(meetings.c.status)
            ).all()
        )
        deleted = conn.execute(
            sa.select(sa.func.count()).where(meetings.c.deleted_at.is_not(None))
        ).scalar_one()
        armed = faults.armed(conn)
        rates = faults.armed_rates(conn)
        offset = clock.offset(conn)
        app_scopes = " ".join(registration.app_scopes(conn))
        sending = webhooks_enabled(conn)
    return {
        "now": clock.iso(now_ts),
        "clock_offset_seconds": offset,
        "requests": {name: counts.get(f"requests:{name}", 0) for name in faults.ENDPOINTS},
        "refreshes_served": counts.get("refreshes_served", 0),
        "successful_refreshes": counts.get("successful_refreshes", 0),
        "live_grants": live,
        "meetings": {
            **{status: by_status.get(status, 0) for status in ("waiting", "started", "finished")},
            "deleted": deleted,
        },
        "webhooks": {
            "delivered": counts.get("webhooks_delivered", 0),
            "failed": counts.get("webhook_failures", 0),
            "suppressed": counts.get("webhooks_suppressed", 0),
            "enabled": sending,
        },
        "faults": [vars(fault) for fault in armed],
        "fault_rates": [vars(rate) for rate in rates],
        "app_scopes": app_scopes,
        "scheduling": scheduling_list(),
        "url_validations": url_validation.history(),
        "url_validation_next_due": url_validation.next_due(),
    }


def change_meeting_status(meeting_id: int, action: str) -> dict[str, Any]:
    """Start or end a meeting as if the host did it in Zoom, and send the webhook."""
    with transaction() as conn:
        row = meeting_store.get(conn, meeting_id)
        if row is None or row.deleted_at is not None:
            raise ControlError(f"Meeting does not exist: {meeting_id}.", 404)
        now_ts = clock.now_ts(conn)
        meeting = meeting_store.present(row)
        if action == "start":
            if row.status == "started":
                raise ControlError(f"Meeting {meeting_id} is already in progress", 409)
            meeting_store.set_status(conn, meeting_id, "started", now_ts)
            payload = meeting_events.started(meeting, row.account_id, now_ts)
            event = "meeting.started"
        else:
            if row.status != "started":
                raise ControlError(f"Meeting {meeting_id} is not in progress", 409)
            meeting_store.set_status(conn, meeting_id, "finished", now_ts)
            payload = meeting_events.ended(meeting, row.account_id, row.started_at, now_ts)
            event = "meeting.ended"
        meeting = meeting_store.present(meeting_store.get(conn, meeting_id))
    send_event(event, payload)
    return meeting


def _json() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def _refusal(exc: ControlError) -> Response:
    return responses.json_response({"error": str(exc)}, exc.status)


@bp.post("/_control/faults")
def control_arm_fault() -> Response:
    """Arm a fault switch (JSON)."""
    try:
        arm_fault(_json())
    except ControlError as exc:
        return _refusal(exc)
    return responses.json_response({"faults": snapshot()["faults"]})


@bp.post("/_control/fault_rates")
def control_arm_fault_rate() -> Response:
    """Arm a fault rate (JSON); ``DELETE /_control/faults`` clears rates too."""
    try:
        arm_fault_rate(_json())
    except ControlError as exc:
        return _refusal(exc)
    return responses.json_response({"fault_rates": snapshot()["fault_rates"]})


@bp.get("/_control/meetings")
def control_meetings() -> Response:
    """Every stored meeting, deleted ones too: ``{"meetings": [...]}``."""
    return responses.json_response({"meetings": stored_meetings()})


@bp.delete("/_control/faults")
def control_clear_faults() -> Response:
    """Disarm every fault switch."""
    clear_faults()
    return responses.json_response({"faults": []})


@bp.post("/_control/clock")
def control_clock() -> Response:
    """``{"advance_seconds": n}`` or ``{"reset": true}``."""
    body = _json()
    try:
        advance = float(body.get("advance_seconds") or 0)
    except (TypeError, ValueError):
        return responses.json_response({"error": "advance_seconds must be a number"}, 400)
    return responses.json_response(move_clock(advance, bool(body.get("reset"))))


@bp.post("/_control/reset")
def control_reset() -> Response:
    """Wipe everything but the seeded users."""
    reset_all()
    return responses.json_response({"status": "reset"})


@bp.get("/_control/state")
def control_state() -> Response:
    """Counters for tests: requests per endpoint, refreshes, grants, meetings, webhooks."""
    return responses.json_response(snapshot())


@bp.post("/_control/meetings/<int(max=9223372036854775807):meeting_id>"
         "/<any(start, end):action>")  # Zoom meeting ids are 64-bit
def control_meeting(meeting_id: int, action: str) -> Response:
    """Start or end a meeting (sends meeting.started / meeting.ended)."""
    try:
        return responses.json_response(change_meeting_status(meeting_id, action))
    except ControlError as exc:
        return _refusal(exc)


@bp.post("/_control/meetings/<int(max=9223372036854775807):meeting_id>/edit")
def control_edit_meeting(meeting_id: int) -> Response:
    """Edit a meeting as a Zoom user would on Zoom's web page: JSON ``start_time``,
    ``duration``, ``topic``, ``password`` and ``user`` (id or email; default: the host)."""
    body = _json()
    try:
        return responses.json_response(edit_as_user(meeting_id, body, body.get("user")))
    except EditRefused as exc:
        return _refusal(ControlError(exc.message, exc.status))


@bp.post("/_control/meetings/<int(max=9223372036854775807):meeting_id>/delete")
def control_delete_meeting(meeting_id: int) -> Response:
    """Delete a meeting as a Zoom user would on Zoom's web page (JSON ``user``)."""
    try:
        delete_as_user(meeting_id, _json().get("user"))
    except EditRefused as exc:
        return _refusal(ControlError(exc.message, exc.status))
    return responses.json_response({"deleted": meeting_id})


@bp.post("/_control/webhooks")
def control_webhooks() -> Response:
    """Switch webhook deliveries on or off: JSON ``{"enabled": false}``."""
    enabled = _json().get("enabled")
    if not isinstance(enabled, bool):
        return _refusal(ControlError("enabled must be true or false"))
    set_webhooks(enabled)
    return responses.json_response({"enabled": enabled})


@bp.get("/_control/app")
def control_app() -> Response:
    """The app registration: ``{"scopes": "..."}``."""
    with transaction() as conn:
        return responses.json_response({"scopes": " ".join(registration.app_scopes(conn))})


@bp.post("/_control/app")
def control_set_app() -> Response:
    """``{"scopes": "a b c"}`` (or a list): change the registration's scopes."""
    try:
        scopes = set_app_scopes(_json().get("scopes"))
    except ControlError as exc:
        return _refusal(exc)
    return responses.json_response({"scopes": " ".join(scopes)})


@bp.post("/_control/scheduling")
def control_scheduling() -> Response:
    """``{"scheduler": id|email, "host": id|email, "allow": true|false}``."""
    body = _json()
    try:
        pairs = set_scheduling(
            body.get("scheduler"), body.get("host"), bool(body.get("allow", True))
        )
    except ControlError as exc:
        return _refusal(exc)
    return responses.json_response({"scheduling": pairs})


@bp.post("/_control/url_validation")
def control_url_validation() -> Response:
    """Send ``endpoint.url_validation`` now; answers the sandbox's judgement."""
    return responses.json_response(url_validation.validate("control"))
