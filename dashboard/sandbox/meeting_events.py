"""Payloads of the meeting webhooks the sandbox sends (shapes from Zoom's docs)."""

from __future__ import annotations

from typing import Any

from .clock import iso

_BRIEF = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone")


def _operator(user: dict[str, Any]) -> dict[str, str]:
    return {"operator": user["email"], "operator_id": user["id"]}


def created(meeting: dict[str, Any], account_id: str, by: dict[str, Any]) -> dict[str, Any]:
    """``meeting.created``: who created it and the meeting, its ``password`` included
    (no start_url: it is the host's key)."""
    keys = (*_BRIEF, "join_url", "password", "agenda", "settings")
    obj = {key: meeting[key] for key in keys}
    return {"account_id": account_id, **_operator(by), "object": obj}


def updated(
    meeting: dict[str, Any],
    account_id: str,
    by: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    now_ts: float,
) -> dict[str, Any]:
    """``meeting.updated``: id plus changed fields, their old values, and when."""
    ids = {"id": meeting["id"], "uuid": meeting["uuid"]}
    return {
        "account_id": account_id,
        **_operator(by),
        "object": {**ids, **new},
        "old_object": {**ids, **old},
        "time_stamp": int(now_ts * 1000),
    }


def deleted(meeting: dict[str, Any], account_id: str, by: dict[str, Any]) -> dict[str, Any]:
    """``meeting.deleted``: who deleted it and the meeting's brief. Zoom's deleted events
    may lack ``operator_id``; the product copes with both (its own tests send it without),
    and the sandbox sends it so a deletion by a colleague can be told apart."""
    return {
        "account_id": account_id,
        **_operator(by),
        "object": {k: meeting[k] for k in _BRIEF},
    }


def started(meeting: dict[str, Any], account_id: str, now_ts: float) -> dict[str, Any]:
    """``meeting.started``: ``object.id`` is a string here, as in Zoom's samples."""
    obj = {key: meeting[key] for key in _BRIEF}
    obj.update(id=str(meeting["id"]), start_time=iso(now_ts))
    return {"account_id": account_id, "object": obj}


def ended(
    meeting: dict[str, Any], account_id: str, started_ts: float | None, now_ts: float
) -> dict[str, Any]:
    """``meeting.ended``: as started, plus ``end_time``."""
    payload = started(meeting, account_id, started_ts if started_ts is not None else now_ts)
    payload["object"]["end_time"] = iso(now_ts)
    return payload
