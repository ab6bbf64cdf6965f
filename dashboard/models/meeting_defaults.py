"""A workspace's settings for the Zoom meetings Lakesis makes, and Lakesis' own defaults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.orm import utcnow

# Lakesis' meeting settings until a workspace saves its own (column defaults and
# ``MeetingDefaults.lakesis`` both read them).
LAKESIS_MEETING_DEFAULTS = {
    "waiting_room": True, "join_before_host": False, "mute_upon_entry": True,
    "host_video": True, "participant_video": False, "default_duration_minutes": 30,
}


class MeetingDefaults(db.Model):
    """A workspace's settings for new and rescheduled meetings. Nothing here records."""

    __tablename__ = "meeting_defaults"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    waiting_room: Mapped[bool] = mapped_column(
        default=LAKESIS_MEETING_DEFAULTS["waiting_room"])
    join_before_host: Mapped[bool] = mapped_column(
        default=LAKESIS_MEETING_DEFAULTS["join_before_host"])
    mute_upon_entry: Mapped[bool] = mapped_column(
        default=LAKESIS_MEETING_DEFAULTS["mute_upon_entry"])
    host_video: Mapped[bool] = mapped_column(default=LAKESIS_MEETING_DEFAULTS["host_video"])
    participant_video: Mapped[bool] = mapped_column(
        default=LAKESIS_MEETING_DEFAULTS["participant_video"])
    default_duration_minutes: Mapped[int] = mapped_column(
        default=LAKESIS_MEETING_DEFAULTS["default_duration_minutes"])
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @classmethod
    def lakesis(cls, workspace_id: int) -> MeetingDefaults:
        """A new (unsaved) row holding Lakesis' own defaults."""
        return cls(workspace_id=workspace_id, **LAKESIS_MEETING_DEFAULTS)
