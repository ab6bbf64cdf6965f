"""Which of the meetings Zoom lists Lakesis made for one booking, and removing the extras.

A create whose answer was lost may have made a meeting at once, or seconds later: the
booking's marker (``zoom.meetings.MarkerLookup``) finds them. A meeting another booking of
the workspace already holds is never one of them, whatever its agenda says: one Zoom
meeting belongs to one booking (the unique index on ``meetings``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Booking, Meeting
from dashboard.services.zoom_session import ZoomSession
from dashboard.zoom.errors import MeetingNotFound
from dashboard.zoom.meetings import MarkerLookup, marked_meetings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    #: Zoom's list items of the meetings Lakesis made for the booking, oldest first
    ours: list[dict]
    #: meetings carrying the booking's marker that another booking holds: {id: its ref}
    held_elsewhere: dict[int, str]

    def ids(self, *, besides: int | None = None) -> list[int]:
        return [int(meeting["id"]) for meeting in self.ours if int(meeting["id"]) != besides]

    def note(self) -> str | None:
        """What an operator should know about the refused ones, if any."""
        if not self.held_elsewhere:
            return None
        return " ".join(f"Zoom meeting {meeting_id} carries this booking's marker but "
                        f"belongs to booking {ref}; Lakesis left it alone."
                        for meeting_id, ref in self.held_elsewhere.items())[:500]


def find(zoom: ZoomSession, lookup: MarkerLookup, workspace_id: int,
         meeting_id: int) -> Found:
    """List the connected user's meetings (one Medium call per page; no create/update of
    the host's daily allowance) and keep those made for the booking whose meetings row is
    ``meeting_id``."""
    marked = marked_meetings(zoom.list_meetings(), lookup)
    held = holders(workspace_id, [int(meeting["id"]) for meeting in marked], besides=meeting_id)
    for zoom_id, ref in held.items():
        log.warning("Zoom meeting %s carries the marker of booking %s but belongs to booking "
                    "%s: refused", zoom_id, lookup.booking_public_id, ref)
    return Found([meeting for meeting in marked if int(meeting["id"]) not in held], held)


def holders(workspace_id: int, zoom_ids: Iterable[int], *,
            besides: int | None = None) -> dict[int, str]:
    """Which of ``zoom_ids`` a booking of the workspace holds (other than the meetings row
    ``besides``): {Zoom meeting id: the booking's external ref}.

    Ends its read transaction: no transaction is held while Zoom is called next.
    """
    zoom_ids = list(zoom_ids)
    if not zoom_ids:
        return {}
    query = (select(Meeting.zoom_meeting_id, Booking.external_ref).join(Meeting.booking)
             .where(Meeting.workspace_id == workspace_id, Meeting.zoom_meeting_id.in_(zoom_ids)))
    if besides is not None:
        query = query.where(Meeting.id != besides)
    held = {int(zoom_id): ref for zoom_id, ref in db.session.execute(query)}
    db.session.commit()
    return held


def delete(zoom: ZoomSession, zoom_ids: Iterable[int]) -> list[int]:
    """Delete each meeting; returns those deleted now (one already gone is not counted).

    Any other failure is raised: the operation is retried and deletes what is left."""
    deleted = []
    for zoom_id in zoom_ids:
        try:
            zoom.delete_meeting(zoom_id)
        except MeetingNotFound:
            continue
        deleted.append(zoom_id)
    return deleted
