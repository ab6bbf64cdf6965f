"""A workspace's meeting defaults and time zone: read, change, audit what changed."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.extensions import db
from dashboard.models import MeetingDefaults, Workspace
from dashboard.services import ServiceError
from dashboard.services.audit import Actor, record
from dashboard.services.booking_input import MAX_DURATION, MIN_DURATION, is_timezone
from dashboard.services.unit_of_work import transaction

SWITCHES = ("waiting_room", "join_before_host", "mute_upon_entry", "host_video",
            "participant_video")


@dataclass(frozen=True)
class Settings:
    """What the form edits: the meeting switches, the default length and the time zone."""

    waiting_room: bool
    join_before_host: bool
    mute_upon_entry: bool
    host_video: bool
    participant_video: bool
    default_duration_minutes: int
    timezone: str


def current(workspace: Workspace) -> Settings:
    """The workspace's settings (Lakesis' defaults until someone saves their own)."""
    defaults = defaults_for(workspace.id)
    return Settings(**{name: getattr(defaults, name) for name in SWITCHES},
                    default_duration_minutes=defaults.default_duration_minutes,
                    timezone=workspace.timezone)


def update(workspace: Workspace, actor: Actor, wanted: Settings) -> list[str]:
    """Save ``wanted``; returns the names of the fields that changed (audited together)."""
    if not MIN_DURATION <= wanted.default_duration_minutes <= MAX_DURATION:
        raise ServiceError(f"Must be between {MIN_DURATION} and {MAX_DURATION} minutes.",
                           "default_duration_minutes")
    if not is_timezone(wanted.timezone):
        raise ServiceError("Must be an IANA time zone such as Europe/Lisbon.", "timezone")
    before = current(workspace)
    changed = {name: value for name, value in vars(wanted).items()
               if getattr(before, name) != value}
    if not changed:
        return []
    with transaction():
        defaults = db.session.get(MeetingDefaults, workspace.id)
        if defaults is None:
            defaults = defaults_for(workspace.id)  # a fresh row holding Lakesis' defaults
            db.session.add(defaults)
        for name, value in changed.items():
            if name == "timezone":
                workspace.timezone = value
            else:
                setattr(defaults, name, value)
        record(workspace.id, actor, "meeting_defaults.updated",
               ("workspace", workspace.id, workspace.name), **changed)
    return sorted(changed)


def defaults_for(workspace_id: int) -> MeetingDefaults:
    """The workspace's saved meeting settings, or Lakesis' own (unsaved) until it has some."""
    return db.session.get(MeetingDefaults, workspace_id) or MeetingDefaults.lakesis(
        workspace_id)
