"""Zoom's errors in plain words: what went wrong, what to do next, and who can do it.

``explain(code, status, message)`` reads what ``meeting_sync`` stores of a failure
(``Operation``/``Meeting.error_code``: Zoom's code, or ``daily-cap`` / ``429`` for a rate
limit, ``not-connected`` for a connection that cannot be used) and the HTTP status.
Pages show the cause and the next step; the raw code and Zoom's tracking id stay one
click away.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    title: str
    next_step: str
    #: who can act: "operator" (in Lakesis), "admin" (a Lakesis admin: the connection),
    #: "zoom_admin" (the Zoom account's admin), or "nobody" (Lakesis retries by itself)
    who_acts: str


RECONNECT = Cause("Zoom no longer accepts this workspace's connection.",
                  "A Lakesis admin reconnects Zoom under Settings → Integrations; waiting "
                  "work then runs by itself.", "admin")
RETRYING = Cause("Zoom could not answer just now.",
                 "Nothing to do: Lakesis tries again by itself, waiting longer each time.",
                 "nobody")
_CAUSES: dict[str, Cause] = {
    "1001": Cause("The host is not a user in your Zoom account.",
                  "Change the booking's host in the booking workflow to someone in your Zoom "
                  "account, then Retry.", "operator"),
    "3000": Cause("The connected Zoom user may not schedule meetings for this host.",
                  "Ask your Zoom admin to give the connected user scheduling privilege for "
                  "the host, then Retry.", "zoom_admin"),
    "3001": Cause("The meeting no longer exists in Zoom.",
                  "Recreate makes a new meeting (the booking gets a new join link).",
                  "operator"),
    "3002": Cause("The meeting is running in Zoom, so it cannot be deleted now.",
                  "Nothing to do: Lakesis deletes it once the meeting is over.", "nobody"),
    "3003": Cause("The connected Zoom user is not this meeting's host.",
                  "Ask your Zoom admin to make the connected user the host or give it "
                  "scheduling privilege, then Retry.", "zoom_admin"),
    "300": Cause("Zoom refused the meeting's details.",
                 "Check the booking's time, length and title in the booking workflow "
                 "(the raw message below names the field), then Retry.", "operator"),
    "4711": Cause("The Zoom app lacks a permission (scope) this needs.",
                  "A Lakesis admin reconnects Zoom and approves the permissions asked for.",
                  "admin"),
    "124": RECONNECT,
    "4741": RECONNECT,
    "4733": RECONNECT,
    "4735": RECONNECT,
    "4738": RECONNECT,
    "invalid_grant": RECONNECT,
    "not-connected": RECONNECT,
    "daily-cap": Cause("Zoom allows 100 meeting changes per host per day: resumes at 00:00 "
                       "UTC.", "Nothing to do: the work waits and runs by itself after "
                       "00:00 UTC.", "nobody"),
    "429": Cause("Zoom asked Lakesis to slow down (too many requests).",
                 "Nothing to do: Lakesis waits as Zoom asks and tries again.", "nobody"),
}
#: a failure Lakesis retries by itself ("nothing to do") once it has stopped retrying
GAVE_UP = Cause("Lakesis gave up retrying: Zoom kept failing.",
                "Retry once Zoom works again (Sync health shows how Zoom is doing).", "operator")
UNKNOWN = Cause("Zoom refused this.", "Retry; if it fails again, send the code and tracking "
                "id below to Zoom's support.", "operator")


def explain(code: str | int | None, status: int | None = None,
            message: str | None = None) -> Cause | None:
    """The plain cause of a Zoom failure, or None when there is nothing to explain."""
    key = str(code).strip() if code is not None else ""
    text = (message or "").lower()
    if key == "3000" and "schedule" not in text and text:
        return UNKNOWN
    if key in _CAUSES:
        return _CAUSES[key]
    if "invalid grant" in text or "invalid_grant" in text:
        return RECONNECT
    if "daily" in text and "limit" in text:
        return _CAUSES["daily-cap"]
    if status == 429:
        return _CAUSES["429"]
    if (status is not None and status >= 500) or "timed out" in text or "timeout" in text:
        return RETRYING
    if key.isdigit() and len(key) == 3 and key.startswith("5"):
        return RETRYING
    if not key and status is None and not text:
        return None
    return UNKNOWN


def after_giving_up(cause: Cause | None) -> Cause | None:
    """``cause`` for work Lakesis has stopped retrying: "nothing to do, Lakesis tries again"
    no longer holds, so it is the operator's to retry."""
    return GAVE_UP if cause is not None and cause.who_acts == "nobody" else cause
